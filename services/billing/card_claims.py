"""The ``card_charges`` rows: who may send an attempt for an order, and what became of it.

A claim is committed *before* the gateway is asked. Of two callers (a double click, two tabs, a
retry racing the original), exactly one wins a claim — by the unique ``order_id`` for the first
attempt, by a conditional update fenced on ``attempt`` for the later ones — and the other waits for
its outcome. A claim whose lease ran out (the process died mid-attempt) or whose outcome is unknown
(no answer from the gateway) is taken over with ``recover``: the gateway is asked what it holds for
the order before anything is charged again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.db import Database
from services.models import CardCharge, utcnow

CHARGING, PAID, DECLINED, REFUSED, UNKNOWN = "charging", "paid", "declined", "refused", "unknown"


@dataclass(frozen=True)
class Claimed:
    attempt: int
    recover: bool  # an earlier attempt's outcome is unknown: look the order up before charging


@dataclass(frozen=True)
class Taken:
    """Someone else's attempt (in flight, or finished): the caller answers from it."""

    row: CardCharge


async def current(db: Database, order_id: str) -> CardCharge | None:
    async with db.session() as s:
        return (await s.execute(select(CardCharge).where(CardCharge.order_id == order_id))).scalar_one_or_none()


async def claim(
    db: Database, *, order_id: str, user_id: str, card_id: str, lease_s: float, new_order: bool = False
) -> Claimed | Taken:
    """``new_order``: the caller wrote the order just now (no claim can exist yet), so the first
    round inserts without reading first; were a claim there after all, the unique ``order_id``
    refuses the insert and the next round reads it."""
    for round_ in range(5):
        now = utcnow()
        lease = now + timedelta(seconds=lease_s)
        row = None if new_order and round_ == 0 else await current(db, order_id)
        if row is None:
            try:
                async with db.transaction() as s:
                    s.add(CardCharge(order_id=order_id, user_id=user_id, card_id=card_id, state=CHARGING,
                                     attempt=1, lease_until=lease, created_at=now, updated_at=now))
                return Claimed(1, recover=False)
            except IntegrityError:
                continue  # a concurrent first claim won: read it
        if row.state == PAID or (row.state == CHARGING and row.lease_until > now):
            return Taken(row)
        # declined / refused (the outcome is known: nothing was charged), unknown or a lapsed lease
        # (it may have been: look first).
        async with db.transaction() as s:
            won = await s.execute(
                update(CardCharge)
                .where(CardCharge.id == row.id, CardCharge.attempt == row.attempt, CardCharge.state == row.state)
                .values(state=CHARGING, attempt=row.attempt + 1, card_id=card_id, lease_until=lease,
                        fail_reason=None, updated_at=now)
            )
        if won.rowcount == 1:
            return Claimed(row.attempt + 1, recover=row.state in (CHARGING, UNKNOWN))
    raise RuntimeError(f"card charge claim of order {order_id} kept racing")  # pragma: no cover


async def finish(
    db: Database, order_id: str, attempt: int, state: str, *, payment_id: str | None = None,
    fail_reason: str | None = None,
) -> bool:
    """Records the outcome of ``attempt``; False when the claim was taken over meanwhile (its lease
    ran out): the newer attempt's outcome is the one that counts."""
    async with db.transaction() as s:
        done = await s.execute(
            update(CardCharge)
            .where(CardCharge.order_id == order_id, CardCharge.attempt == attempt, CardCharge.state == CHARGING)
            .values(state=state, payment_id=payment_id, fail_reason=(fail_reason or None) and fail_reason[:200],
                    updated_at=utcnow())
        )
    return done.rowcount == 1


async def wait(db: Database, row: CardCharge, *, timeout_s: float) -> CardCharge:
    """Polls until the attempt in ``row`` has an outcome or its lease runs out; returns the row then."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.25)
        fresh = await current(db, row.order_id)
        assert fresh is not None  # rows are never deleted
        if fresh.state != CHARGING or fresh.attempt != row.attempt:
            return fresh
        if fresh.lease_until <= utcnow() or time.monotonic() > deadline:
            return fresh
