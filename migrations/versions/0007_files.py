"""uploaded files (uploadFile's FileManager)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('file_uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('is_used', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('file_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_file_uploads_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_file_uploads_unused', ['is_used', 'deleted_at', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('file_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_file_uploads_unused')
        batch_op.drop_index('ix_file_uploads_user_id')
    op.drop_table('file_uploads')
