"""The points ledger: every balance change is an entry, written with the balance in one transaction.

Invariant: ``user_points.amount`` == sum of the user's ``point_transactions.amount``.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services.db import Database
from services.errors import Code, DomainError
from services.locks import lock_balances
from services.models import CancelRequest, PointTransaction, UserPoint, utcnow

CHARGE = "충전"
CANCEL = "취소"
BUY = "구매"
SELL = "판매"
# The highest balance there can be: GraphQL's Int is 32-bit, and a balance past it failed every read
# of it (issue 23 #8). POINTCHARGE_BALANCE_MAX may set a lower cap, never a higher one.
BALANCE_MAX = 2_147_483_647


async def append_entry(
    s: AsyncSession,
    *,
    user_id: str,
    amount: int,
    status: str,
    entry_key: str,
    detail: str,
    payment_id: str | None = None,
    payment_key: str | None = None,
    useditem_id: str | None = None,
    allow_negative: bool = False,
    balance_locked: bool = False,
    balance_max: int = BALANCE_MAX,
) -> PointTransaction:
    """Moves the balance and appends its entry. Must run inside the caller's transaction.

    A debit (unless ``allow_negative``) first checks ``spendable`` (balance row locked, then the
    holds read); the UPDATE stays conditional on ``amount + delta >= 0`` as well, a second guard
    that needs no lock (SQLite ignores FOR UPDATE).

    ``balance_locked``: the caller's transaction has locked this user's balance row by an earlier
    statement (``lock_balances``). The debit is then one statement, conditional on
    ``amount + delta >= held`` with the holds in a subquery. That is right only because the lock
    came first: the UPDATE's snapshot is taken after the lock was granted, so it sees every hold
    committed before (holds are written under this lock; ``spendable`` says what goes wrong when
    the UPDATE itself waits for the lock). On SQLite (one writer at a time) the condition is the
    whole guard.

    A credit is conditional on the new balance staying at most ``balance_max``, in the same UPDATE;
    past it nothing is written and ``BALANCE_LIMIT_EXCEEDED`` is raised.
    """
    now = utcnow()
    stmt = update(UserPoint).where(UserPoint.user_id == user_id)
    if not allow_negative and amount < 0:
        if balance_locked:
            stmt = stmt.where(UserPoint.amount + amount >= _held(user_id).scalar_subquery())
        else:
            if await spendable(s, user_id) + amount < 0:
                raise DomainError(Code.INSUFFICIENT_POINTS)
            stmt = stmt.where(UserPoint.amount + amount >= 0)
    elif amount > 0:
        stmt = stmt.where(UserPoint.amount + amount <= min(balance_max, BALANCE_MAX))
    balance = (
        await s.execute(
            stmt.values(amount=UserPoint.amount + amount, updated_at=now).returning(UserPoint.amount)
        )
    ).scalar_one_or_none()
    if balance is None:
        if amount > 0:
            raise DomainError(Code.BALANCE_LIMIT_EXCEEDED, balanceMax=min(balance_max, BALANCE_MAX))
        raise DomainError(Code.INSUFFICIENT_POINTS)
    entry = PointTransaction(
        user_id=user_id,
        payment_id=payment_id,
        entry_key=entry_key,
        status=status,
        amount=amount,
        balance=balance,
        payment_key=payment_key,
        useditem_id=useditem_id,
        detail=detail[:200],
        created_at=now,
    )
    s.add(entry)
    # Flushing here surfaces a duplicate entry_key (IntegrityError) while the caller can still
    # roll the whole transaction back, balance change included.
    await s.flush()
    return entry


async def spendable(s: AsyncSession, user_id: str) -> int:
    """The balance minus the points held by cancels in flight, with the balance row locked for the
    rest of the transaction. How a debit that has not locked the row yet asks (a spend, a cancel
    hold); a purchase locks both balances first and lets its conditional debit ask
    (``append_entry(balance_locked=True)``).

    The lock comes first and the holds are read by a later statement. Read in the same statement
    (a subquery of the conditional UPDATE, as before), PostgreSQL took the holds from the snapshot
    the statement started with, before it waited for the row: a transaction queued behind another
    one's new hold did not see it, and two cancels, or a spend and a cancel, both passed (7 of 10
    and 2 of 10 racing trials overdrew; tests/services/test_hold_race.py). Every hold is written
    under this same lock, so the later statement sees all holds committed before we got it. SQLite
    has one writer at a time; the same code is right there too."""
    balance = (await lock_balances(s, user_id)).get(user_id)
    if balance is None:
        return 0
    held = (await s.execute(_held(user_id))).scalar_one()
    return balance - int(held)


def _held(user_id: str) -> Select:
    """The points the user's cancels in flight hold."""
    return select(func.coalesce(func.sum(CancelRequest.amount), 0)).where(
        CancelRequest.user_id == user_id, CancelRequest.status == "requested"
    )


async def reserve(s: AsyncSession, user_id: str, amount: int) -> None:
    """Locks the balance row and checks that ``amount`` is available beyond existing holds; the
    caller records its hold (a ``CancelRequest``) in the same transaction, under the lock."""
    if await spendable(s, user_id) < amount:
        raise DomainError(Code.INSUFFICIENT_POINTS, "포인트가 부족하여 취소할 수 없습니다. 이미 사용한 포인트는 취소할 수 없습니다.")


async def spend_points(db: Database, user_id: str, amount: int, reason: str, *, key: str) -> PointTransaction:
    """A plain debit with no item (purchases go through ``services.items``): never below zero."""
    if amount <= 0:
        raise DomainError(Code.BAD_USER_INPUT, "사용할 포인트는 1 이상이어야 합니다.")
    async with db.transaction() as s:
        return await append_entry(
            s, user_id=user_id, amount=-amount, status=BUY, entry_key=f"spend:{key}", detail=reason
        )
