"""PortOne's webhooks read: V1's unsigned body (JSON or form) and V2's signed one (Standard
Webhooks). Only which payment changed is taken from them (services/webhooks.py re-fetches it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from portone_server_sdk import webhook as portone_webhook

from services.gateways.base import InvalidWebhook

V1_STATUSES = frozenset({"ready", "paid", "cancelled", "failed"})
# PortOne's webhooks are well under 1 KiB (V1: imp_uid, merchant_uid, status[, cancellation_id];
# V2: type, timestamp, data{paymentId, storeId, transactionId…}): a bigger body is not one of theirs.
MAX_BODY = 8 * 1024


@dataclass(frozen=True)
class V1Webhook:
    imp_uid: str
    merchant_uid: str | None
    status: str
    cancellation_id: str | None = None


def parse_v1(content_type: str, body: bytes) -> V1Webhook:
    """PortOne sends JSON or form-urlencoded (a console setting) ``{imp_uid, merchant_uid, status}``."""
    if len(body) > MAX_BODY:
        raise InvalidWebhook("body too large")
    data: Mapping[str, object]
    try:
        text = body.decode("utf-8", errors="strict") if body else ""
        if "json" in content_type or text.lstrip().startswith("{"):
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise InvalidWebhook("JSON body is not an object")
            data = loaded
        else:
            data = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidWebhook(f"unparseable body: {type(exc).__name__}") from None
    imp_uid, status = data.get("imp_uid"), data.get("status")
    merchant_uid, cancellation_id = data.get("merchant_uid"), data.get("cancellation_id")
    if not isinstance(imp_uid, str) or not imp_uid.strip() or len(imp_uid) > 100 or "/" in imp_uid:
        raise InvalidWebhook("imp_uid missing or invalid")
    if not isinstance(status, str) or not status:
        raise InvalidWebhook("status missing")
    return V1Webhook(
        imp_uid=imp_uid.strip(),
        merchant_uid=merchant_uid if isinstance(merchant_uid, str) else None,
        status=status,
        cancellation_id=cancellation_id if isinstance(cancellation_id, str) else None,
    )


def verify_v2(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> tuple[str, str | None]:
    """Returns (event type, paymentId or None). Raises InvalidWebhook when no secret verifies."""
    if not secrets:
        raise InvalidWebhook("no V2 webhook secret configured")
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhook("body is not UTF-8") from None
    lowered = {k.lower(): v for k, v in headers.items()}
    reason = "NO_MATCHING_SIGNATURE"
    for secret in secrets:  # the current secret, then the previous one during a rotation
        try:
            webhook = portone_webhook.verify(secret, payload, lowered)
        except portone_webhook.WebhookVerificationError as exc:
            reason = exc.reason
            if reason != "NO_MATCHING_SIGNATURE":
                break  # missing headers or a stale/future timestamp: no other secret helps
            continue
        except (ValueError, TypeError, KeyError) as exc:  # a signed body the SDK cannot read
            raise InvalidWebhook(f"unreadable payload: {type(exc).__name__}") from None
        return _v2_event(webhook, payload)
    raise InvalidWebhook(f"signature verification failed: {reason}")


def _v2_event(webhook: object, payload: str) -> tuple[str, str | None]:
    # The SDK returns typed objects for events it knows and a plain dict for the others; read the
    # type and paymentId from the verified JSON either way.
    data = json.loads(payload)
    event = str(data.get("type") or type(webhook).__name__)
    inner = data.get("data") if isinstance(data.get("data"), dict) else {}
    payment_id = inner.get("paymentId")
    if not isinstance(payment_id, str) or not payment_id or len(payment_id) > 100:
        payment_id = None
    return event[:64], payment_id
