"""The general sync: what a gateway says about one payment attempt, applied in the caller's
transaction — recorded, bound to its owner, credited once, and cancellations followed.

Every state goes through here (a virtual account issued then deposited, a failed attempt that
turns paid, a cancel, a second sighting); services/credit_lean.py takes only the common first
sighting and hands everything else over. Both apply services/credit.py's rules.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services import credit, ledger, payment_state as st
from services.credit import Outcome, SyncResult
from services.errors import Code, DomainError
from services.locks import lock_payment
from services.models import CancelRequest, Payment, PaymentEvent, PointTransaction, UserPoint, new_id, utcnow
from services.orders import find_order
from services.gateways.base import GatewayPayment

log = logging.getLogger("pointcharge.charging")


BALANCE_LIMIT = "balance_limit"  # payments.anomaly of an attempt refused for the balance cap


async def apply(
    s: AsyncSession,
    remote: GatewayPayment,
    claimant: str | None,
    source: str,
    *,
    require_prepared_order: bool,
    balance_max: int = ledger.BALANCE_MAX,
) -> SyncResult:
    payment = await upsert_and_lock(s, remote)

    conflict = credit.claim_conflict(payment.user_id, payment.order_amount, claimant)
    if claimant is not None and payment.user_id is None:
        # A payment held for our confirm is confirmed only for an order we prepared: its amount
        # and owner are what the confirm is conditional on.
        if require_prepared_order or remote.status == st.AUTHORIZED:
            raise credit.unprepared_refused()
        payment.user_id = claimant

    record_remote(s, payment, remote, source)

    if conflict is not None:
        return SyncResult(conflict, payment)

    status = remote.status
    if status == st.PREPARED:  # V2: the payment window was opened, nothing more yet
        return SyncResult(Outcome.NOT_PAID, payment)
    if status == st.READY:
        return SyncResult(Outcome.PENDING, payment)
    if status == st.FAILED:
        return SyncResult(Outcome.NOT_PAID, payment)

    if credit.amount_mismatch(remote, payment.order_amount) and payment.credited_at is None:
        payment.anomaly = "amount_mismatch"
        # AUTHORIZED: the caller must not confirm it (nothing was captured, nothing to refund).
        if status in (st.PAID, st.PARTIALLY_CANCELLED, st.AUTHORIZED):
            return SyncResult(Outcome.AMOUNT_MISMATCH, payment)
        return SyncResult(Outcome.NOT_PAID, payment)

    if payment.anomaly == BALANCE_LIMIT and payment.credited_at is None:
        # Refused once for the balance cap and being refunded: never credited later, even if the
        # balance has room by now (reconciliation syncs it again to finish the refund).
        if status in (st.PAID, st.PARTIALLY_CANCELLED, st.AUTHORIZED):
            return SyncResult(Outcome.BALANCE_LIMIT, payment)
        return SyncResult(Outcome.NOT_PAID, payment)

    if payment.user_id is None:
        return SyncResult(Outcome.UNCLAIMED, payment)

    if status == st.AUTHORIZED:
        if payment.credited_at is not None:
            # A read from before a concurrent claim confirmed and credited it: that credit is
            # this caller's answer too (not "not paid"), and nothing is confirmed again.
            return SyncResult(Outcome.ALREADY_CREDITED, payment, await credit_entry(s, payment.id))
        # Held by the gateway for our confirm. Its amount matches its order and the owner is
        # bound (checked above, under the row lock): the caller may confirm it, outside this
        # transaction, and sync the confirmed answer. Without an order we never confirm.
        if payment.order_amount is None:
            return SyncResult(Outcome.NOT_PAID, payment)
        if await past_balance_cap(s, payment.user_id, remote.amount, balance_max):
            # Never captured rather than captured and refunded: flagged like a paid one past the
            # cap (never confirmed later); it lapses at the gateway. The credit after a confirm
            # stays conditional on the cap, so a balance that grows meanwhile is refunded as usual.
            payment.anomaly = BALANCE_LIMIT
            return SyncResult(Outcome.BALANCE_LIMIT, payment)
        return SyncResult(Outcome.AUTHORIZED, payment)

    entry: PointTransaction | None
    outcome: Outcome
    if payment.credited_at is None:
        if status == st.CANCELLED and payment.credited_amount == 0:
            # Cancelled before anyone credited it: nothing to give, nothing to take back.
            return SyncResult(Outcome.NOT_PAID, payment)
        entry = await credit_payment(s, payment, remote, balance_max=balance_max)
        if entry is None:
            payment.anomaly = BALANCE_LIMIT
            return SyncResult(Outcome.BALANCE_LIMIT, payment)
        outcome = Outcome.CREDITED
    else:
        entry = await credit_entry(s, payment.id)
        outcome = Outcome.ALREADY_CREDITED

    cancel_entry = await follow_cancellations(s, payment, remote)
    if status == st.CANCELLED and outcome is Outcome.ALREADY_CREDITED:
        outcome = Outcome.CANCELLED
    return SyncResult(outcome, payment, entry, cancel_entry)


async def past_balance_cap(s: AsyncSession, user_id: str, amount: int, balance_max: int) -> bool:
    balance = (await s.execute(select(UserPoint.amount).where(UserPoint.user_id == user_id))).scalar_one_or_none()
    return (balance or 0) + amount > min(balance_max, ledger.BALANCE_MAX)


async def upsert_and_lock(s: AsyncSession, remote: GatewayPayment) -> Payment:
    """The attempt's row, locked; recorded on its first sighting. An attempt never takes over
    another's row: each gateway id (per provider) is its own row, its order found by its ``order_key``."""
    key = remote.payment_key
    payment = await lock_payment(s, provider=remote.provider, payment_key=key)
    if payment is not None:
        return payment
    order = await find_order(s, remote.provider, remote.order_key)
    now = utcnow()
    insert = pg_insert if s.bind.dialect.name == "postgresql" else sqlite_insert
    payment = (
        await s.scalars(
            insert(Payment)
            .values(
                id=new_id(),
                provider=remote.provider,
                payment_key=key,
                order_key=remote.order_key,
                order_id=order.id if order else None,
                # An order's attempts belong to the order's owner; others to whoever claims them.
                user_id=order.user_id if order else None,
                order_amount=order.amount if order else None,
                status=st.PREPARED,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Payment),
            execution_options={"populate_existing": True},
        )
    ).one_or_none()
    if payment is not None:
        return payment
    # A concurrent first sighting won the race: wait for its row lock and take its row.
    payment = await lock_payment(s, provider=remote.provider, payment_key=key)
    if payment is None:  # pragma: no cover - the conflicting row is committed or rolled back
        raise IntegrityError("attempt raced", None, Exception("conflicting insert vanished"))
    return payment


def record_remote(s: AsyncSession, payment: Payment, remote: GatewayPayment, source: str) -> None:
    now = utcnow()
    if st.can_move(payment.status, remote.status):
        if payment.status != remote.status:
            s.add(
                PaymentEvent(
                    payment_id=payment.id,
                    from_status=payment.status,
                    to_status=remote.status,
                    source=source,
                    detail=remote.fail_reason,
                    created_at=now,
                )
            )
        payment.status = remote.status
    else:
        log.warning("ignoring illegal transition %s -> %s for %s", payment.status, remote.status, remote.payment_key)
    payment.amount = remote.amount
    payment.currency = remote.currency
    payment.pay_method = remote.pay_method
    payment.pg_provider = remote.pg_provider
    if remote.paid_at and payment.paid_at is None:
        payment.paid_at = remote.paid_at
    if remote.virtual_account is not None:
        va = remote.virtual_account
        payment.vbank_name = va.bank_name
        payment.vbank_code = va.bank_code
        payment.vbank_num = va.account_number
        payment.vbank_holder = va.holder
        payment.vbank_due_at = va.due_at
    payment.snapshot = credit.snapshot(remote)
    payment.updated_at = now


async def credit_entry(s: AsyncSession, payment_id: str) -> PointTransaction | None:
    return (
        await s.execute(select(PointTransaction).where(PointTransaction.entry_key == credit.charge_key(payment_id)))
    ).scalar_one_or_none()


async def credit_payment(
    s: AsyncSession, payment: Payment, remote: GatewayPayment, *, balance_max: int = ledger.BALANCE_MAX
) -> PointTransaction | None:
    """The credit entry; None (nothing written) when it would take the owner past ``balance_max``."""
    assert payment.user_id is not None
    # The balance first: its UPDATE is conditional on the cap, and a refusal has written nothing.
    try:
        entry = await ledger.append_entry(
            s,
            user_id=payment.user_id,
            amount=remote.amount,
            status=ledger.CHARGE,
            entry_key=credit.charge_key(payment.id),
            detail=credit.charge_detail(remote),
            payment_id=payment.id,
            payment_key=remote.payment_key,
            balance_max=balance_max,
        )
    except DomainError as exc:
        if exc.code == Code.BALANCE_LIMIT_EXCEEDED:
            return None
        raise
    # Conditional on credited_at IS NULL: of two transactions racing past the checks above,
    # exactly one updates the row (the payment row lock queues them; on a lost race the whole
    # transaction, the entry above included, is rolled back).
    credited_at = utcnow()
    won = await s.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.credited_at.is_(None))
        .values(credited_at=credited_at, credited_amount=remote.amount)
    )
    if won.rowcount != 1:
        raise IntegrityError("credit raced", None, Exception("credited_at already set"))
    # Already in the row (the guard above wrote them): tell the ORM without writing them again.
    set_committed_value(payment, "credited_at", credited_at)
    set_committed_value(payment, "credited_amount", remote.amount)
    return entry


async def follow_cancellations(
    s: AsyncSession, payment: Payment, remote: GatewayPayment
) -> PointTransaction | None:
    """Points follow cancellations made anywhere (our API, the gateway's console). Returns the 취소
    entry when it writes one."""
    already = payment.cancelled_amount
    if remote.cancelled_amount <= already or payment.credited_at is None:
        payment.cancelled_amount = max(already, remote.cancelled_amount)
        return None
    delta = remote.cancelled_amount - already
    assert payment.user_id is not None
    # Our own cancel requests that this cancellation completes stop holding points now.
    resolved = await s.execute(
        update(CancelRequest)
        .where(
            CancelRequest.payment_id == payment.id,
            CancelRequest.status == "requested",
            CancelRequest.cancelled_after <= remote.cancelled_amount,
        )
        .values(status="succeeded", completed_at=utcnow())
    )
    ours = resolved.rowcount > 0
    # Set before the entry's flush, so that the attempt's row is written once, with the status
    # record_remote set, not once there and again at commit.
    payment.cancelled_amount = remote.cancelled_amount
    payment.credited_amount -= delta
    # A cancel at the gateway has already refunded the money: the points go whatever the
    # balance. A negative balance (points spent, then cancelled in the gateway's console) is
    # recorded and flagged for an operator; spending is refused until it is settled.
    entry = await ledger.append_entry(
        s,
        user_id=payment.user_id,
        amount=-delta,
        status=ledger.CANCEL,
        entry_key=credit.cancel_key(payment.id, remote.cancelled_amount),
        detail=f"{credit.method_label(remote.pay_method)} 결제 취소",
        payment_id=payment.id,
        payment_key=remote.payment_key,
        allow_negative=True,
    )
    if entry.balance < 0:
        payment.anomaly = "negative_balance"
        log.warning(
            "user %s balance is %s after a cancel of %s (%s): flagged for an operator",
            payment.user_id,
            entry.balance,
            remote.payment_key,
            "our request" if ours else "outside our API",
        )
    return entry
