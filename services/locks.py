"""Row locks, in one fixed order everywhere: the payment row or the item row first, then the users'
balance rows, several of them in ascending user id.

Two transactions that both touch a payment and a balance (a credit and a cancel, say) therefore
queue on the payment row and can never deadlock; a purchase (item, then buyer's and seller's
balances by id) cannot deadlock with another purchase between the same two users going the other
way, nor with a charge or a cancel (they lock one balance only). On PostgreSQL these are real row locks
(``FOR UPDATE``); SQLite ignores ``FOR UPDATE`` but every write transaction there begins with
``BEGIN IMMEDIATE`` (one writer at a time), and the updates that matter are conditional anyway.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Payment, UserPoint, Useditem


async def lock_payment(s: AsyncSession, *, provider: str, payment_key: str) -> Payment | None:
    """Step 1. Returns the row locked until the transaction ends, refreshed from the database.
    Payment keys are unique per provider only (a PortOne V2 paymentId may equal a V1 imp_uid)."""
    return (
        await s.execute(
            select(Payment)
            .where(Payment.provider == provider, Payment.payment_key == payment_key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_own_payment(s: AsyncSession, *, user_id: str, payment_key: str, provider: str | None = None) -> Payment | None:
    """Step 1 for a user's attempt known by its id alone (a cancel): the row, locked and refreshed,
    when exactly one of the user's attempts has that id (``provider`` narrows it). None when there
    is none, or more than one (a V1 and a V2 attempt under one id): the caller tells which apart,
    and only one row is ever locked."""
    mine = [Payment.payment_key == payment_key, Payment.user_id == user_id]
    if provider is not None:
        mine.append(Payment.provider == provider)
    only_one = select(func.count()).select_from(Payment).where(*mine).scalar_subquery() == 1
    return (
        await s.execute(
            select(Payment)
            .where(*mine, only_one)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_useditem(s: AsyncSession, *, item_id: str) -> Useditem | None:
    """Step 1 of a purchase or an item write (in place of a payment): the item row, not deleted."""
    return (
        await s.execute(
            select(Useditem)
            .where(Useditem.id == item_id, Useditem.deleted_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def lock_balances(s: AsyncSession, *user_ids: str) -> dict[str, int]:
    """Step 2: the users' balance rows, in ascending user id (one statement each, so the order is
    ours, not the planner's). Returns the balances as they are under the lock; a user without a
    balance row is missing from the result.

    On PostgreSQL (READ COMMITTED) every later statement of the transaction reads a snapshot taken
    after these locks were granted, so it sees everything committed by whoever held them before:
    that is what makes ``services.ledger.spendable`` see their holds."""
    balances: dict[str, int] = {}
    for user_id in sorted(set(user_ids)):
        amount = (
            await s.execute(select(UserPoint.amount).where(UserPoint.user_id == user_id).with_for_update())
        ).scalar_one_or_none()
        if amount is not None:
            balances[user_id] = int(amount)
    return balances
