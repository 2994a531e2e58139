"""Migration 0004 (orders and payment attempts) on a database populated by revision 0003: every
existing row is carried over, the new constraints hold, and the services work on the result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from api.migrate import alembic_config

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T = sa.DateTime(timezone=True)
users = sa.table("users", *(sa.column(c) for c in ("id", "email", "name", "password_hash")),
                 sa.column("created_at", T), sa.column("updated_at", T))
points = sa.table("user_points", *(sa.column(c) for c in ("id", "user_id", "amount")),
                  sa.column("created_at", T), sa.column("updated_at", T))
payments = sa.table(
    "payments",
    *(sa.column(c) for c in ("id", "provider", "imp_uid", "merchant_uid", "user_id", "order_amount", "amount",
                             "cancelled_amount", "credited_amount", "currency", "status", "pay_method")),
    sa.column("credited_at", T), sa.column("created_at", T), sa.column("updated_at", T),
)
events = sa.table("payment_events", *(sa.column(c) for c in ("id", "payment_id", "to_status", "source")),
                  sa.column("created_at", T))
# The same table at head (0008 renamed imp_uid/merchant_uid to payment_key/order_key).
payments_at_head = sa.table(
    "payments",
    *(sa.column(c) for c in ("id", "provider", "payment_key", "order_key", "user_id", "order_amount", "amount",
                             "cancelled_amount", "credited_amount", "currency", "status", "pay_method")),
    sa.column("credited_at", T), sa.column("created_at", T), sa.column("updated_at", T),
)
entries = sa.table("point_transactions",
                   *(sa.column(c) for c in ("id", "user_id", "payment_id", "entry_key", "status", "amount",
                                            "balance", "imp_uid", "detail")),
                   sa.column("created_at", T))


def _payment(id_: str, imp_uid: str | None, merchant_uid: str, user: str | None, order_amount: int | None,
             status: str, credited: bool, provider: str = "portone_v1") -> dict:
    amount = 0 if status == "prepared" else (order_amount or 3000)
    return dict(id=id_, provider=provider, imp_uid=imp_uid, merchant_uid=merchant_uid, user_id=user,
                order_amount=order_amount, amount=amount, cancelled_amount=0,
                credited_amount=amount if credited else 0, currency="KRW", status=status, pay_method="card",
                credited_at=NOW if credited else None, created_at=NOW, updated_at=NOW)


def _at_head(row: dict) -> dict:
    renamed = {"imp_uid": "payment_key", "merchant_uid": "order_key"}
    return {renamed.get(k, k): v for k, v in row.items()}


async def _populate_0003(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(users.insert(), [
                dict(id="u1", email="a@example.com", name="a", password_hash="x", created_at=NOW, updated_at=NOW),
            ])
            await conn.execute(points.insert(), [dict(id="b1", user_id="u1", amount=13000, created_at=NOW,
                                                      updated_at=NOW)])
            await conn.execute(payments.insert(), [
                # a prepared order nobody paid yet
                _payment("p_waiting", None, "order-waiting", "u1", 5000, "prepared", False),
                # a prepared order paid and credited
                _payment("p_paid", "imp_1", "order-paid", "u1", 10000, "paid", True),
                # the codecamp flow: no order, claimed and credited
                _payment("p_codecamp", "imp_2", "codecamp-1", "u1", None, "paid", True),
                # paid, nobody claimed it yet
                _payment("p_unclaimed", "imp_3", "elsewhere-1", None, None, "paid", False),
            ])
            await conn.execute(events.insert(), [
                dict(id="e1", payment_id="p_waiting", to_status="prepared", source="prepare", created_at=NOW),
                dict(id="e2", payment_id="p_paid", to_status="prepared", source="prepare", created_at=NOW),
                dict(id="e3", payment_id="p_paid", to_status="paid", source="mutation", created_at=NOW),
            ])
            await conn.execute(entries.insert(), [
                dict(id="t1", user_id="u1", payment_id="p_paid", entry_key="charge:p_paid", status="충전",
                     amount=10000, balance=10000, imp_uid="imp_1", detail="신용카드 충전", created_at=NOW),
                dict(id="t2", user_id="u1", payment_id="p_codecamp", entry_key="charge:p_codecamp", status="충전",
                     amount=3000, balance=13000, imp_uid="imp_2", detail="신용카드 충전", created_at=NOW),
            ])
    finally:
        await engine.dispose()


async def test_upgrade_from_0003_carries_every_row_over(clean_db: str) -> None:
    cfg = alembic_config(clean_db)
    # given a database at revision 0003 holding orders, credited payments and an unclaimed payment
    await asyncio.to_thread(command.downgrade, cfg, "0003")
    try:
        await _populate_0003(clean_db)
        # when it is upgraded
        await asyncio.to_thread(command.upgrade, cfg, "head")
    except BaseException:
        await asyncio.to_thread(command.upgrade, cfg, "head")  # leave the shared test database usable
        raise

    engine = create_async_engine(clean_db)
    try:
        async with engine.connect() as conn:
            # then both prepared orders are orders, with their owner and amount
            orders = (await conn.execute(sa.text(
                "SELECT id, provider, order_key, user_id, amount FROM orders ORDER BY order_key"))).all()
            assert [tuple(o) for o in orders] == [
                ("p_paid", "portone_v1", "order-paid", "u1", 10000),
                ("p_waiting", "portone_v1", "order-waiting", "u1", 5000),
            ]
            # and every attempt is still a payment (the never-attempted order is not), its order linked
            rows = (await conn.execute(sa.text(
                "SELECT id, payment_key, order_id, user_id, order_amount, status FROM payments ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [
                ("p_codecamp", "imp_2", None, "u1", None, "paid"),
                ("p_paid", "imp_1", "p_paid", "u1", 10000, "paid"),
                ("p_unclaimed", "imp_3", None, None, None, "paid"),
            ]
            # and the ledger, its links and the paid order's history are untouched
            ledger = (await conn.execute(sa.text(
                "SELECT entry_key, payment_id, amount FROM point_transactions ORDER BY entry_key"))).all()
            assert [tuple(e) for e in ledger] == [("charge:p_codecamp", "p_codecamp", 3000),
                                                  ("charge:p_paid", "p_paid", 10000)]
            history = (await conn.execute(sa.text(
                "SELECT to_status FROM payment_events WHERE payment_id = 'p_paid' ORDER BY id"))).scalars().all()
            assert history == ["prepared", "paid"]

        # and the new keys hold: an id is unique per provider only, an order may have many attempts
        async with engine.begin() as conn:
            await conn.execute(payments_at_head.insert(), [
                _at_head(_payment("p_v2_same_id", "imp_1", "imp_1", None, None, "paid", False, provider="portone_v2")),
                _at_head(_payment("p_second_attempt", "imp_4", "order-paid", "u1", 10000, "ready", False)),
            ])
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(payments_at_head.insert(),
                                   [_at_head(_payment("p_dup", "imp_1", "x", None, None, "paid", False))])
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO orders (id, provider, order_key, user_id, amount, created_at)"
                    " SELECT 'o_dup', provider, order_key, user_id, amount, created_at FROM orders WHERE id = 'p_paid'"
                ))
    finally:
        await engine.dispose()
