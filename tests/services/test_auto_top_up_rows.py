"""The database rules of auto top-up (services/billing/topup_rows.py), on whichever database the
suite runs on: at most one top-up in flight per user, the month's total never over the cap, whatever
number of starts race (PostgreSQL: each start its own connection and transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from services.billing import topup_rows as rows
from services.db import Database
from services.models import AutoTopUp, AutoTopUpCharge, Order, PaymentCard, User, UserPoint, utcnow
from tests.conftest import count_rows

AMOUNT = 10_000


@pytest.fixture
async def db(clean_db: str) -> AsyncIterator[Database]:
    database = Database.from_url(clean_db, pool_size=12, max_overflow=4)
    try:
        yield database
    finally:
        await database.dispose()


async def user_with_auto_top_up(db: Database, *, balance: int = 1_000, limit: int = 30_000) -> str:
    user = User(email="topup@example.com", name="u", password_hash="x")
    async with db.transaction() as s:
        s.add(user)
        await s.flush()
        card = PaymentCard(user_id=user.id, provider="portone_v1", customer_uid="pcu_rows_test_uid_0001",
                           status="active")
        s.add(card)
        s.add(UserPoint(user_id=user.id, amount=balance))
        await s.flush()
        s.add(AutoTopUp(user_id=user.id, card_id=card.id, enabled=True, threshold=5_000, amount=AMOUNT,
                        monthly_limit=limit))
    return user.id


async def test_concurrent_starts_make_one_top_up(db: Database, clean_db: str) -> None:
    # given a user under their threshold
    user_id = await user_with_auto_top_up(db)
    # when ten starts race (ten purchases' triggers, in as many processes)
    started = await asyncio.gather(*(rows.start(db, user_id, now=utcnow(), lease_s=30) for _ in range(10)))
    # then one top-up is made, and the cap counts it once (the losers' raises were rolled back)
    assert sum(d is not None for d in started) == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'pending'") == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM orders") == 1
    assert await count_rows(clean_db, "SELECT charged FROM auto_top_up_months") == AMOUNT


async def test_the_database_refuses_a_second_top_up_in_flight(db: Database) -> None:
    # given a user with a top-up in flight
    user_id = await user_with_auto_top_up(db)
    due = await rows.start(db, user_id, now=utcnow(), lease_s=30)
    assert due is not None
    # when another pending row is written for the user, bypassing the service
    async with db.session() as s:
        first = await s.get(AutoTopUpCharge, due.charge_id)
    assert first is not None
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            order = Order(provider="portone_v1", order_key="pca_manual_1", user_id=user_id, amount=AMOUNT)
            s.add(order)
            await s.flush()
            s.add(AutoTopUpCharge(user_id=user_id, month=first.month, seq=2, order_id=order.id, card_id=first.card_id,
                                  amount=AMOUNT, state=rows.PENDING, next_attempt_at=utcnow()))
    # then the index refused it; once the first is finished, a new one may start
    assert await rows.finish(db, due, rows.PAID, now=utcnow(), release=False)
    assert not await rows.finish(db, due, rows.DECLINED, now=utcnow(), release=True)  # recorded once
    assert await rows.start(db, user_id, now=utcnow(), lease_s=30) is not None


async def test_the_cap_holds_and_a_decline_gives_its_amount_back(db: Database, clean_db: str) -> None:
    # given a cap of 25,000 for top-ups of 10,000 (the balance stays under the threshold: nothing credits)
    user_id = await user_with_auto_top_up(db, limit=25_000)
    now = utcnow()
    # when two top-ups are paid, then a third is tried
    for _ in range(2):
        due = await rows.start(db, user_id, now=now, lease_s=30)
        assert due is not None
        await rows.finish(db, due, rows.PAID, now=now, release=False)
    # then the cap refuses the third
    assert await rows.start(db, user_id, now=now, lease_s=30) is None
    assert await rows.charged_this_month(db, user_id, now) == 20_000
    # when the cap is raised, a top-up is declined and the user's pause has passed
    async with db.transaction() as s:
        await s.execute(AutoTopUp.__table__.update().values(monthly_limit=30_000))
    declined = await rows.start(db, user_id, now=now, lease_s=30)
    assert declined is not None
    await rows.finish(db, declined, rows.DECLINED, now=now, release=True, fail_reason="한도초과", pause_s=3600)
    # then its amount is back under the cap, and no top-up starts during the pause
    assert await rows.charged_this_month(db, user_id, now) == 20_000
    assert await rows.start(db, user_id, now=now + timedelta(minutes=59), lease_s=30) is None
    assert await rows.start(db, user_id, now=now + timedelta(minutes=61), lease_s=30) is not None
    assert await count_rows(clean_db, "SELECT charged FROM auto_top_up_months") == 30_000


async def test_a_new_month_has_its_own_cap(db: Database) -> None:
    # given a user whose cap is used up this month
    user_id = await user_with_auto_top_up(db, limit=AMOUNT)
    now = utcnow()
    due = await rows.start(db, user_id, now=now, lease_s=30)
    assert due is not None
    await rows.finish(db, due, rows.PAID, now=now, release=False)
    assert await rows.start(db, user_id, now=now, lease_s=30) is None
    # when the next month (KST) comes
    next_month = now + timedelta(days=32)
    # then a top-up may start again, counted in that month
    assert await rows.start(db, user_id, now=next_month, lease_s=30) is not None
    assert await rows.charged_this_month(db, user_id, next_month) == AMOUNT
    # and months are Korea's: 15:00 UTC on the last day is already the next month
    assert rows.month_of(datetime(2026, 11, 30, 14, 59, tzinfo=UTC)) == "2026-11"
    assert rows.month_of(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == "2026-12"
