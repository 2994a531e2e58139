"""Bootpay billing keys (정기결제, REST v2) on the Bootpay client's credentials and transport.

What callers must know (billing-and-bootpay.md §C.5, §F):
- the browser never sees a billing_key, only the issuing ``receipt_id``: the key is read here with
  ``GET /subscribe/billing_key/{receipt_id}`` (``key_of_receipt``); ``BillingKey.issue_ref`` is the
  key's ``subscription_id`` — the value our server made for the request, which binds it to a caller;
- ``POST /subscribe/payment`` makes one attempt per call and is never retried here. A decline is a
  non-2xx ``{error_code, message, pg_error_code}``: returned as a FAILED payment (``fail_reason`` =
  the card company's message) with an empty ``payment_key`` — Bootpay keeps no receipt of it, so
  there is nothing to record or look up. Any other refusal raises BootpayRejected;
- Bootpay refuses an ``order_id`` that already paid ("같은 order_id로 중복 결제 불가"), and has no
  lookup by order_id. ``payments_of_order`` therefore re-reads the receipts *we* recorded for the
  order (its webhook, or an earlier answered charge: ``recorded_receipts``); a duplicate refusal
  whose receipt we have not recorded yet raises BootpayUnavailable (the order is paid, the receipt
  unknown: the webhook will bring it). A resend can never charge twice; the residual risk is a
  paid order that stays unanswered until its webhook arrives (docs/BILLING.md, Bootpay).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from services.errors import Code, DomainError
from services.gateways.base import CANCELLED, FAILED, PAID, PARTIALLY_CANCELLED, BillingKey, GatewayPayment, usable_payment_key
from services.gateways.bootpay.client import READ_RETRIES, BootpayClient
from services.gateways.bootpay.errors import BootpayRejected, BootpayUnavailable, duplicate
from services.gateways.bootpay.receipt import NAME

log = logging.getLogger("pointcharge.bootpay")

# The receipt ids we hold for an order key (newest first): services/billing/bootpay_cards.py.
RecordedReceipts = Callable[[str], Awaitable[list[str]]]
PAID_STATUSES = (PAID, PARTIALLY_CANCELLED, CANCELLED)  # paid once, whatever happened since


def _path(value: str) -> str | None:
    return quote(value, safe="") if usable_payment_key(value) else None


def parse_key(data: dict[str, Any]) -> BillingKey:
    billing = data.get("billing_data") if isinstance(data.get("billing_data"), dict) else {}
    card_type = {"신용": 0, "체크": 1}.get(str(billing.get("card_type") or ""))
    company = billing.get("card_company")
    return BillingKey(
        key=str(data["billing_key"]),
        customer_id=None,
        card_name=f"{company}카드" if company and not str(company).endswith("카드") else company,
        card_number=billing.get("card_no"),
        card_type=card_type,
        pg_provider=str(data["pg"])[:64] if data.get("pg") else None,
        issue_ref=str(data["subscription_id"]) if data.get("subscription_id") else None,
    )


class BootpayBilling:
    name = NAME

    def __init__(self, client: BootpayClient, recorded_receipts: RecordedReceipts) -> None:
        self.client = client
        self.recorded_receipts = recorded_receipts

    async def _key(self, path: str) -> BillingKey | None:
        try:
            data = await self.client._call("GET", path, retries=READ_RETRIES)
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:  # the client's answer to a 404 / *_NOT_FOUND
                return None
            raise
        try:
            return parse_key(data)
        except (KeyError, TypeError) as exc:
            raise BootpayUnavailable("malformed billing key") from exc

    async def get_billing_key(self, key: str) -> BillingKey | None:
        """``GET /billing_key/{billing_key}``; None when Bootpay has no such (live) key."""
        path = _path(key)
        return None if path is None else await self._key(f"/billing_key/{path}")

    async def key_of_receipt(self, receipt_id: str) -> BillingKey | None:
        """``GET /subscribe/billing_key/{receipt_id}``: the key the browser's window issued."""
        path = _path(receipt_id)
        return None if path is None else await self._key(f"/subscribe/billing_key/{path}")

    async def delete_billing_key(self, key: str) -> bool:
        """``DELETE /subscribe/billing_key/{billing_key}``: True when deleted now, False when Bootpay
        had no such key (deleted by an earlier attempt whose answer we lost). Safe to repeat.
        Bootpay keeps the key's reservations: we book none (our own scheduler charges)."""
        path = _path(key)
        if path is None:
            return False
        try:
            await self.client._call("DELETE", f"/subscribe/billing_key/{path}", retries=READ_RETRIES)
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:
                return False
            raise
        return True

    async def charge(
        self, *, key: str, order_key: str, amount: int, name: str, customer_id: str | None = None
    ) -> GatewayPayment:
        """``POST /subscribe/payment`` with ``order_id`` = our order key, sent once. Returns the
        receipt (paid) or a FAILED payment (a decline); raises BootpayRejected (refused before the
        card company: an unknown key…) or BootpayUnavailable (no answer, or paid by an attempt whose
        receipt we do not know yet)."""
        body: dict[str, Any] = {"billing_key": key, "order_id": order_key, "order_name": name, "price": amount,
                                "tax_free": 0}
        if customer_id:
            body["user"] = {"id": customer_id}
        try:
            data = await self.client._call("POST", "/subscribe/payment", json=body, retries=0)
        except BootpayRejected as exc:
            if exc.pg_error_code:
                log.info("bootpay charge of %s declined (%s %s)", order_key, exc.error_code, exc.pg_error_code)
                return self._declined(order_key, amount, name, exc.gateway_message)
            if duplicate(exc.error_code):
                return await self._paid_before(order_key)
            raise
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:  # the key is gone (deleted in Bootpay's admin)
                raise BootpayRejected(404, "BILLING_KEY_NOT_FOUND", "빌링키를 찾을 수 없습니다.") from None
            raise
        return self.client._parse(data)

    async def _paid_before(self, order_key: str) -> GatewayPayment:
        """Bootpay says the order_id already paid: an earlier attempt (whose answer was lost) did."""
        for payment in await self.payments_of_order(order_key):
            if payment.status in PAID_STATUSES:
                return payment
        log.warning("bootpay: order %s already paid, its receipt not known yet (waiting for the webhook)", order_key)
        raise BootpayUnavailable("order already paid at Bootpay; receipt not known yet")

    @staticmethod
    def _declined(order_key: str, amount: int, name: str, reason: str) -> GatewayPayment:
        return GatewayPayment(
            provider=NAME, payment_key="", order_key=order_key, status=FAILED, amount=amount, cancelled_amount=0,
            currency="KRW", pay_method="card", pg_provider=None, paid_at=None, name=name,
            fail_reason=reason or "카드사 승인 거절",
        )

    async def payments_of_order(self, order_key: str) -> list[GatewayPayment]:
        """The receipts we recorded for the order, as Bootpay shows them now, newest first. Bootpay
        has no lookup by order_id: a charge whose answer was lost and whose webhook has not arrived
        is not found here (``charge`` then meets Bootpay's duplicate refusal, never a second charge)."""
        payments = []
        for receipt_id in await self.recorded_receipts(order_key):
            try:
                payments.append(await self.client.get_payment(receipt_id))
            except DomainError as exc:
                if exc.code != Code.PAYMENT_NOT_FOUND:
                    raise
        return payments
