"""PortOne V2 billing keys (``/billing-keys``, ``/payments/{paymentId}/billing-key``) on the V2
client's SDK, credentials and transport (v2.py).

What callers must know (billing-and-bootpay.md §B, v2.openapi.yml ``payWithBillingKey``):
- a declined card is ``502 PG_PROVIDER {pgCode, pgMessage}`` and leaves a FAILED payment under the
  paymentId; here it is that FAILED payment, returned (``fail_reason`` = the card company's
  ``pgMessage``), not an exception — as V1's ``code 0, status failed``;
- the paymentId is ours (the order's key). PortOne refuses it only once it is paid (``409
  ALREADY_PAID``, "결제가 이미 완료된 경우"); a FAILED paymentId may be charged again (the spec's
  ``MAX_TRANSACTION_COUNT_REACHED``, "결제 혹은 본인인증 시도 횟수가 최대에 도달한 경우", bounds the
  attempts on one paymentId), so every attempt on an order uses the order's key, as on V1;
- the POST answers only ``{pgTxId, paidAt}``: the payment is read back (``GET /payments/{id}``);
- the POST is never retried here: a blind retry could charge twice. ``ALREADY_PAID`` (an earlier
  attempt whose answer was lost) reads the payment instead of failing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from portone_server_sdk import errors as sdk_errors
from portone_server_sdk.common import CustomerInput, PaymentAmountInput

from services.errors import Code, DomainError
from services.gateways.base import FAILED, BillingKey, GatewayPayment, GatewayRejected, GatewayUnavailable, usable_payment_key
from services.gateways.portone.v2 import NOT_STARTED, READ_RETRIES, PortOneV2Client

DELETE_REASON = "사용자 요청으로 카드 삭제"
_CARD_TYPES = {"CREDIT": 0, "DEBIT": 1}  # BillingKey.card_type: 0 credit, 1 check (체크카드)


@dataclasses.dataclass(frozen=True)
class _Answered:
    """An SDK error this module expects and handles itself (not a failure of the call)."""

    error: Exception


def _key_usable(key: str) -> bool:
    return usable_payment_key(key) and len(key) <= 200


def parse_billing_key(info: Any) -> BillingKey:
    """``IssuedBillingKeyInfo`` → BillingKey: the card of its first card method (masked number,
    name), the customer it was issued for and the browser request (``issueId``) that issued it."""
    card = None
    for method in info.methods or []:
        card = getattr(method, "card", None)
        if card is not None:
            break
    channels = getattr(info, "channels", None) or []
    pg = getattr(channels[0], "pg_provider", None) if channels else None
    customer = getattr(info, "customer", None)
    return BillingKey(
        key=str(info.billing_key),
        customer_id=getattr(customer, "id", None),
        card_name=getattr(card, "name", None) or getattr(card, "issuer", None),
        card_number=getattr(card, "number", None),
        card_type=_CARD_TYPES.get(str(getattr(card, "type", None) or "")),
        pg_provider=str(pg) if pg else None,
        issue_ref=getattr(info, "issue_id", None),
    )


class PortOneV2Billing:
    name = "portone_v2"

    def __init__(self, client: PortOneV2Client) -> None:
        self.client = client
        self._keys = client._sdk.billing_key
        self._schedules = client._sdk.payment_schedule

    async def _sdk(self, what: str, call: Any, *, retries: int, expected: tuple[type[Exception], ...]) -> Any:
        """The SDK call through the V2 client's error handling (credentials, 5xx, transport); the
        ``expected`` errors come back as ``_Answered`` for the caller to decide."""

        async def guarded() -> Any:
            try:
                return await call()
            except expected as exc:
                return _Answered(exc)

        return await self.client._call(what, guarded, retries=retries)

    async def get_billing_key(self, key: str) -> BillingKey | None:
        """``GET /billing-keys/{billingKey}``; None when PortOne has no such key or it is DELETED."""
        if not _key_usable(key):
            return None
        info = await self._sdk(
            "get_billing_key", lambda: self._keys.get_billing_key_info_async(billing_key=key),
            retries=READ_RETRIES, expected=(sdk_errors.BillingKeyNotFoundError,),
        )
        if isinstance(info, _Answered) or type(info).__name__ == "DeletedBillingKeyInfo":
            return None
        try:
            return parse_billing_key(info)
        except (AttributeError, TypeError) as exc:
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed billing key") from exc

    async def delete_billing_key(self, key: str) -> bool:
        """``DELETE /billing-keys/{billingKey}``: True when deleted now, False when PortOne has it no
        more (404, or 409 already deleted: an earlier attempt whose answer was lost, the console).
        PortOne refuses to delete a key with pending schedules (409 PAYMENT_SCHEDULE_ALREADY_EXISTS):
        they are revoked (``DELETE /payment-schedules {billingKey}``), then the key is deleted."""
        if not _key_usable(key):
            return False
        gone = (sdk_errors.BillingKeyNotFoundError, sdk_errors.BillingKeyNotIssuedError,
                sdk_errors.BillingKeyAlreadyDeletedError)
        for _ in range(2):
            answer = await self._sdk(
                "delete_billing_key",
                lambda: self._keys.delete_billing_key_async(billing_key=key, reason=DELETE_REASON),
                retries=READ_RETRIES,  # repeating a delete is harmless: the repeat finds it gone
                expected=(*gone, sdk_errors.PaymentScheduleAlreadyExistsError),
            )
            if not isinstance(answer, _Answered):
                return True
            if isinstance(answer.error, gone):
                return False
            await self._revoke_schedules(key)
        raise GatewayRejected(Code.PORTONE_UNAVAILABLE, 409, "결제 예약이 남아 있어 빌링키를 삭제하지 못했습니다.")

    async def _revoke_schedules(self, key: str) -> None:
        await self._sdk(
            "revoke_payment_schedules",
            lambda: self._schedules.revoke_payment_schedules_async(billing_key=key),
            retries=READ_RETRIES,  # all-or-nothing at PortOne; a repeat revokes what is left
            expected=(sdk_errors.PaymentScheduleNotFoundError, sdk_errors.PaymentScheduleAlreadyRevokedError,
                      sdk_errors.PaymentScheduleAlreadyProcessedError),
        )

    async def charge(
        self, *, key: str, order_key: str, amount: int, name: str, customer_id: str | None = None
    ) -> GatewayPayment:
        """``POST /payments/{order_key}/billing-key``, sent once, then the payment read back: PAID,
        or FAILED (a decline, ``fail_reason`` = pgMessage). Raises GatewayRejected (the key is gone:
        nothing reached the card company) or GatewayUnavailable (no answer: the outcome is unknown,
        the caller looks the order up with ``payments_of_order``)."""
        if not _key_usable(key):
            raise GatewayRejected(Code.PORTONE_UNAVAILABLE, 404, "빌링키가 존재하지 않습니다.")
        if not usable_payment_key(order_key):
            raise DomainError(Code.BAD_USER_INPUT, "올바르지 않은 식별자입니다.")
        answer = await self._sdk(
            "pay_with_billing_key",
            lambda: self.client._sdk.pay_with_billing_key_async(
                payment_id=order_key, billing_key=key, order_name=name,
                customer=CustomerInput(id=customer_id) if customer_id else None,
                amount=PaymentAmountInput(total=amount), currency="KRW",
            ),
            retries=0,
            expected=(sdk_errors.PgProviderError, sdk_errors.AlreadyPaidError, sdk_errors.BillingKeyNotFoundError,
                      sdk_errors.BillingKeyAlreadyDeletedError, sdk_errors.MaxTransactionCountReachedError),
        )
        reason = None
        if isinstance(answer, _Answered):
            error = answer.error
            if isinstance(error, sdk_errors.PgProviderError):
                reason = error.pg_message or getattr(error, "message", None)  # the card company's words
            elif not isinstance(error, sdk_errors.AlreadyPaidError):  # ALREADY_PAID: read what paid it
                status = 400 if isinstance(error, sdk_errors.MaxTransactionCountReachedError) else 404
                raise GatewayRejected(Code.PORTONE_UNAVAILABLE, status, getattr(error, "message", None) or type(error).__name__)
        payment = await self.client.get_payment(order_key)
        if reason is not None and payment.status == FAILED:
            payment = dataclasses.replace(payment, fail_reason=reason)
        return payment

    async def payments_of_order(self, order_key: str) -> list[GatewayPayment]:
        """V2 keeps one payment per paymentId (a new attempt replaces a failed one): [it], or []
        when PortOne has nothing charged under the order."""
        try:
            payment = await self.client.get_payment(order_key)
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:
                return []
            raise
        return [] if payment.status == NOT_STARTED else [payment]
