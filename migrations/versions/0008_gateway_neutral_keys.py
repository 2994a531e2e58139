"""gateway-neutral key columns

``imp_uid`` and ``merchant_uid`` are PortOne V1's words; with a second vendor (Bootpay's
``receipt_id``/``order_id``) the core names what they are: the gateway's id of a payment
(``payment_key``, as ``webhook_deliveries`` already says) and the merchant's id of the order it was
made for (``order_key``). Renames only, with the constraints and indexes named after them.

PostgreSQL renames in place (no index is rebuilt); SQLite cannot rename a constraint, so its
tables are recreated in batch mode (as in 0004).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_KEY = sa.String(length=100)


def _rename(pay_old: str, order_old: str, pay_new: str, order_new: str) -> None:
    """The payment id column (payments, point_transactions) and the order id column (payments,
    orders) renamed, with the constraint and index names that carry them."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('payments', pay_old, new_column_name=pay_new)
        op.alter_column('payments', order_old, new_column_name=order_new)
        op.execute(f"ALTER TABLE payments RENAME CONSTRAINT uq_payments_provider_{pay_old}"
                   f" TO uq_payments_provider_{pay_new}")
        op.execute(f"ALTER INDEX ix_payments_{order_old} RENAME TO ix_payments_{order_new}")
        op.alter_column('orders', order_old, new_column_name=order_new)
        op.execute(f"ALTER TABLE orders RENAME CONSTRAINT uq_orders_provider_{order_old}"
                   f" TO uq_orders_provider_{order_new}")
        op.alter_column('point_transactions', pay_old, new_column_name=pay_new)
        return
    # A constraint created in the batch that renames its column is silently lost: two batches.
    op.drop_index(f'ix_payments_{order_old}', table_name='payments')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(f'uq_payments_provider_{pay_old}', type_='unique')
        batch_op.alter_column(pay_old, new_column_name=pay_new, existing_type=_KEY, existing_nullable=False)
        batch_op.alter_column(order_old, new_column_name=order_new, existing_type=_KEY, existing_nullable=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_unique_constraint(f'uq_payments_provider_{pay_new}', ['provider', pay_new])
    op.create_index(f'ix_payments_{order_new}', 'payments', [order_new], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(f'uq_orders_provider_{order_old}', type_='unique')
        batch_op.alter_column(order_old, new_column_name=order_new, existing_type=_KEY, existing_nullable=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_unique_constraint(f'uq_orders_provider_{order_new}', ['provider', order_new])
    with op.batch_alter_table('point_transactions', schema=None) as batch_op:
        batch_op.alter_column(pay_old, new_column_name=pay_new, existing_type=_KEY, existing_nullable=True)


def upgrade() -> None:
    _rename("imp_uid", "merchant_uid", "payment_key", "order_key")


def downgrade() -> None:
    _rename("payment_key", "order_key", "imp_uid", "merchant_uid")
