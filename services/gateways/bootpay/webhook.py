"""Bootpay's webhook body (관리자 > 웹훅 설정, or a call's ``feedback_url``): the receipt as
``GET /v2/receipt`` shows it plus ``webhook_type``, as JSON or form-urlencoded (``content_type``
is a per-request choice). Only a hint of which receipt changed: Bootpay signs nothing, so the
receiver re-fetches the receipt and trusts that alone (services/webhooks.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from services.gateways.base import InvalidWebhook, usable_payment_key

# A receipt with card_data/vbank_data and metadata is a few KiB; far more is not Bootpay's.
MAX_BODY = 32 * 1024
# PAYMENT_COMPLETED (1), PAYMENT_CANCELLED / PAYMENT_PARTIAL_CANCELLED (20),
# PAYMENT_VIRTUAL_ACCOUNT_ISSUED (5); older senders leave webhook_type out and give status only.
HANDLED_STATUSES = frozenset({1, 5, 20})


@dataclass(frozen=True)
class BootpayWebhook:
    receipt_id: str
    webhook_type: str | None
    status: int | None
    cancelled_price: int | None = None

    @property
    def event(self) -> str:
        """What the delivery claims, for the audit trail and the de-duplication window. Partial
        cancels repeat one receipt and one webhook_type: the cancelled total tells a second one
        from a redelivery (its senders are allow-listed, so the body may tell changes apart)."""
        claim = self.webhook_type or f"status:{self.status}"
        if self.cancelled_price:
            claim += f":{self.cancelled_price}"
        return claim[:64]

    @property
    def handled(self) -> bool:
        return self.webhook_type is not None or self.status in HANDLED_STATUSES


def parse_webhook(content_type: str, body: bytes) -> BootpayWebhook:
    if len(body) > MAX_BODY:
        raise InvalidWebhook("body too large")
    try:
        text = body.decode("utf-8") if body else ""
        if "json" in content_type or text.lstrip().startswith("{"):
            data = json.loads(text)
            if not isinstance(data, dict):
                raise InvalidWebhook("JSON body is not an object")
        else:
            data = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidWebhook(f"unparseable body: {type(exc).__name__}") from None
    receipt_id = data.get("receipt_id")
    if not isinstance(receipt_id, str) or len(receipt_id) > 100 or not usable_payment_key(receipt_id.strip()):
        raise InvalidWebhook("receipt_id missing or invalid")
    webhook_type = data.get("webhook_type")
    status = data.get("status")
    if isinstance(status, str) and status.lstrip("-").isdigit():
        status = int(status)  # a form body has strings only
    cancelled = data.get("cancelled_price")
    if isinstance(cancelled, str) and cancelled.isdigit() and len(cancelled) < 16:
        cancelled = int(cancelled)
    return BootpayWebhook(
        receipt_id=receipt_id.strip(),
        webhook_type=webhook_type[:64] if isinstance(webhook_type, str) and webhook_type else None,
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        cancelled_price=cancelled if isinstance(cancelled, int) and not isinstance(cancelled, bool) else None,
    )
