"""Gateway webhooks (PortOne V1, V2, Bootpay): stored exactly as received, then processed by
re-fetching the payment.

The body is only a hint of which payment changed — never trusted for money. Every delivery is
written down before anything else happens, so a crash mid-processing loses nothing: the delivery
stays ``received``/``failed`` and ``pointcharge webhooks replay`` (or reconciliation) finishes it.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from services import metrics
from services.charging import ChargeService, Outcome
from services.db import Database
from services.errors import DomainError
from services.gateways.base import InvalidWebhook
from services.gateways.portone.webhooks import V1_STATUSES, parse_v1, verify_v2
from services.gateways.bootpay.receipt import NAME as BOOTPAY
from services.gateways.bootpay.webhook import parse_webhook as parse_bootpay_webhook
from services.models import WebhookDelivery, utcnow
from services.ratelimit import RateLimiter

log = logging.getLogger("pointcharge.webhooks")

# What is kept of a body and of the headers for the audit trail: nothing is re-read from them
# (processing re-fetches the payment by its key), so a forged 8 KiB body costs at most this.
STORED_BODY = 1024
STORED_HEADERS = 1024
# Headers worth keeping for an audit; cookies and auth headers never are.
_DROP_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_KEEP_HEADERS = (
    "content-type", "content-length", "user-agent", "x-forwarded-for", "x-real-ip", "x-request-id",
    "webhook-id", "webhook-timestamp", "webhook-signature",
)


def storable_body(body: bytes, limit: int = STORED_BODY) -> str:
    """The body as received, at most ``limit`` characters: text when it is clean UTF-8, otherwise
    base64 (PostgreSQL text cannot hold NUL bytes). A longer body keeps its beginning and says so."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        if len(text.encode()) <= limit:
            return text
        marker = f"…[truncated, {len(body)} bytes]"
        head = body[: limit - len(marker.encode())].decode("utf-8", errors="ignore")
        return head + marker
    encoded = "base64:" + base64.b64encode(body).decode()
    if len(encoded) <= limit:
        return encoded
    marker = f"…[truncated, {len(body)} bytes]"
    return encoded[: limit - len(marker.encode())] + marker


def storable_headers(headers: Mapping[str, str], limit: int = STORED_HEADERS) -> str:
    """The headers an audit needs (never cookies or credentials), each value capped, the whole
    JSON at most ``limit`` characters."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower() not in _DROP_HEADERS}
    kept: dict[str, str] = {}
    for name in _KEEP_HEADERS:
        if name in lowered:
            kept[name] = lowered[name][:200]
            if len(json.dumps(kept, ensure_ascii=False).encode()) > limit:
                kept.pop(name)
                break
    return json.dumps(kept, ensure_ascii=False)


def ip_allowed(remote_addr: str | None, allowed: Sequence[str]) -> bool:
    if not allowed:
        return True
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def _dedup_window(provider: str, payment_key: str, event: str | None) -> str:
    """The de-duplication key of a delivery. A V1 body is unsigned: anything in it but the payment
    id — its status, its cancellation_id — is the sender's choice, and a key made of it let a forger
    buy one gateway lookup per made-up value (50 random cancellation ids: 50 GETs). So V1 is keyed by
    the payment alone (a real change within the window gets the trailing fetch of
    ``WebhookService._coalesced``). A V2 event is signed, so its type may tell a real change apart;
    Bootpay's senders are allow-listed, so its claim (type and cancelled total) may too: a second
    partial cancel is fetched at once, not coalesced with the first."""
    if provider in ("portone_v2", BOOTPAY):
        return f"{provider}/{payment_key}/{event or ''}"
    return f"{provider}/{payment_key}"


class WebhookService:
    def __init__(
        self,
        db: Database,
        charging: ChargeService,
        *,
        allowed_ips: Sequence[str] = (),
        bootpay_allowed_ips: Sequence[str] = (),
        v2_webhook_secrets: Sequence[str] = (),
        ratelimiter: RateLimiter | None = None,
        dedup_s: float = 0.0,
        retry_max_attempts: int = 5,
        retry_max_age: timedelta = timedelta(hours=72),
    ) -> None:
        self.db = db
        self.charging = charging
        self.allowed_ips = tuple(allowed_ips)
        # Bootpay signs nothing: its source range is the proof of origin (empty: anyone).
        self.bootpay_allowed_ips = tuple(bootpay_allowed_ips)
        self.v2_secrets = tuple(v2_webhook_secrets)
        self.ratelimiter = ratelimiter
        self.dedup_s = dedup_s
        # Reconciliation's retry budget for a failed delivery (then it is "abandoned").
        self.retry_max_attempts = retry_max_attempts
        self.retry_max_age = retry_max_age

    async def record(
        self,
        *,
        provider: str,
        headers: Mapping[str, str],
        body: bytes,
        remote_addr: str | None,
        outcome: str = "received",
        error: str | None = None,
        payment_key: str | None = None,
        event: str | None = None,
    ) -> WebhookDelivery:
        delivery = WebhookDelivery(
            provider=provider,
            remote_addr=remote_addr,
            headers=storable_headers(headers),
            body=storable_body(body),
            outcome=outcome,
            error=error,
            payment_key=payment_key,
            event=event,
            processed_at=None if outcome == "received" else utcnow(),
        )
        async with self.db.transaction() as s:
            s.add(delivery)
        metrics.WEBHOOK_DELIVERIES.labels(provider, outcome).inc()
        return delivery

    async def mark(self, delivery_id: str, outcome: str, *, error: str | None = None, **fields: object) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(outcome=outcome, error=error[:500] if error else None, processed_at=utcnow(), **fields)
            )

    async def accept_v1(
        self, *, headers: Mapping[str, str], body: bytes, remote_addr: str | None
    ) -> tuple[WebhookDelivery, str]:
        """Records the delivery and says what to do with it: ``received`` (process it),
        ``ignored``, or ``rejected`` (not a PortOne webhook, or from a source not allowed)."""
        outcome, error, hook = "received", None, None
        if not ip_allowed(remote_addr, self.allowed_ips):
            outcome, error = "rejected", f"source address {remote_addr} not allowed"
        else:
            try:
                hook = parse_v1(headers.get("content-type", ""), body)
            except InvalidWebhook as exc:
                outcome, error = "rejected", str(exc)
            else:
                if hook.status not in V1_STATUSES:
                    outcome, error = "ignored", f"status {hook.status!r} not handled"
        delivery = await self.record(
            provider="portone_v1",
            headers=headers,
            body=body,
            remote_addr=remote_addr,
            outcome=outcome,
            error=error,
            payment_key=hook.imp_uid if hook else None,
            event=hook.status if hook else None,
        )
        return delivery, outcome

    async def accept_v2(
        self, *, headers: Mapping[str, str], body: bytes, remote_addr: str | None
    ) -> tuple[WebhookDelivery, str]:
        """V2 webhooks are signed (Standard Webhooks): verified on the raw body before anything
        is believed. A wrong signature or a stale timestamp (replay) is ``rejected``."""
        outcome, error, key, event = "received", None, None, None
        if not ip_allowed(remote_addr, self.allowed_ips):
            outcome, error = "rejected", f"source address {remote_addr} not allowed"
        else:
            try:
                verified = verify_v2(self.v2_secrets, body, headers)
            except InvalidWebhook as exc:
                outcome, error = "rejected", str(exc)
            else:
                event, key = verified
                if key is None or not event.startswith("Transaction."):
                    outcome, error = "ignored", f"event {event!r} not handled"
        delivery = await self.record(
            provider="portone_v2",
            headers=headers,
            body=body,
            remote_addr=remote_addr,
            outcome=outcome,
            error=error,
            payment_key=key,
            event=event,
        )
        return delivery, outcome

    async def accept_bootpay(
        self, *, headers: Mapping[str, str], body: bytes, remote_addr: str | None
    ) -> tuple[WebhookDelivery, str]:
        """Bootpay's webhooks are unsigned: a source outside POINTCHARGE_BOOTPAY_WEBHOOK_ALLOWED_IPS
        is ``rejected``; the body names the receipt to re-fetch, nothing more."""
        outcome, error, hook = "received", None, None
        if not ip_allowed(remote_addr, self.bootpay_allowed_ips):
            outcome, error = "rejected", f"source address {remote_addr} not allowed"
        else:
            try:
                hook = parse_bootpay_webhook(headers.get("content-type", ""), body)
            except InvalidWebhook as exc:
                outcome, error = "rejected", str(exc)
            else:
                if not hook.handled:
                    outcome, error = "ignored", f"status {hook.status!r} not handled"
        delivery = await self.record(
            provider=BOOTPAY,
            headers=headers,
            body=body,
            remote_addr=remote_addr,
            outcome=outcome,
            error=error,
            payment_key=hook.receipt_id if hook else None,
            event=hook.event if hook else None,
        )
        return delivery, outcome

    async def process(self, delivery_id: str, *, coalesce: bool = True) -> str:
        """Re-fetches the payment from its gateway and syncs it. Safe to run any number of times.

        With ``coalesce`` (live deliveries), a delivery naming a payment that another delivery had
        fetched within ``dedup_s`` seconds is recorded as ``duplicate`` without asking the gateway
        again: a burst of 1,000 forged webhooks for one id costs one GET, two when they claim
        different statuses (``_dedup_window``, ``_coalesced``). A delivery coalesced with a fetch
        that ran just before the gateway changed is no worse off than a dropped webhook: the mutation,
        the redirect and reconciliation's listing still find the payment. The window lives in the
        rate-limit storage (per instance in memory, shared in Redis); it never decides money."""
        # Counting the attempt (before the sync: a crash mid-sync still shows it was tried) also
        # reads what the window and the sync need: one statement, where a read and then the count
        # were two transactions (docs/PERFORMANCE.md, "Statements per flow").
        async with self.db.transaction() as s:
            row = (
                await s.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.payment_key.is_not(None),
                        WebhookDelivery.payment_key != "",
                    )
                    .values(attempts=WebhookDelivery.attempts + 1)
                    .returning(
                        WebhookDelivery.provider,
                        WebhookDelivery.payment_key,
                        WebhookDelivery.event,
                    )
                )
            ).one_or_none()
        if row is None:  # no such delivery, or nothing to fetch: not an attempt
            async with self.db.session() as s:
                delivery = await s.get(WebhookDelivery, delivery_id)
            metrics.WEBHOOK_DELIVERIES.labels(delivery.provider if delivery else "unknown", "ignored").inc()
            return "ignored"
        provider, payment_key, event = row
        if coalesce and self.ratelimiter is not None and self.dedup_s > 0:
            if await self._coalesced(_dedup_window(provider, payment_key, event), event):
                # Coalesced, so not an attempt after all: the count taken back in the same
                # statement that records the outcome (the retry budget counts fetches only).
                await self.mark(
                    delivery_id,
                    "duplicate",
                    error=f"fetched within {self.dedup_s:g} s by another delivery",
                    attempts=WebhookDelivery.attempts - 1,
                )
                metrics.WEBHOOK_DELIVERIES.labels(provider, "duplicate").inc()
                return "duplicate"
        try:
            result = await self.charging.sync_by_key(payment_key, source="webhook", provider=provider)
        except DomainError as exc:
            await self._forget_fetch(coalesce, provider, payment_key, event)
            metrics.count_charge_error("webhook", exc)
            metrics.WEBHOOK_DELIVERIES.labels(provider, "failed").inc()
            await self.mark(delivery_id, "failed", error=f"{exc.code}: {exc.message}")
            log.warning("webhook %s for %s failed: %s", delivery_id, payment_key, exc.code)
            return "failed"
        except Exception as exc:  # noqa: BLE001 - recorded for replay; the request already got its 200
            await self._forget_fetch(coalesce, provider, payment_key, event)
            metrics.count_charge_error("webhook", exc)
            metrics.WEBHOOK_DELIVERIES.labels(provider, "failed").inc()
            await self.mark(delivery_id, "failed", error=type(exc).__name__)
            log.exception("webhook %s for %s crashed", delivery_id, payment_key)
            return "failed"
        credited = result.entry.amount if result.outcome is Outcome.CREDITED and result.entry else 0
        metrics.count_charge("webhook", result.outcome.value, credited=credited)
        await self.mark(delivery_id, "processed", error=None)
        metrics.WEBHOOK_DELIVERIES.labels(provider, "processed").inc()
        log.info("webhook %s for %s: %s", delivery_id, payment_key, result.outcome)
        return "processed"

    async def _forget_fetch(self, coalesce: bool, provider: str, payment_key: str, event: str | None) -> None:
        """Bootpay: a failed fetch taught nothing, and its delivery is answered as not handled, so
        Bootpay's redelivery must fetch again rather than be coalesced with the failure. Its
        senders are allow-listed. PortOne's are not, and its deliveries are answered at once and
        retried by reconciliation: its window stays, or forged webhooks for made-up ids (each a
        failed fetch) would buy one lookup each (tests/reliability/test_hardening.py)."""
        if provider == BOOTPAY and coalesce and self.ratelimiter is not None and self.dedup_s > 0:
            await self.ratelimiter.forget_window(_dedup_window(provider, payment_key, event), self.dedup_s)

    async def _coalesced(self, window: str, event: str | None) -> bool:
        """Whether this delivery is a duplicate of the window's fetch. The first delivery of a
        payment in a window fetches at once. Within it, a delivery claiming a status no delivery of
        the window claimed yet may be a real change (a virtual account issued, then deposited
        seconds later): the first such one fetches once more when the window has passed — one
        trailing fetch per window, whatever the claims, so a forger's choice of fields buys at most
        that one — and every other is coalesced."""
        limiter = self.ratelimiter
        assert limiter is not None
        leading = await limiter.first_in_window(window, self.dedup_s)
        new_claim = await limiter.first_in_window(f"{window}/claimed/{event or ''}", self.dedup_s)
        if leading:
            return False
        if new_claim and await limiter.first_in_window(f"{window}/trailing", self.dedup_s):
            await asyncio.sleep(self.dedup_s)
            return False
        return True

    def _exhausted(self, now: datetime):  # type: ignore[no-untyped-def]
        return (WebhookDelivery.outcome == "failed") & (
            (WebhookDelivery.attempts >= self.retry_max_attempts)
            | (WebhookDelivery.received_at < now - self.retry_max_age)
        )

    async def exhausted_count(self, *, now: datetime | None = None) -> int:
        async with self.db.session() as s:
            return int(
                (await s.execute(select(func.count()).where(self._exhausted(now or utcnow())))).scalar_one()
            )

    async def abandon_exhausted(self, *, now: datetime | None = None) -> int:
        """Failed deliveries past the retry budget (attempts or age) become ``abandoned``: a
        forged webhook for a payment the gateway does not know fails forever and would keep every
        reconciliation unclean and costing a gateway call. Returns how many. Nothing is lost: a
        real payment is still found by reconciliation's listing of the gateway's payments."""
        now = now or utcnow()
        async with self.db.transaction() as s:
            result = await s.execute(
                update(WebhookDelivery)
                .where(self._exhausted(now))
                .values(outcome="abandoned", processed_at=now)
            )
        abandoned = int(result.rowcount or 0)
        if abandoned:
            metrics.WEBHOOK_DELIVERIES.labels("any", "abandoned").inc(abandoned)
            log.warning("%d failed webhook deliveries abandoned after their retry budget", abandoned)
        return abandoned

    async def pending_ids(
        self,
        *,
        failed_only: bool,
        delivery_id: str | None = None,
        older_than: datetime | None = None,
        retryable_at: datetime | None = None,
    ) -> list[str]:
        """Deliveries to (re)process: failed ones, and ``received`` ones a crash left behind. With
        ``retryable_at``, failed ones past the retry budget at that time are left out."""
        query = select(WebhookDelivery.id).order_by(WebhookDelivery.received_at)
        if retryable_at is not None:
            query = query.where(~self._exhausted(retryable_at))
        if older_than is not None:
            query = query.where(WebhookDelivery.received_at < older_than)
        if delivery_id:
            query = query.where(WebhookDelivery.id == delivery_id)
        elif failed_only:
            query = query.where(WebhookDelivery.outcome == "failed")
        else:
            query = query.where(WebhookDelivery.outcome.in_(["failed", "received"]))
        async with self.db.session() as s:
            return list((await s.execute(query)).scalars())
