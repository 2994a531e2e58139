"""The ``point_subscriptions`` rows' schedule and claims, and their attempts' rows.

A runner owns a subscription only while it holds its lease: a conditional update (the row is live,
due, and its lease free or lapsed) sets ``lease_until`` and a random ``lease_token``; every later
write of that runner is conditional on the token, so a runner whose lease ran out (a stalled
process) writes nothing over the one that took the row over. On PostgreSQL the batch claim skips
rows another runner is claiming (``FOR UPDATE SKIP LOCKED``); on SQLite (one writer) it needs not.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.models import PointSubscription, PointSubscriptionAttempt, utcnow

CREATING, ACTIVE, PAST_DUE, SUSPENDED, CANCELLED, FAILED = (
    "CREATING", "ACTIVE", "PAST_DUE", "SUSPENDED", "CANCELLED", "FAILED",
)
LIVE = (CREATING, ACTIVE, PAST_DUE)  # charged by the runner; one per user (uq_point_subscriptions_live_user)
SHOWN = (CREATING, ACTIVE, PAST_DUE, SUSPENDED, CANCELLED)  # FAILED: no subscription came of it

# Attempt states (as card_charges'): the outcome of one charge of a cycle.
CHARGING, PAID, DECLINED, REFUSED, UNKNOWN = "charging", "paid", "declined", "refused", "unknown"
OPEN = (CHARGING, UNKNOWN)  # may be at the gateway: looked up before anything is charged again

# A declined cycle is tried again 1 day, then 3 days later (attempts 2 and 3), then suspended.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

# Billing days are Korean calendar days: KST has had no daylight saving time since 1988.
KST = timezone(timedelta(hours=9), "KST")


def billing_day_of(at: datetime) -> int:
    return at.astimezone(KST).day


def due_at(anchor_at: datetime, billing_day: int, cycle: int) -> datetime:
    """When cycle ``cycle`` (1 = the first charge, at ``anchor_at``) is due: ``cycle - 1`` months
    after the anchor, on ``billing_day`` clamped to the month's end (31 Jan → 28/29 Feb → 31 Mar),
    at the anchor's time of day (KST)."""
    local = anchor_at.astimezone(KST)
    months = local.month - 1 + cycle - 1
    year, month = local.year + months // 12, months % 12 + 1
    day = min(billing_day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(timezone.utc)


def order_key_of(subscription_id: str, cycle: int, attempt: int) -> str:
    # ≤ 40 characters (PortOne V1's merchant_uid) for 20-character ids and any realistic cycle.
    return f"ps_{subscription_id}_c{cycle}_a{attempt}"


def new_token() -> str:
    return secrets.token_hex(16)


def _claimable(at: datetime, now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        PointSubscription.status.in_(LIVE),
        PointSubscription.next_charge_at <= at,
        or_(PointSubscription.lease_until.is_(None), PointSubscription.lease_until < now),
    )


async def claim_due(
    db: Database, *, at: datetime, started: datetime, lease_s: float, limit: int, token: str
) -> list[str]:
    """Claims up to ``limit`` subscriptions due at ``at``, oldest due first; their ids. Rows this run
    already touched (``updated_at`` ≥ ``started``) are left for the next run: a catch-up cycle or an
    unanswered attempt is not tried twice in one run."""
    now = utcnow()
    due = and_(_claimable(at, now), PointSubscription.updated_at < started)
    pick = (
        select(PointSubscription.id)
        .where(due)
        .order_by(PointSubscription.next_charge_at, PointSubscription.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with db.transaction() as s:
        rows = await s.execute(
            update(PointSubscription)
            .where(PointSubscription.id.in_(pick.scalar_subquery()), due)
            .values(lease_until=now + timedelta(seconds=lease_s), lease_token=token, updated_at=now)
            .returning(PointSubscription.id)
            .execution_options(synchronize_session=False)
        )
        return [r[0] for r in rows]


async def claim_one(db: Database, subscription_id: str, *, lease_s: float, token: str) -> bool:
    """Claims a subscription still being created, whatever its due time (a creation resumed by a
    second click). Only CREATING: a click that read CREATING just before the first click finished
    must not claim the now ACTIVE row and charge its next month at once."""
    now = utcnow()
    async with db.transaction() as s:
        done = await s.execute(
            update(PointSubscription)
            .where(
                PointSubscription.id == subscription_id,
                PointSubscription.status == CREATING,
                or_(PointSubscription.lease_until.is_(None), PointSubscription.lease_until < now),
            )
            .values(lease_until=now + timedelta(seconds=lease_s), lease_token=token, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return done.rowcount == 1


async def release(db: Database, subscription_id: str, token: str) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(PointSubscription)
            .where(PointSubscription.id == subscription_id, PointSubscription.lease_token == token)
            .values(lease_until=None, lease_token=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


async def get(db: Database, subscription_id: str) -> PointSubscription | None:
    async with db.session() as s:
        return await s.get(PointSubscription, subscription_id, populate_existing=True)


async def latest_attempt_in(s: AsyncSession, subscription_id: str, cycle: int) -> PointSubscriptionAttempt | None:
    return (
        await s.execute(
            select(PointSubscriptionAttempt)
            .where(PointSubscriptionAttempt.subscription_id == subscription_id, PointSubscriptionAttempt.cycle == cycle)
            .order_by(PointSubscriptionAttempt.attempt.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
