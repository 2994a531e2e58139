"""saved cards (billing keys) and card charges (issue 25)

``payment_cards``: one row per user × card, the gateway's customer_uid and what it shows of the card
(never a card number). ``card_charges``: one row per order paid with a saved card, written before
the gateway is asked (the order is the idempotency key).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_cards',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('customer_uid', sa.String(length=80), nullable=False),
    sa.Column('customer_id', sa.String(length=100), nullable=True),
    sa.Column('issue_order_key', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('card_name', sa.String(length=64), nullable=True),
    sa.Column('card_number', sa.String(length=32), nullable=True),
    sa.Column('card_type', sa.Integer(), nullable=True),
    sa.Column('pg_provider', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_uid')
    )
    op.create_index('ix_payment_cards_user_status', 'payment_cards', ['user_id', 'status', 'created_at'], unique=False)
    op.create_table('card_charges',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('card_id', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payment_id', sa.String(length=32), nullable=True),
    sa.Column('fail_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['payment_cards.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_index('ix_card_charges_card_id', 'card_charges', ['card_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_card_charges_card_id', table_name='card_charges')
    op.drop_table('card_charges')
    op.drop_index('ix_payment_cards_user_status', table_name='payment_cards')
    op.drop_table('payment_cards')
