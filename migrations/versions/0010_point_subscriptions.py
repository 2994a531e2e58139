"""point subscriptions (정기 충전, issue 25)

``point_subscriptions``: a monthly top-up on a saved card, one live per user (partial unique index),
claimed by the runner with a lease. ``point_subscription_attempts``: one row per charge attempt of a
cycle, written before the gateway is asked; one per (subscription, cycle, attempt), at most one paid
per (subscription, cycle).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

LIVE = "status IN ('CREATING', 'ACTIVE', 'PAST_DUE')"
PAID = "state = 'paid'"


def upgrade() -> None:
    op.create_table('point_subscriptions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('card_id', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('billing_day', sa.Integer(), nullable=False),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('next_charge_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.String(length=32), nullable=True),
    sa.Column('last_charged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_reason', sa.String(length=200), nullable=True),
    sa.Column('ended_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount > 0', name='ck_point_subscriptions_amount_positive'),
    sa.CheckConstraint('billing_day BETWEEN 1 AND 31', name='ck_point_subscriptions_billing_day'),
    sa.ForeignKeyConstraint(['card_id'], ['payment_cards.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_point_subscriptions_user_created', 'point_subscriptions', ['user_id', 'created_at'], unique=False)
    op.create_index('ix_point_subscriptions_card', 'point_subscriptions', ['card_id'], unique=False)
    op.create_index('ix_point_subscriptions_next_charge_at', 'point_subscriptions', ['next_charge_at'], unique=False)
    op.create_index('uq_point_subscriptions_live_user', 'point_subscriptions', ['user_id'], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_table('point_subscription_attempts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('subscription_id', sa.String(length=32), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('order_key', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payment_id', sa.String(length=32), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ),
    sa.ForeignKeyConstraint(['subscription_id'], ['point_subscriptions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id'),
    sa.UniqueConstraint('subscription_id', 'cycle', 'attempt', name='uq_point_subscription_attempts_key')
    )
    op.create_index('uq_point_subscription_attempts_paid_cycle', 'point_subscription_attempts',
                    ['subscription_id', 'cycle'], unique=True,
                    sqlite_where=sa.text(PAID), postgresql_where=sa.text(PAID))
    op.create_index('ix_point_subscription_attempts_state_updated', 'point_subscription_attempts',
                    ['state', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_point_subscription_attempts_state_updated', table_name='point_subscription_attempts')
    op.drop_index('uq_point_subscription_attempts_paid_cycle', table_name='point_subscription_attempts')
    op.drop_table('point_subscription_attempts')
    op.drop_index('uq_point_subscriptions_live_user', table_name='point_subscriptions')
    op.drop_index('ix_point_subscriptions_next_charge_at', table_name='point_subscriptions')
    op.drop_index('ix_point_subscriptions_card', table_name='point_subscriptions')
    op.drop_index('ix_point_subscriptions_user_created', table_name='point_subscriptions')
    op.drop_table('point_subscriptions')
