"""The rows that make auto top-up safe with N processes (services/billing/auto_topup.py):

- ``auto_top_up_months``: the month's cap, raised only by ``UPDATE … WHERE charged + :amount <=
  :cap`` — the database says yes to at most what the cap allows, whoever races;
- ``auto_top_up_charges``: one row per top-up, at most one ``pending`` per user (a unique partial
  index), created in the same transaction as the counter's raise and the top-up's order;
- claims of due rows by a conditional update fenced on ``attempts``: of two runners, one charges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.db import Database
from services.models import AutoTopUp, AutoTopUpCharge, AutoTopUpMonth, Order, PaymentCard, UserPoint
from services.orders import new_order_key

PENDING, PAID, DECLINED, FAILED = "pending", "paid", "declined", "failed"
# The month of the cap is the users' month: Korea's (UTC+9 all year, no daylight saving).
KST = timezone(timedelta(hours=9), "KST")
ACTIVE_CARD = "active"


def month_of(now: datetime) -> str:
    return now.astimezone(KST).strftime("%Y-%m")


@dataclass(frozen=True)
class Due:
    """A top-up this process may charge now (it made it, or claimed it)."""

    charge_id: str
    user_id: str
    card_id: str
    order_id: str
    order_key: str
    amount: int
    attempts: int


class _NotNow(Exception):
    """Rolls the start back: the balance is not under the threshold (any more)."""


def usable(settings: AutoTopUp | None, now: datetime) -> bool:
    return (
        settings is not None and settings.enabled and settings.card_id is not None
        and (settings.paused_until is None or settings.paused_until <= now)
    )


async def _ensure_month(db: Database, user_id: str, month: str) -> None:
    async with db.session() as s:
        found = (
            await s.execute(select(AutoTopUpMonth.id).where(AutoTopUpMonth.user_id == user_id, AutoTopUpMonth.month == month))
        ).first()
    if found is not None:
        return
    try:
        async with db.transaction() as s:
            s.add(AutoTopUpMonth(user_id=user_id, month=month, charged=0, count=0))
    except IntegrityError:
        pass  # a concurrent start made it: the unique (user, month) is the guard


async def _worth_trying(db: Database, user_id: str, now: datetime) -> bool:
    """A read-only first look, so that a purchase by a user without auto top-up (or well above the
    threshold) writes nothing; the transaction below decides."""
    async with db.session() as s:
        found = (
            await s.execute(
                select(AutoTopUp, UserPoint.amount)
                .outerjoin(UserPoint, UserPoint.user_id == AutoTopUp.user_id)
                .where(AutoTopUp.user_id == user_id)
            )
        ).first()
    if found is None:
        return False
    settings, balance = found
    return usable(settings, now) and (balance or 0) < settings.threshold


async def start(db: Database, user_id: str, *, now: datetime, lease_s: float) -> Due | None:
    """The user's top-up, made if the settings, the balance, the cap and the one-in-flight rule all
    allow it now; None otherwise. One transaction: the counter's raise, the order and the row are
    committed together or not at all."""
    month = month_of(now)
    if not await _worth_trying(db, user_id, now):
        return None
    await _ensure_month(db, user_id, month)
    try:
        async with db.transaction() as s:
            settings = (await s.execute(select(AutoTopUp).where(AutoTopUp.user_id == user_id))).scalar_one_or_none()
            if settings is None or not usable(settings, now):
                raise _NotNow
            card = await s.get(PaymentCard, settings.card_id)
            if card is None or card.status != ACTIVE_CARD or card.user_id != user_id:
                raise _NotNow
            amount = settings.amount
            # The cap, and (PostgreSQL) the user's month row locked until commit: concurrent starts
            # of one user queue here, and the balance below is read after the one before committed.
            seq = (
                await s.execute(
                    update(AutoTopUpMonth)
                    .where(AutoTopUpMonth.user_id == user_id, AutoTopUpMonth.month == month,
                           AutoTopUpMonth.charged + amount <= settings.monthly_limit)
                    .values(charged=AutoTopUpMonth.charged + amount, count=AutoTopUpMonth.count + 1, updated_at=now)
                    .returning(AutoTopUpMonth.count)
                )
            ).scalar_one_or_none()
            if seq is None:
                raise _NotNow  # the month's cap is reached
            balance = (await s.execute(select(UserPoint.amount).where(UserPoint.user_id == user_id))).scalar_one_or_none()
            if (balance or 0) >= settings.threshold:
                raise _NotNow  # a top-up (or a charge) since the purchase lifted it
            # The order is made here, server-side, for the fixed amount; a billing-key charge needs
            # no /payments/prepare (the amount is ours, not the browser's).
            order = Order(provider=card.provider, order_key=new_order_key().replace("pc_", "pca_", 1),
                          user_id=user_id, amount=amount)
            s.add(order)
            await s.flush()
            row = AutoTopUpCharge(
                user_id=user_id, month=month, seq=int(seq), order_id=order.id, card_id=card.id, amount=amount,
                state=PENDING, attempts=1, next_attempt_at=now + timedelta(seconds=lease_s), created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()  # the in-flight index refuses a second pending top-up of the user here
    except _NotNow:
        return None
    except IntegrityError:
        return None  # one is in flight already
    return Due(row.id, user_id, card.id, order.id, order.order_key, amount, 1)


async def claim_due(db: Database, *, now: datetime, limit: int, lease_s: float) -> list[Due]:
    """Pending top-ups whose maker is gone (or whose last attempt had no answer), claimed for this
    process: ``next_attempt_at`` pushed a lease ahead, fenced on ``attempts``."""
    async with db.session() as s:
        rows = (
            await s.execute(
                select(AutoTopUpCharge, Order.order_key)
                .join(Order, Order.id == AutoTopUpCharge.order_id)
                .where(AutoTopUpCharge.state == PENDING, AutoTopUpCharge.next_attempt_at <= now)
                .order_by(AutoTopUpCharge.next_attempt_at)
                .limit(limit)
            )
        ).all()
    claimed: list[Due] = []
    for row, order_key in rows:
        async with db.transaction() as s:
            won = await s.execute(
                update(AutoTopUpCharge)
                .where(AutoTopUpCharge.id == row.id, AutoTopUpCharge.state == PENDING,
                       AutoTopUpCharge.attempts == row.attempts)
                .values(attempts=row.attempts + 1, next_attempt_at=now + timedelta(seconds=lease_s), updated_at=now)
            )
        if won.rowcount == 1:
            claimed.append(Due(row.id, row.user_id, row.card_id, row.order_id, order_key, row.amount, row.attempts + 1))
    return claimed


async def finish(
    db: Database, due: Due, state: str, *, now: datetime, release: bool, fail_reason: str | None = None,
    pause_s: float = 0,
) -> bool:
    """Records the outcome once (conditional on ``pending``). ``release``: nothing was charged, so
    the amount goes back to the month's cap. A decline or failure pauses the user's top-ups."""
    reason = (fail_reason or None) and fail_reason[:200]
    async with db.transaction() as s:
        done = (
            await s.execute(
                update(AutoTopUpCharge)
                .where(AutoTopUpCharge.id == due.charge_id, AutoTopUpCharge.state == PENDING)
                .values(state=state, fail_reason=reason, updated_at=now)
                .returning(AutoTopUpCharge.month)
            )
        ).scalar_one_or_none()
        if done is None:
            return False  # another process recorded it
        if release:
            await s.execute(
                update(AutoTopUpMonth)
                .where(AutoTopUpMonth.user_id == due.user_id, AutoTopUpMonth.month == done)
                .values(charged=AutoTopUpMonth.charged - due.amount, updated_at=now)
            )
        if state == PAID:
            await s.execute(
                update(AutoTopUp).where(AutoTopUp.user_id == due.user_id).values(last_failure_reason=None)
            )
        else:
            await s.execute(
                update(AutoTopUp)
                .where(AutoTopUp.user_id == due.user_id)
                .values(last_failure_reason=reason or state, paused_until=now + timedelta(seconds=pause_s),
                        updated_at=now)
            )
    return True


async def retry_later(db: Database, due: Due, *, at: datetime) -> None:
    """No answer (the gateway unreachable, a timeout): the row stays pending, due again at ``at``
    (the next charge looks the order up at the gateway first)."""
    async with db.transaction() as s:
        await s.execute(
            update(AutoTopUpCharge)
            .where(AutoTopUpCharge.id == due.charge_id, AutoTopUpCharge.state == PENDING,
                   AutoTopUpCharge.attempts == due.attempts)
            .values(next_attempt_at=at)
        )


async def charged_this_month(db: Database, user_id: str, now: datetime) -> int:
    async with db.session() as s:
        charged = (
            await s.execute(
                select(AutoTopUpMonth.charged)
                .where(AutoTopUpMonth.user_id == user_id, AutoTopUpMonth.month == month_of(now))
            )
        ).scalar_one_or_none()
    return int(charged or 0)
