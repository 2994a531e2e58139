"""The cycle charge's hot writes and its one read as driver statements (services/db.py's raw
connection), as the lean credit (services/credit_lean.py) does for the credit.

Why: through the ORM each of these transactions cost a session, a greenlet and, on SQLite, one hand-off
to aiosqlite's thread per statement plus its BEGIN and COMMIT; the billing run is CPU-bound on them
(docs/PERFORMANCE.md, "Billing run"). Here a write transaction is ``Database.run_raw_transaction``
(SQLite: BEGIN IMMEDIATE to COMMIT in one hand-off, queued behind this process's other writers), and
a single-statement write on PostgreSQL runs in autocommit (one statement is atomic by itself).

The statements, their conditions and the rows they write are the ones the ORM code wrote: every
write stays fenced on the lease token (and cycle/attempt), a conditional UPDATE's rowcount is read
from ``RETURNING``, and a fence that fails rolls the whole transaction back (``RawRollback``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.billing.subscription_claims import ACTIVE, LIVE, PAID
from services.db import Database, RawConnection, RawRollback
from services.models import (
    Order, PaymentCard, PointSubscription, PointSubscriptionAttempt, UTCDateTime, detached, new_id,
)


def _columns(model: Any) -> tuple[tuple[str, bool], ...]:
    return tuple((c.name, isinstance(c.type, UTCDateTime)) for c in model.__table__.columns)


def _in(values: Sequence[str]) -> str:
    # Constants of this package only (states, statuses), never input.
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


async def write(db: Database, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
    """One write statement, committed; its ``RETURNING`` rows."""
    if db.is_sqlite:

        async def body(raw: RawConnection) -> Sequence[Sequence[Any]]:
            return await raw.fetch(sql, *[raw.time(a) if isinstance(a, datetime) else a for a in args])

        return await db.run_raw_transaction(body) or []
    async with db.raw() as raw:
        return await raw.fetch(sql, *[raw.time(a) if isinstance(a, datetime) else a for a in args])


# --- the read: the claimed subscription and its card, one statement ------------------------------

_SUB_COLUMNS = _columns(PointSubscription)
_CARD_COLUMNS = _columns(PaymentCard)
_READ = (
    "SELECT " + ", ".join(f"s.{n}" for n, _ in _SUB_COLUMNS) + ", " + ", ".join(f"c.{n}" for n, _ in _CARD_COLUMNS)
    + " FROM point_subscriptions s JOIN payment_cards c ON c.id = s.card_id WHERE s.id = $1"
)


def _values(raw: RawConnection, columns: tuple[tuple[str, bool], ...], row: Sequence[Any]) -> dict[str, Any]:
    return {name: raw.read_time(value) if is_time else value for (name, is_time), value in zip(columns, row)}


async def read_claimed(db: Database, subscription_id: str) -> tuple[PointSubscription, PaymentCard] | None:
    """The subscription and its card (cards are never deleted, only marked), as the database holds
    them now; None when there is no such subscription."""
    async with db.raw() as raw:
        rows = await raw.fetch(_READ, subscription_id)
        if not rows:
            return None
        row, split = rows[0], len(_SUB_COLUMNS)
        return (detached(PointSubscription, **_values(raw, _SUB_COLUMNS, row[:split])),
                detached(PaymentCard, **_values(raw, _CARD_COLUMNS, row[split:])))


# --- a new attempt: the fenced counter, its order, its attempt row and the order's card claim ------

# Still live: a cancel between the runner's read and here must not be charged.
_FENCE = (
    "UPDATE point_subscriptions SET attempt = $1, updated_at = $2"
    f" WHERE id = $3 AND lease_token = $4 AND cycle = $5 AND attempt = $6 AND status IN {_in(LIVE)} RETURNING id"
)
_INSERT_ORDER = "INSERT INTO orders (id, provider, order_key, user_id, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
_INSERT_ATTEMPT = (
    "INSERT INTO point_subscription_attempts (id, subscription_id, cycle, attempt, order_id, order_key, state,"
    " payment_id, fail_reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $8)"
)
_INSERT_CLAIM = (
    "INSERT INTO card_charges (id, order_id, user_id, card_id, state, attempt, lease_until, payment_id,"
    " fail_reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, NULL, NULL, $7, $7)"
)


async def new_attempt(
    db: Database, sub: PointSubscription, token: str, card: PaymentCard, *, key: str, state: str,
    claim_state: str, now: datetime, lease_until: datetime,
) -> tuple[PointSubscriptionAttempt, Order] | None:
    """Attempt ``sub.attempt + 1``: the counter moved (fenced on the lease, cycle and attempt), the
    order, the attempt row and the order's first ``card_charges`` claim, all in one transaction,
    committed before the gateway is asked. None (nothing written) when the fence failed."""
    number = sub.attempt + 1
    order_id, attempt_id, claim_id = new_id(), new_id(), new_id()

    async def body(raw: RawConnection) -> bool:
        stamp = raw.time(now)
        if not await raw.fetch(_FENCE, number, stamp, sub.id, token, sub.cycle, sub.attempt):
            raise RawRollback
        await raw.fetch(_INSERT_ORDER, order_id, card.provider, key, sub.user_id, sub.amount, stamp)
        await raw.fetch(_INSERT_ATTEMPT, attempt_id, sub.id, sub.cycle, number, order_id, key, state, stamp)
        await raw.fetch(_INSERT_CLAIM, claim_id, order_id, sub.user_id, card.id, claim_state, raw.time(lease_until), stamp)
        return True

    if not await db.run_raw_transaction(body):
        return None
    order = detached(Order, id=order_id, provider=card.provider, order_key=key, user_id=sub.user_id,
                     amount=sub.amount, created_at=now)
    attempt = detached(PointSubscriptionAttempt, id=attempt_id, subscription_id=sub.id, cycle=sub.cycle,
                       attempt=number, order_id=order_id, order_key=key, state=state, payment_id=None,
                       fail_reason=None, created_at=now, updated_at=now)
    return attempt, order


# --- paid: the attempt and the subscription moved on ---------------------------------------------


_MARK_PAID = (
    "UPDATE point_subscription_attempts SET state = $1, payment_id = $2, fail_reason = NULL, updated_at = $3"
    " WHERE id = $4 AND state != $1"
)
_MOVE_ON = (
    "UPDATE point_subscriptions SET status = $1, cycle = $2, attempt = 0, next_charge_at = $3,"
    " last_charged_at = $4, last_failure_reason = NULL, lease_until = NULL, lease_token = NULL, updated_at = $4"
    f" WHERE id = $5 AND lease_token = $6 AND cycle = $7 AND status IN {_in(LIVE)} RETURNING id"
)
_LET_GO = (
    "UPDATE point_subscriptions SET last_charged_at = $1, lease_until = NULL, lease_token = NULL, updated_at = $1"
    " WHERE id = $2 AND lease_token = $3"
)


async def paid(
    db: Database, *, attempt_id: str, payment_id: str, sub_id: str, token: str, attempt_cycle: int,
    next_cycle: int, next_charge_at: datetime, now: datetime,
) -> None:
    """The attempt paid and the subscription on to ``next_cycle``, unclaimed, in one transaction."""

    async def body(raw: RawConnection) -> None:
        stamp = raw.time(now)
        await raw.fetch(_MARK_PAID, PAID, payment_id, stamp, attempt_id)
        moved = await raw.fetch(_MOVE_ON, ACTIVE, next_cycle, raw.time(next_charge_at), stamp, sub_id, token,
                                attempt_cycle)
        if not moved:
            # Cancelled while its charge was in flight: the charge stands (credited), the
            # subscription stays cancelled.
            await raw.fetch(_LET_GO, stamp, sub_id, token)

    await db.run_raw_transaction(body)
