"""Row locks, in one fixed order everywhere: the payment row first, then the user's balance row.

Two transactions that both touch a payment and a balance (a credit and a cancel, say) therefore
queue on the payment row and can never deadlock. On PostgreSQL these are real row locks
(``FOR UPDATE``); SQLite ignores ``FOR UPDATE`` but every write transaction there begins with
``BEGIN IMMEDIATE`` (one writer at a time), and the updates that matter are conditional anyway.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Payment


async def lock_payment(s: AsyncSession, *, provider: str, imp_uid: str) -> Payment | None:
    """Step 1. Returns the row locked until the transaction ends, refreshed from the database.
    Payment ids are unique per provider only (a V2 paymentId may equal a V1 imp_uid)."""
    return (
        await s.execute(
            select(Payment)
            .where(Payment.provider == provider, Payment.imp_uid == imp_uid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


# Step 2, the balance row, is locked by the conditional UPDATE in services.ledger.append_entry.
