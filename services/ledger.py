"""The points ledger: every balance change is an entry, written with the balance in one transaction.

Invariant: ``user_points.amount`` == sum of the user's ``point_transactions.amount``.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.errors import Code, DomainError
from services.models import CancelRequest, PointTransaction, UserPoint, utcnow

CHARGE = "충전"
CANCEL = "취소"
BUY = "구매"
SELL = "판매"


async def append_entry(
    s: AsyncSession,
    *,
    user_id: str,
    amount: int,
    status: str,
    entry_key: str,
    detail: str,
    payment_id: str | None = None,
    imp_uid: str | None = None,
    allow_negative: bool = False,
) -> PointTransaction:
    """Moves the balance and appends its entry. Must run inside the caller's transaction.

    The balance UPDATE is conditional (``amount + delta >= 0`` unless ``allow_negative``): it both
    locks the balance row and refuses to overdraw, without a read-then-write race.
    """
    now = utcnow()
    stmt = update(UserPoint).where(UserPoint.user_id == user_id)
    if not allow_negative and amount < 0:
        stmt = stmt.where(UserPoint.amount - held_points(user_id) + amount >= 0)
    balance = (
        await s.execute(
            stmt.values(amount=UserPoint.amount + amount, updated_at=now).returning(UserPoint.amount)
        )
    ).scalar_one_or_none()
    if balance is None:
        raise DomainError(Code.INSUFFICIENT_POINTS)
    entry = PointTransaction(
        user_id=user_id,
        payment_id=payment_id,
        entry_key=entry_key,
        status=status,
        amount=amount,
        balance=balance,
        imp_uid=imp_uid,
        detail=detail[:200],
        created_at=now,
    )
    s.add(entry)
    # Flushing here surfaces a duplicate entry_key (IntegrityError) while the caller can still
    # roll the whole transaction back, balance change included.
    await s.flush()
    return entry


def held_points(user_id: str):  # type: ignore[no-untyped-def]
    """Points promised to cancels in flight: not spendable until PortOne answers."""
    return (
        select(func.coalesce(func.sum(CancelRequest.amount), 0))
        .where(CancelRequest.user_id == user_id, CancelRequest.status == "requested")
        .scalar_subquery()
    )


async def reserve(s: AsyncSession, user_id: str, amount: int) -> None:
    """Locks the balance row and checks that ``amount`` is available beyond existing holds."""
    ok = await s.execute(
        update(UserPoint)
        .where(UserPoint.user_id == user_id, UserPoint.amount - held_points(user_id) >= amount)
        .values(updated_at=utcnow())
    )
    if ok.rowcount != 1:
        raise DomainError(Code.INSUFFICIENT_POINTS, "포인트가 부족하여 취소할 수 없습니다. 이미 사용한 포인트는 취소할 수 없습니다.")


async def spend_points(db: Database, user_id: str, amount: int, reason: str, *, key: str) -> PointTransaction:
    """Spending (the marketplace comes later): never below zero."""
    if amount <= 0:
        raise DomainError(Code.BAD_USER_INPUT, "사용할 포인트는 1 이상이어야 합니다.")
    async with db.transaction() as s:
        return await append_entry(
            s, user_id=user_id, amount=-amount, status=BUY, entry_key=f"spend:{key}", detail=reason
        )
