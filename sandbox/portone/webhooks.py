"""Webhook delivery as PortOne does it, recorded attempt by attempt.

V1 (docs/v1-webhook.md): POST {imp_uid, merchant_uid, status[, cancellation_id]} as JSON or
form-urlencoded (a console setting), on paid / vbank issued (ready) / vbank deposit (paid) /
console cancel (cancelled); never on failure. PortOne retries V1 only on network errors and
HTTP 5xx, so a 4xx answer is final here too.

V2 (docs/v2-webhook.md, version 2024-04-25): JSON {type, timestamp, data{paymentId, storeId,
transactionId[, cancellationId]}} signed per Standard Webhooks; retried on any failure with
exponential backoff. `timestamp` in the body and `webhook-id` stay the same across retries,
`webhook-timestamp`/`webhook-signature` are computed per attempt.

Deliveries run as background tasks so the request that caused them never waits on the
merchant's server (PortOne answers the browser without waiting for the webhook either).
Every record is written to the state file as it changes; a delivery still under way when the
process stopped is taken up again by the next process (PortOne would keep retrying too).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from ..shared import WebhookTasks

if TYPE_CHECKING:  # pragma: no cover
    from .store import Payment, Store

# "schedule_failed": a scheduled (정기결제) attempt that was declined, the one failure V1 reports.
V1_EVENT_STATUS = {"paid": "paid", "vbank_issued": "ready", "cancelled": "cancelled", "schedule_failed": "failed"}


def _v2_type(payment: "Payment", event: str) -> str | None:
    if event == "paid":
        return "Transaction.Paid"
    if event == "vbank_issued":
        return "Transaction.VirtualAccountIssued"
    if event == "ready":
        return "Transaction.Ready"
    if event == "failed":
        return "Transaction.Failed"
    if event == "cancelled":
        return "Transaction.Cancelled" if payment.status == "cancelled" else "Transaction.PartialCancelled"
    return None


def sign_v2(secret: str, msg_id: str, timestamp: str, body: str) -> str:
    """Standard Webhooks v1 signature: base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    key = base64.b64decode(raw)
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookDispatcher(WebhookTasks):
    store: "Store"

    # ------------------------------------------------------------------ building
    def emit(self, payment: "Payment", event: str, cancellation_id: str | None) -> None:
        """Queue the webhook(s) PortOne would send for `event` on `payment`, if any."""
        cfg = self.store.config
        if payment.version == "v1":
            status = V1_EVENT_STATUS.get(event)
            if status is None:  # failures and abandoned windows send nothing in V1
                return
            url = payment.notice_url or cfg.webhook_url
            data: dict[str, Any] = {
                "imp_uid": payment.imp_uid,
                "merchant_uid": payment.merchant_uid,
                "status": status,
            }
            if cancellation_id is not None:
                data["cancellation_id"] = cancellation_id
            if cfg.webhook_format == "form":
                body = urlencode(data)
                content_type = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                content_type = "application/json"
            message = {"event": status, "msg_id": None}
        else:
            wtype = _v2_type(payment, event)
            if wtype is None:
                return
            url = payment.notice_url or cfg.v2_webhook_url
            from .store import iso  # local import: store imports this module

            v2data: dict[str, Any] = {
                "paymentId": payment.payment_id,
                "storeId": cfg.store_id,
                "transactionId": payment.transaction_id,
            }
            if cancellation_id is not None:
                v2data["cancellationId"] = cancellation_id
            body = json.dumps(
                {"type": wtype, "timestamp": iso(self.store.now()), "data": v2data},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            content_type = "application/json"
            message = {"event": wtype, "msg_id": "msg_" + uuid.uuid4().hex}

        faults = self.store.faults
        rng = self.store.rng
        copies = 1
        if faults.webhook_duplicate and rng.random() < faults.webhook_duplicate:
            copies = 2
        dropped = bool(faults.webhook_drop_rate) and rng.random() < faults.webhook_drop_rate
        for copy in range(copies):
            record: dict[str, Any] = {
                "id": len(self.log) + 1,
                "version": payment.version,
                "event": message["event"],
                "imp_uid": payment.imp_uid,
                "merchant_uid": payment.merchant_uid,
                "payment_id": payment.payment_id,
                "url": url,
                "content_type": content_type,
                "body": body,
                "webhook_id": message["msg_id"],
                "headers": {},
                "attempts": [],
                "response_status": None,
                "status": "pending",
                "duplicate": copy > 0,
                "created_at": self.store.now(),
            }
            self._queue(record, dropped=dropped)

    # ------------------------------------------------------------------ sending
    async def _deliver(self, record: dict[str, Any]) -> None:
        cfg = self.store.config
        max_attempts = 1 + max(0, cfg.webhook_retries)
        timeout = httpx.Timeout(cfg.webhook_timeout_s, connect=min(10.0, cfg.webhook_timeout_s))
        async with httpx.AsyncClient(timeout=timeout) as client:
            for attempt in range(1, max_attempts + 1):
                headers = {"Content-Type": record["content_type"], "User-Agent": "PortOne-Sandbox-Webhook"}
                if record["version"] == "v2":
                    ts = str(int(time.time()))  # real clock: receivers check it against theirs
                    headers["webhook-id"] = record["webhook_id"]
                    headers["webhook-timestamp"] = ts
                    headers["webhook-signature"] = sign_v2(cfg.v2_webhook_secret, record["webhook_id"], ts, record["body"])
                record["headers"] = headers
                entry: dict[str, Any] = {"attempt": attempt, "at": self.store.now(), "status": None, "error": None}
                record["attempts"].append(entry)
                retryable = True
                try:
                    resp = await client.post(record["url"], content=record["body"].encode(), headers=headers)
                    entry["status"] = resp.status_code
                    record["response_status"] = resp.status_code
                    if 200 <= resp.status_code < 300:
                        record["status"] = "delivered"
                        self.store.save_webhook(record)
                        return
                    # V1 documents retries only for network errors and 5xx answers.
                    retryable = record["version"] == "v2" or resp.status_code >= 500
                except httpx.HTTPError as exc:
                    entry["error"] = f"{type(exc).__name__}: {exc}"
                self.store.save_webhook(record)
                if not retryable or attempt == max_attempts:
                    break
                await asyncio.sleep(cfg.webhook_backoff_s * (2 ** (attempt - 1)))
        record["status"] = "failed"
        self.store.save_webhook(record)
