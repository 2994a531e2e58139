"""payments and points ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('payments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('imp_uid', sa.String(length=100), nullable=True),
    sa.Column('merchant_uid', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('order_amount', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_amount', sa.BigInteger(), nullable=False),
    sa.Column('credited_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pay_method', sa.String(length=32), nullable=True),
    sa.Column('pg_provider', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('anomaly', sa.String(length=64), nullable=True),
    sa.Column('vbank_name', sa.String(length=64), nullable=True),
    sa.Column('vbank_code', sa.String(length=16), nullable=True),
    sa.Column('vbank_num', sa.String(length=64), nullable=True),
    sa.Column('vbank_holder', sa.String(length=64), nullable=True),
    sa.Column('vbank_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=True),
    sa.Column('credited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('imp_uid'),
    sa.UniqueConstraint('merchant_uid')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_status'), ['status'], unique=False)
        batch_op.create_index('ix_payments_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('point_transactions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('payment_id', sa.String(length=32), nullable=True),
    sa.Column('entry_key', sa.String(length=140), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('imp_uid', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_key')
    )
    with op.batch_alter_table('point_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_transactions_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_point_tx_user_created', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_point_tx_user_status_created', ['user_id', 'status', 'created_at', 'id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('point_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_point_tx_user_status_created')
        batch_op.drop_index('ix_point_tx_user_created')
        batch_op.drop_index(batch_op.f('ix_point_transactions_payment_id'))

    op.drop_table('point_transactions')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_user_created')
        batch_op.drop_index(batch_op.f('ix_payments_status'))

    op.drop_table('payments')
    
