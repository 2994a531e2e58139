"""PortOne V1 billing keys (정기결제, ``/subscribe/*``) on the V1 client's token and transport.

What callers must know (billing-and-bootpay.md §A.3, §F): a declined charge is *not* an error —
``again`` answers ``code 0`` with a payment whose status is ``failed`` and ``fail_reason``; a non-zero
code means the request never reached the card company (an unknown customer_uid: code 1
"등록되지 않은 구매자입니다."; a merchant_uid already paid: "이미 주문이 이루어진 건입니다").
``again`` is never retried here: a blind retry could charge twice. The caller looks the order up by
its merchant_uid (``payments_of_order``) when it does not know whether a charge went through.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from services.errors import Code, DomainError
from services.gateways.base import BillingKey, GatewayPayment, GatewayUnavailable, usable_payment_key
from services.gateways.portone.v1 import PortOneV1Client


def _path(value: str) -> str:
    if not usable_payment_key(value):
        raise DomainError(Code.BAD_USER_INPUT, "올바르지 않은 식별자입니다.")
    return quote(value, safe="")


def parse_customer(data: dict[str, Any]) -> BillingKey:
    card_type = data.get("card_type")
    return BillingKey(
        key=str(data["customer_uid"]),
        customer_id=data.get("customer_id"),
        card_name=data.get("card_name") or data.get("card_publisher_name"),
        card_number=data.get("card_number"),
        card_type=card_type if isinstance(card_type, int) and not isinstance(card_type, bool) else None,
        pg_provider=data.get("pg_provider"),
    )


class PortOneV1Billing:
    name = "portone_v1"

    def __init__(self, client: PortOneV1Client) -> None:
        self.client = client

    async def get_billing_key(self, key: str) -> BillingKey | None:
        """``GET /subscribe/customers/{customer_uid}`` (V1's key is the customer_uid); None when
        PortOne has no key under it."""
        try:
            data = await self.client._call("GET", f"/subscribe/customers/{_path(key)}", idempotent=True)
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:  # the client's answer to a 404
                return None
            raise
        if not isinstance(data, dict):
            return None
        try:
            return parse_customer(data)
        except (KeyError, TypeError) as exc:
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed customer") from exc

    async def delete_billing_key(self, key: str) -> bool:
        """``DELETE /subscribe/customers/{customer_uid}``: True when deleted now, False when PortOne
        had no key under it (deleted before: by an earlier attempt whose answer we lost, or in
        PortOne's console). Safe to repeat."""
        try:
            await self.client._call(
                "DELETE", f"/subscribe/customers/{_path(key)}", idempotent=True,
                params={"reason": "사용자 요청으로 카드 삭제"},
            )
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:
                return False
            raise
        return True

    async def charge(
        self, *, key: str, order_key: str, amount: int, name: str, customer_id: str | None = None
    ) -> GatewayPayment:
        """``POST /subscribe/payments/again``: one charge of the saved card, sent once (no retry).
        Returns the payment, paid or failed (a decline); raises GatewayRejected (code != 0: nothing
        reached the card company) or GatewayUnavailable (no answer: the outcome is unknown)."""
        # customer_id is not an ``again`` field in V1: the key already names the customer.
        body = {"customer_uid": key, "merchant_uid": order_key, "amount": amount, "name": name}
        data = await self.client._call("POST", "/subscribe/payments/again", idempotent=False, json=body)
        if not isinstance(data, dict):
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed again response")
        return self.client._parse(data)

    async def payments_of_order(self, order_key: str) -> list[GatewayPayment]:
        """Every attempt PortOne holds for a merchant_uid (``GET /payments/findAll/{merchant_uid}``,
        first page of 100: a card order has a handful), newest first; [] when there is none."""
        try:
            data = await self.client._call(
                "GET", f"/payments/findAll/{_path(order_key)}", idempotent=True, params={"limit": 100}
            )
        except DomainError as exc:
            if exc.code == Code.PAYMENT_NOT_FOUND:
                return []
            raise
        return [self.client._parse(item) for item in (data or {}).get("list") or []]
