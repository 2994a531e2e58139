"""Cancelling a charge through our API: refund at the gateway, points taken back, exactly once.

Order of work, so that a crash anywhere is finished by the next sync of the payment:
1. one transaction records the cancel request (holding the points it will take);
2. the gateway's cancel is called with ``checksum`` = the cancellable amount we saw, so a repeated call
   can never refund twice;
3. the sync of the gateway's answer writes the "취소" entry and marks the request succeeded.
If the process dies after 2, the webhook (or reconciliation) runs step 3.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from services import credit, ledger
from services.charging import ChargeService
from services.db import Database
from services.errors import Code, DomainError
from services.locks import lock_own_payment, lock_payment
from services.models import CancelRequest, Payment, PointTransaction, utcnow
from services.gateways.base import GatewayRejected, GatewayUnavailable
from services.gateways.refund_account import MISSING as MISSING_REFUND_ACCOUNT, RefundAccount

log = logging.getLogger("pointcharge.cancel")

CANCEL_NOT_FOUND_AT_PORTONE = (
    "PortOne에서 이 결제를 찾을 수 없어 취소하지 못했습니다. 포인트는 그대로이며, "
    "결제사(PortOne) 관리자 콘솔에서 결제 내역을 확인해 주세요."
)
CANCEL_NOT_FOUND_AT_BOOTPAY = (
    "부트페이에서 이 결제를 찾을 수 없어 취소하지 못했습니다. 포인트는 그대로이며, "
    "부트페이 관리자 화면에서 결제 내역을 확인해 주세요."
)


def _lost_at_gateway(exc: DomainError, provider: str | None) -> DomainError:
    """Our history has the charge (checked before the gateway was called), the gateway does not (a
    sandbox whose state was reset, another store's keys): same code as the charge flow's "not
    found", its own words, and ``where`` to tell them apart without reading the text."""
    if exc.code != Code.PAYMENT_NOT_FOUND:
        return exc
    if provider == "bootpay":
        return DomainError(Code.PAYMENT_NOT_FOUND, CANCEL_NOT_FOUND_AT_BOOTPAY, where="BOOTPAY")
    return DomainError(Code.PAYMENT_NOT_FOUND, CANCEL_NOT_FOUND_AT_PORTONE, where="PORTONE")


class CancelService:
    def __init__(self, db: Database, charging: ChargeService) -> None:
        self.db = db
        self.charging = charging

    async def cancel(
        self,
        user_id: str,
        payment_key: str,
        amount: int | None = None,
        reason: str | None = None,
        *,
        refund_account: RefundAccount | None = None,
        provider: str | None = None,
    ) -> PointTransaction:
        """``refund_account``: required for a deposited virtual account (the gateway must know where to
        send the money back), checked before anything is recorded or sent; passed to the gateway only,
        never stored. ``provider``: needed only when the user has a V1 and a V2 payment under the
        same id."""
        reason = (reason or "사용자 요청 취소").strip()[:200] or "사용자 요청 취소"
        payment_key = payment_key.strip()
        request, provider, pay_method = await self._record_request(
            user_id, payment_key, amount, reason, refund_account is not None, provider
        )
        try:
            remote = await self.charging.provider_for(provider).cancel(
                payment_key,
                amount=request.amount,
                checksum=request.checksum,
                reason=reason,
                request_id=request.id,
                refund_account=refund_account if pay_method == "vbank" else None,
            )
        except GatewayRejected as exc:
            # The gateway refused for good (e.g. already cancelled in its console): release the hold
            # and bring our record up to date.
            await self._fail(request.id, exc.gateway_message)
            try:
                result = await self.charging.sync_by_key(payment_key, source="cancel", provider=provider)
            except DomainError as lookup:
                raise _lost_at_gateway(lookup, provider) from None
            if result.payment.cancelled_amount >= result.payment.amount:
                raise DomainError(Code.ALREADY_CANCELLED) from None
            raise DomainError(Code.CANCEL_AMOUNT_INVALID, f"결제사가 취소를 거절했습니다: {exc.gateway_message}") from None
        except DomainError as exc:
            # Not found (PortOne V2: a 404): the gateway refunded nothing. Release the hold.
            if exc.code == Code.PAYMENT_NOT_FOUND:
                await self._fail(request.id, f"{provider}: payment not found")
            raise _lost_at_gateway(exc, provider) from None
        except GatewayUnavailable:
            # Unknown outcome (timeout, 5xx): the request keeps holding the points; the webhook
            # or reconciliation settles it once the gateway answers.
            log.warning("cancel %s of %s: gateway %s unavailable, left pending", request.id, payment_key, provider)
            raise
        # The attempt is recorded and credited (checked under its lock above) and the gateway's answer
        # moved it: the duplicate fast path has nothing to answer, its reads would be repeated
        # under the lock anyway.
        result = await self.charging.sync_payment(remote, source="cancel", duplicate_check=False)
        return await self._entry_for(request, result.cancel_entry)

    async def _record_request(
        self,
        user_id: str,
        payment_key: str,
        amount: int | None,
        reason: str,
        has_refund_account: bool,
        provider: str | None,
    ) -> tuple[CancelRequest, str, str | None]:
        async with self.db.transaction() as s:
            # One statement finds and locks the attempt in the common case; the two steps below
            # run only when it finds nothing (no such attempt, or V1 and V2 attempts under one id).
            payment = (
                await lock_own_payment(s, user_id=user_id, payment_key=payment_key, provider=provider) if payment_key else None
            )
            if payment is None and payment_key:
                found = select(Payment.provider).where(Payment.payment_key == payment_key, Payment.user_id == user_id)
                if provider is not None:
                    found = found.where(Payment.provider == provider)
                providers = list((await s.execute(found)).scalars())
                if len(providers) > 1:
                    raise DomainError(
                        Code.BAD_USER_INPUT,
                        "같은 ID의 V1·V2 결제가 모두 있습니다. version(V1 또는 V2)을 지정해 주세요.",
                        field="version",
                    )
                payment = await lock_payment(s, provider=providers[0], payment_key=payment_key) if providers else None
            if payment is None or payment.user_id != user_id:
                raise DomainError(Code.PAYMENT_NOT_FOUND)
            self.charging.provider_for(payment.provider)  # a gateway turned off since: refused, nothing held
            if payment.credited_at is None:
                raise DomainError(Code.PAYMENT_NOT_PAID, "충전되지 않은 결제는 취소할 수 없습니다.")
            if payment.pay_method == "vbank" and not has_refund_account:
                # A deposited virtual account is refunded by bank transfer to the buyer's account.
                raise DomainError(Code.BAD_USER_INPUT, MISSING_REFUND_ACCOUNT, field="refundAccount")
            pending = (
                await s.execute(
                    select(func.coalesce(func.sum(CancelRequest.amount), 0)).where(
                        CancelRequest.payment_id == payment.id, CancelRequest.status == "requested"
                    )
                )
            ).scalar_one()
            remaining = payment.amount - payment.cancelled_amount - int(pending)
            if remaining <= 0:
                raise DomainError(Code.ALREADY_CANCELLED)
            if amount is None:
                amount = remaining
            if amount <= 0 or amount > remaining:
                raise DomainError(
                    Code.CANCEL_AMOUNT_INVALID,
                    f"취소 금액은 1원 이상 {remaining:,}원 이하여야 합니다.",
                    field="amount",
                    cancellableAmount=remaining,
                )
            await ledger.reserve(s, user_id, amount)
            request = CancelRequest(
                payment_id=payment.id,
                user_id=user_id,
                amount=amount,
                checksum=payment.amount - payment.cancelled_amount,
                # Counted after the cancels still in flight (held under this lock): three racing
                # cancels of 3,000 are settled at 3,000, 6,000 and 9,000 cancelled, one each, not
                # all three by the first refund (their holds released early, each answering the
                # first one's entry).
                cancelled_after=payment.cancelled_amount + int(pending) + amount,
                reason=reason,
            )
            s.add(request)
        return request, payment.provider, payment.pay_method

    async def _fail(self, request_id: str, error: str) -> None:
        """The gateway refused this request: it failed, whatever a sync recorded meanwhile. A sync
        settles the requests a cancelled total covers (``cancelled_after``, counted after the
        requests in flight): a later request's refund, synced first, covers this one's total too and
        marked it ``succeeded`` before the gateway's refusal of it came back. Its hold went then; the
        money was never at stake, the record was."""
        async with self.db.transaction() as s:
            await s.execute(
                update(CancelRequest)
                .where(CancelRequest.id == request_id, CancelRequest.status.in_(("requested", "succeeded")))
                .values(status="failed", error=error[:500], completed_at=utcnow())
            )

    async def _entry_for(self, request: CancelRequest, written: PointTransaction | None) -> PointTransaction:
        """``written``: the 취소 entry the sync just wrote, if any; the one this request asked for
        needs no read. Otherwise (someone else's sync wrote it, or the gateway reported another total)
        it is read."""
        if written is not None and written.entry_key == credit.cancel_key(request.payment_id, request.cancelled_after):
            return written
        async with self.db.session() as s:
            entry = (
                await s.execute(
                    select(PointTransaction).where(
                        PointTransaction.payment_id == request.payment_id,
                        PointTransaction.status == ledger.CANCEL,
                        PointTransaction.entry_key == credit.cancel_key(request.payment_id, request.cancelled_after),
                    )
                )
            ).scalar_one_or_none()
        if entry is None:
            # The gateway reported a different cancelled total than we asked for (a concurrent
            # console cancel): the sync recorded what happened; show the latest cancel entry.
            async with self.db.session() as s:
                entry = (
                    await s.execute(
                        select(PointTransaction)
                        .where(PointTransaction.payment_id == request.payment_id, PointTransaction.status == ledger.CANCEL)
                        .order_by(PointTransaction.created_at.desc())
                        .limit(1)
                    )
                ).scalar_one_or_none()
        if entry is None:
            raise DomainError(Code.INTERNAL_SERVER_ERROR)
        return entry
