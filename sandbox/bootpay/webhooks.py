"""Webhooks as Bootpay v2 sends them, recorded attempt by attempt.

The body is the receipt (as GET /v2/receipt shows it) plus ``webhook_type``: PAYMENT_COMPLETED
(status 1), PAYMENT_VIRTUAL_ACCOUNT_ISSUED (5), PAYMENT_CANCELLED / PAYMENT_PARTIAL_CANCELLED (20).
A delivery succeeds only on HTTP 200 *and* a JSON body with ``"success": true`` ("하나라도 빠지면
실패로 간주하고 재시도"); anything else, 4xx included, is retried, up to ``webhook_retries`` times.
Bootpay signs nothing (merchants re-fetch the receipt), so neither does the emulator.

Deliveries run in background tasks; a delivery still under way when the process stopped is taken
up again by the next one (Bootpay would keep retrying too).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from ..shared import WebhookTasks

if TYPE_CHECKING:  # pragma: no cover
    from .store import Receipt, Store


def accepted(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    try:
        return json.loads(response.content).get("success") is True
    except (ValueError, AttributeError):
        return False


def _encode(payload: dict[str, Any], form: bool) -> str:
    if not form:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # A form is flat: nested objects (card_data, metadata) travel as JSON strings.
    return urlencode({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else
                      ("" if v is None else str(v).lower() if isinstance(v, bool) else v) for k, v in payload.items()})


class Dispatcher(WebhookTasks):
    store: "Store"

    def emit(self, receipt: "Receipt", webhook_type: str, *, url: str | None = None,
             content_type: str | None = None) -> None:
        """``url``: a billing call's ``feedback_url``, which overrides the admin's webhook URL for
        that payment; ``content_type`` "application/x-www-form-urlencoded" sends a form instead of JSON."""
        store = self.store
        payload = {**store.view(receipt), "webhook_type": webhook_type}
        form = content_type == "application/x-www-form-urlencoded"
        record: dict[str, Any] = {
            "id": (self.log[-1]["id"] if self.log else 0) + 1,
            "webhook_type": webhook_type,
            "receipt_id": receipt.receipt_id,
            "order_id": receipt.order_id,
            "receipt_status": receipt.status,
            "url": url or store.config.webhook_url,
            "body": _encode(payload, form),
            "content_type": "application/x-www-form-urlencoded" if form else "application/json",
            "attempts": [],
            "status": "pending",
            "created_at": store.now(),
        }
        faults = store.faults
        # No URL: nothing to lose, so the drop knob's dice are not rolled.
        dropped = (record["url"] is not None and bool(faults.webhook_drop_rate)
                   and store.rng.random() < faults.webhook_drop_rate)
        self._queue(record, dropped=dropped)

    async def _deliver(self, record: dict[str, Any]) -> None:
        cfg = self.store.config
        max_attempts = 1 + max(0, cfg.webhook_retries)
        headers = {"Content-Type": record.get("content_type") or "application/json",
                   "User-Agent": "Bootpay-Sandbox-Webhook"}
        timeout = httpx.Timeout(cfg.webhook_timeout_s, connect=min(5.0, cfg.webhook_timeout_s))
        async with httpx.AsyncClient(timeout=timeout) as client:
            # Resumed after a restart: carry on counting from the attempts already made.
            for attempt in range(len(record["attempts"]) + 1, max_attempts + 1):
                entry: dict[str, Any] = {"attempt": attempt, "at": self.store.now(), "http_status": None,
                                         "response": None, "error": None}
                record["attempts"].append(entry)
                try:
                    resp = await client.post(record["url"], content=record["body"].encode(), headers=headers)
                    entry["http_status"], entry["response"] = resp.status_code, resp.text[:200]
                    if accepted(resp):
                        record["status"] = "delivered"
                        self.store.save_webhook(record)
                        return
                except httpx.HTTPError as exc:
                    entry["error"] = f"{type(exc).__name__}: {exc}"
                self.store.save_webhook(record)
                if attempt < max_attempts:
                    await asyncio.sleep(min(cfg.webhook_backoff_max_s, cfg.webhook_backoff_s * 2 ** (attempt - 1)))
        record["status"] = "failed"
        self.store.save_webhook(record)
