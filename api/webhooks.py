"""Webhook endpoints. Thin. PortOne: record, answer, process in the background. Bootpay: record,
process, then answer — Bootpay counts a delivery as received only on HTTP 200 with
``{"success": true}`` and retries anything else, so that answer must mean "handled"."""

from __future__ import annotations

import logging

import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse

from schema.app_services import Services
from services.webhooks import ip_allowed

log = logging.getLogger("pointcharge.webhooks")


async def portone_v1_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return await _handle(request, services, services.webhooks.accept_v1)


async def portone_v2_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return await _handle(request, services, services.webhooks.accept_v2)


async def bootpay_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    remote = request.client.host if request.client else None
    allowed = services.settings.bootpay_webhook_allowed_ips or []
    if not (allowed and ip_allowed(remote, allowed)):
        retry_after = await throttled(services, "webhook", remote)
        if retry_after is not None:
            return JSONResponse({"success": False, "status": "rate_limited"}, status_code=429,
                                headers={"Retry-After": str(retry_after)})
    body = await request.body()
    try:
        delivery, outcome = await services.webhooks.accept_bootpay(
            headers=dict(request.headers), body=body, remote_addr=remote
        )
    except Exception:  # noqa: BLE001 - the database is overloaded or down: nothing was stored
        log.exception("bootpay webhook not stored")
        return JSONResponse({"success": False, "status": "unavailable"}, status_code=503, headers={"Retry-After": "5"})
    structlog.contextvars.bind_contextvars(
        webhook_delivery_id=delivery.id, **({"receipt_id": delivery.payment_key} if delivery.payment_key else {})
    )
    if outcome == "rejected":
        status = 403 if delivery.error and "not allowed" in delivery.error else 400
        return JSONResponse({"success": False, "status": "rejected", "id": delivery.id, "error": delivery.error},
                            status_code=status)
    if outcome == "ignored":
        return JSONResponse({"success": True, "status": "ignored", "id": delivery.id})
    # Re-fetch the receipt and sync it before answering: "success" promises it is handled. A
    # failure (Bootpay unreachable, say) answers 503, and Bootpay delivers it again.
    processed = await services.webhooks.process(delivery.id)
    if processed == "failed":
        return JSONResponse({"success": False, "status": "failed", "id": delivery.id}, status_code=503,
                            headers={"Retry-After": "5"})
    return JSONResponse({"success": True, "status": processed, "id": delivery.id})


async def throttled(services: Services, scope: str, remote: str | None) -> int | None:
    """Seconds to wait when ``remote`` is over its per-address limit of ``scope`` (``webhook`` or
    ``redirect``; POINTCHARGE_RATE_LIMIT_WEBHOOK), else None. V1 webhooks are unsigned by PortOne's
    design and each costs a PortOne lookup: without this one address could make us call PortOne
    as fast as it can send. Addresses in POINTCHARGE_WEBHOOK_ALLOWED_IPS (PortOne's) are exempt."""
    limiter = services.ratelimit
    if limiter is None or limiter.exempt(scope):
        return None
    allowed = services.settings.webhook_allowed_ips
    if allowed and ip_allowed(remote, allowed):
        return None
    return await limiter.hit_ip(scope, remote)


async def _handle(request: Request, services: Services, accept) -> JSONResponse:  # type: ignore[no-untyped-def]
    remote = request.client.host if request.client else None
    retry_after = await throttled(services, "webhook", remote)
    if retry_after is not None:
        # Nothing stored, PortOne not asked. PortOne itself retries a non-2xx later, so even a
        # real delivery refused here (an allow-list not set, a limit set too low) is not lost.
        return JSONResponse({"status": "rate_limited"}, status_code=429, headers={"Retry-After": str(retry_after)})
    body = await request.body()
    try:
        delivery, outcome = await accept(headers=dict(request.headers), body=body, remote_addr=remote)
    except Exception:  # noqa: BLE001 - the database is overloaded or down: nothing was stored
        # Explicit back-pressure instead of a crash: PortOne retries a 5xx later (V1 on 5xx and
        # network errors, V2 on any failure), and reconciliation finds whatever it never redelivers.
        log.exception("webhook not stored")
        return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "5"})
    # Every later line of this request (the background sync included) names the delivery and payment.
    key_name = "payment_id" if delivery.provider == "portone_v2" else "imp_uid"
    structlog.contextvars.bind_contextvars(
        webhook_delivery_id=delivery.id, **({key_name: delivery.payment_key} if delivery.payment_key else {})
    )
    if outcome == "rejected":
        status = 403 if delivery.error and "not allowed" in delivery.error else 400
        return JSONResponse({"status": "rejected", "id": delivery.id, "error": delivery.error}, status_code=status)
    if outcome == "ignored":
        return JSONResponse({"status": "ignored", "id": delivery.id})
    # Recorded: answer now (PortOne times out slow receivers and retries); the sync runs after
    # the response is sent. If this process dies first, the stored delivery is replayed.
    return JSONResponse(
        {"status": "accepted", "id": delivery.id},
        background=BackgroundTask(services.webhooks.process, delivery.id),
    )
