"""Bootpay's receipt (``GET /v2/receipt/{receipt_id}``, ``POST /v2/cancel``, ``POST /v2/confirm`` all
answer one) → the normalised payment. The only place that knows Bootpay's status numbers.

    0 결제대기, 3 결제승인중 (and anything unknown)  → PREPARED: nothing paid, nothing to do yet
    1 결제완료                                        → PAID (PARTIALLY_CANCELLED if part is cancelled)
    2 결제승인대기 (``separately_confirmed``)          → AUTHORIZED: the buyer approved, we have not confirmed
    5 가상계좌 발급완료                                → READY: waiting for the deposit
    20 결제취소완료 (full and partial alike)          → CANCELLED or PARTIALLY_CANCELLED, by cancelled_price
    negative (-1 중간 실패, -2 승인 실패, -3 발급 취소…) → FAILED
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services import payment_state as st
from services.gateways.base import (
    AUTHORIZED,
    CANCELLED,
    FAILED,
    PAID,
    PARTIALLY_CANCELLED,
    READY,
    GatewayPayment,
    VirtualAccount,
)

NAME = "bootpay"

# Bootpay's ``method_symbol`` → our pay_method vocabulary (services/credit.PAY_METHOD_LABELS).
_METHODS = {
    "card": "card",
    "card_rebill": "card",  # a billing-key (정기결제) charge
    "vbank": "vbank",
    "bank": "trans",
    "phone": "phone",
    "kakao": "kakaopay",
    "kakaopay": "kakaopay",
    "naverpay": "naverpay",
    "npay": "naverpay",
    "toss": "tosspay",
    "tosspay": "tosspay",
    "payco": "payco",
}
_METHOD_NAMES = {"카드": "card", "카드자동": "card", "가상계좌": "vbank", "계좌이체": "trans", "휴대폰": "phone"}


def money(value: Any) -> int:
    # KRW has no minor unit: anything fractional (or missing) is a corrupt answer, not a rounding.
    if isinstance(value, bool) or value is None:
        raise ValueError("amount missing")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"non-integral amount {value!r}")


def timestamp(value: Any) -> datetime | None:
    """Bootpay's times are ISO 8601 with an offset (``2026-12-06T22:01:02+09:00``)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def normalised_status(status: Any, price: int, cancelled: int) -> str:
    if isinstance(status, bool) or not isinstance(status, int):
        raise ValueError(f"status is not a number: {status!r}")
    if status == 1:
        return PARTIALLY_CANCELLED if 0 < cancelled < price else (CANCELLED if cancelled >= price > 0 else PAID)
    if status == 2:
        return AUTHORIZED
    if status == 5:
        return READY
    if status == 20:
        return CANCELLED if cancelled >= price else PARTIALLY_CANCELLED
    if status < 0:
        return FAILED
    # 0 (결제대기), 3 (승인중), and receipts that are not payments (11 billing key, 12 본인인증…):
    # not paid, so never credited; a later lookup moves them on.
    return st.PREPARED


def pay_method(data: dict[str, Any]) -> str | None:
    symbol = data.get("method_symbol") or data.get("method_origin_symbol")
    if isinstance(symbol, str) and symbol:
        return _METHODS.get(symbol, symbol[:32])
    method = data.get("method")
    if isinstance(method, str) and method:
        return _METHOD_NAMES.get(method, method[:32])
    return None


def virtual_account(data: dict[str, Any]) -> VirtualAccount | None:
    vbank = data.get("vbank_data")
    if not isinstance(vbank, dict) or not (vbank.get("bank_account") or vbank.get("bank_code")):
        return None
    return VirtualAccount(
        bank_name=vbank.get("bank_name"),
        bank_code=vbank.get("bank_code"),
        account_number=vbank.get("bank_account"),
        holder=vbank.get("bank_username"),
        due_at=timestamp(vbank.get("expired_at")),
    )


def parse_receipt(data: dict[str, Any]) -> GatewayPayment:
    """Raises KeyError/TypeError/ValueError on an answer that is not a receipt (the client turns
    them into "unavailable": a corrupt answer must never read as "not paid")."""
    price = money(data["price"])
    cancelled = money(data.get("cancelled_price") or 0)
    receipt_id, order_id = data["receipt_id"], data["order_id"]
    if not isinstance(receipt_id, str) or not receipt_id or not isinstance(order_id, str):
        raise ValueError("receipt_id/order_id missing")
    status = normalised_status(data.get("status"), price, cancelled)
    return GatewayPayment(
        provider=NAME,
        payment_key=receipt_id,
        order_key=order_id,
        status=status,
        amount=price,
        cancelled_amount=cancelled,
        currency=str(data.get("currency") or "KRW"),
        pay_method=pay_method(data),
        pg_provider=(str(data["pg"])[:64] if data.get("pg") else None),
        paid_at=timestamp(data.get("purchased_at")),
        name=data.get("order_name"),
        fail_reason=None if status != FAILED else str(data.get("status_locale") or "결제 실패"),
        virtual_account=virtual_account(data),
        raw=data,
    )
