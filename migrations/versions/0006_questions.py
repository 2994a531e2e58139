"""used-item questions and their answers (codecamp's UseditemQuestion / UseditemQuestionAnswer)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('useditem_questions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('useditem_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('contents', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['useditem_id'], ['useditems.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('useditem_questions', schema=None) as batch_op:
        batch_op.create_index('ix_useditem_questions_item_created', ['useditem_id', 'created_at', 'id'], unique=False)

    op.create_table('useditem_question_answers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('contents', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['useditem_questions.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('useditem_question_answers', schema=None) as batch_op:
        batch_op.create_index('ix_useditem_question_answers_question_created', ['question_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('useditem_question_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_useditem_question_answers_question_created')
    op.drop_table('useditem_question_answers')
    with op.batch_alter_table('useditem_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_useditem_questions_item_created')
    op.drop_table('useditem_questions')
