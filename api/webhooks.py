"""PortOne webhook endpoints. Thin: record, answer, process in the background."""

from __future__ import annotations

import logging

import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse

from schema.app_services import Services

log = logging.getLogger("pointcharge.webhooks")


async def portone_v1_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return await _handle(request, services, services.webhooks.accept_v1)


async def portone_v2_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    return await _handle(request, services, services.webhooks.accept_v2)


async def _handle(request: Request, services: Services, accept) -> JSONResponse:  # type: ignore[no-untyped-def]
    body = await request.body()
    remote = request.client.host if request.client else None
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
