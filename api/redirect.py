"""The mobile redirect (PortOne's ``m_redirect_url``, Bootpay's ``redirect_url``): the gateway sends
the browser here instead of calling the JS callback. We verify with the gateway (``imp_success``,
Bootpay's ``event`` in the query are ignored) and send the browser on to the frontend's result
page with the outcome. A Bootpay payment held for our confirm (``event=confirm``) is checked and
confirmed here as the claim would (the order's amount and owner, under the row lock)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse

from api.origins import trusted_return_origin
from api.webhooks import throttled
from schema.app_services import Services
from services import metrics, payment_state as st
from services.charging import Outcome
from services.errors import DomainError

log = logging.getLogger("pointcharge.redirect")

_CREDITED = {Outcome.CREDITED, Outcome.ALREADY_CREDITED}
_PENDING = {Outcome.PENDING, Outcome.UNCLAIMED}


async def payment_complete(request: Request) -> RedirectResponse:
    services: Services = request.app.state.services
    q = request.query_params
    # V1 appends imp_uid/merchant_uid/imp_success/error_code/error_msg; V2 appends
    # paymentId (or payment_id)/code/message.
    # Bootpay appends event/receipt_id/order_id (event=cancel|error: error_code/message).
    payment_id = (q.get("paymentId") or q.get("payment_id") or "").strip()
    imp_uid = (q.get("imp_uid") or "").strip()
    receipt_id = (q.get("receipt_id") or "").strip()
    bootpay = bool(receipt_id) or (not imp_uid and not payment_id and "event" in q)
    provider = "bootpay" if bootpay else "portone_v2" if payment_id and not imp_uid else "portone_v1"
    key = receipt_id if bootpay else imp_uid or payment_id
    params: dict[str, str]
    if bootpay:
        params = {"receipt_id": receipt_id, "order_id": (q.get("order_id") or "").strip()}
    elif provider == "portone_v2":
        params = {"payment_id": payment_id}
    else:
        params = {"imp_uid": imp_uid, "merchant_uid": (q.get("merchant_uid") or "").strip()}
    if not key:
        # No payment was created (the user closed the window before paying).
        params.update(
            outcome="failed",
            reason=q.get("error_code") or q.get("code") or "no_payment",
            message=q.get("error_msg") or q.get("message") or "",
        )
        return _to_frontend(services, params, q.get("return_to"))
    structlog.contextvars.bind_contextvars(**{k: v[:100] for k, v in params.items() if v})
    if await throttled(services, "redirect", request.client.host if request.client else None) is not None:
        # One address past POINTCHARGE_RATE_LIMIT_WEBHOOK: no PortOne lookup. The browser still
        # lands on the result page, told "pending"; the frontend's claim or the webhook settles it.
        params.update(outcome="pending", reason="rate_limited")
        return _to_frontend(services, params, q.get("return_to"))
    try:
        result = await services.charging.sync_by_key(key, source="redirect", provider=provider, confirm=bootpay)
    except DomainError as exc:
        metrics.count_charge_error("redirect", exc)
        # The gateway unreachable: we do not know yet. The webhook or the frontend's retry will tell.
        outcome = "failed" if exc.code in ("PAYMENT_NOT_FOUND", "BAD_USER_INPUT", "GATEWAY_DISABLED") else "pending"
        params.update(outcome=outcome, reason=exc.code)
        return _to_frontend(services, params, q.get("return_to"))
    except Exception as exc:  # noqa: BLE001 - a browser that just paid never gets a 500 page
        # The database is overloaded or down (a pool timeout, say): we do not know yet. The
        # webhook, reconciliation or the frontend's claim will settle it; the user is told "pending".
        log.exception("redirect sync of %s failed", key)
        metrics.count_charge_error("redirect", exc)
        params.update(outcome="pending", reason="retry")
        return _to_frontend(services, params, q.get("return_to"))
    credited = result.entry.amount if result.outcome is Outcome.CREDITED and result.entry else 0
    metrics.count_charge("redirect", result.outcome.value, credited=credited)
    if result.outcome in _CREDITED:
        params.update(outcome="credited", amount=str(result.entry.amount if result.entry else result.payment.amount))
    elif result.outcome in _PENDING:
        params.update(outcome="pending", reason="claim_required" if result.outcome is Outcome.UNCLAIMED else "vbank_ready")
    elif result.payment.status == st.AUTHORIZED:
        # A payment held for our confirm that we refused was never captured: not "refunded".
        params.update(outcome="failed", reason=f"{result.outcome.value}_not_charged")
    else:
        params.update(outcome="failed", reason=result.outcome.value)
    return _to_frontend(services, params, q.get("return_to"))


def _to_frontend(services: Services, params: dict[str, str], return_to: str | None = None) -> RedirectResponse:
    settings = services.settings
    # m_redirect_url may name the app to come back to (…/payments/complete?return_to=<origin>; the
    # examples/ apps do): honoured only for a trusted origin (api/origins.py), never an open redirect.
    # Otherwise, with no frontend_url (the demo page is on and serves the result page), a relative
    # Location keeps the browser on the origin it used — and its refresh cookie (localhost ≠ 127.0.0.1);
    # an app whose dev server proxies /payments/complete lands on its own /payments/result that way.
    origin = trusted_return_origin(settings, return_to)
    base = (origin or (settings.frontend_url or "").rstrip("/")) + settings.redirect_result_path
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{base}?{query}", status_code=303)
