"""orders and payment attempts

An order (preparePointCharge) becomes its own row in ``orders``; ``payments`` holds every attempt
PortOne reports, unique per (provider, imp_uid) instead of per imp_uid and per merchant_uid.

Existing rows are carried over: every payment row that was a prepared order (``order_amount`` set)
gives an ``orders`` row with the same id, and its attempt (if it has an imp_uid) points to it.
Prepared orders never attempted (no imp_uid) leave ``payments``: they were never a payment. Their
``prepare`` events are audit rows of an order, not of a payment, and go with them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# SQLite reflects 0002's unnamed UNIQUE constraints without names; batch mode names them by this.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        'orders',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('merchant_uid', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider', 'merchant_uid', name='uq_orders_provider_merchant_uid'),
    )
    op.create_index('ix_orders_user_created', 'orders', ['user_id', 'created_at'], unique=False)

    op.execute(
        "INSERT INTO orders (id, provider, merchant_uid, user_id, amount, created_at)"
        " SELECT id, provider, merchant_uid, user_id, order_amount, created_at FROM payments"
        " WHERE order_amount IS NOT NULL AND user_id IS NOT NULL"
    )
    never_attempted = (
        "SELECT id FROM payments WHERE imp_uid IS NULL"
        " AND id NOT IN (SELECT payment_id FROM point_transactions WHERE payment_id IS NOT NULL)"
        " AND id NOT IN (SELECT payment_id FROM cancel_requests)"
    )
    op.execute(f"DELETE FROM payment_events WHERE payment_id IN ({never_attempted})")
    op.execute(f"DELETE FROM payments WHERE id IN ({never_attempted})")

    # 0002 declared UNIQUE(imp_uid) and UNIQUE(merchant_uid) without names: PostgreSQL named them
    # (payments_imp_uid_key…), SQLite did not (batch mode names them by _SQLITE_NAMES).
    bind = op.get_bind()
    singles = [
        uc["name"] or f"uq_payments_{uc['column_names'][0]}"
        for uc in sa.inspect(bind).get_unique_constraints("payments")
        if uc["column_names"] in (["imp_uid"], ["merchant_uid"])
    ]
    with op.batch_alter_table('payments', schema=None, naming_convention=_SQLITE_NAMES) as batch_op:
        for name in singles:
            batch_op.drop_constraint(name, type_='unique')
        batch_op.add_column(sa.Column('order_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('imp_uid', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_unique_constraint('uq_payments_provider_imp_uid', ['provider', 'imp_uid'])
        batch_op.create_foreign_key('fk_payments_order_id_orders', 'orders', ['order_id'], ['id'])
        batch_op.create_index('ix_payments_order_id', ['order_id'], unique=False)
        batch_op.create_index('ix_payments_merchant_uid', ['merchant_uid'], unique=False)

    op.execute("UPDATE payments SET order_id = id WHERE id IN (SELECT id FROM orders)")


def downgrade() -> None:
    # Only possible while every order has at most one attempt and no id is used by both providers
    # (the unique constraints below refuse otherwise): the old schema cannot hold more.
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_merchant_uid')
        batch_op.drop_index('ix_payments_order_id')
        batch_op.drop_constraint('fk_payments_order_id_orders', type_='foreignkey')
        batch_op.drop_constraint('uq_payments_provider_imp_uid', type_='unique')
        batch_op.alter_column('imp_uid', existing_type=sa.String(length=100), nullable=True)
        batch_op.create_unique_constraint('payments_imp_uid_key', ['imp_uid'])
        batch_op.create_unique_constraint('payments_merchant_uid_key', ['merchant_uid'])
    op.execute(
        "INSERT INTO payments (id, provider, imp_uid, merchant_uid, user_id, order_amount, amount,"
        " cancelled_amount, credited_amount, currency, status, created_at, updated_at)"
        " SELECT o.id, o.provider, NULL, o.merchant_uid, o.user_id, o.amount, 0, 0, 0, 'KRW', 'prepared',"
        " o.created_at, o.created_at FROM orders o"
        " WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)"
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('order_id')
    op.drop_index('ix_orders_user_created', table_name='orders')
    op.drop_table('orders')
