"""Bootpay billing (정기결제) REST routes, as bootpay-backend 2.9 calls them (paths under /v2):

    POST   /request/subscribe                      request_subscribe_billing_key (card data → key)
    GET    /subscribe/billing_key/{receipt_id}     lookup_subscribe_billing_key (the browser's receipt_id)
    GET    /billing_key/{billing_key}              lookup_billing_key
    POST   /subscribe/payment                      request_subscribe_(card_)payment: one attempt, now
    POST   /subscribe/payment/reserve              subscribe_payment_reserve → {reserve_id, reserve_execute_at}
    GET    /subscribe/payment/reserve/{reserve_id} subscribe_payment_reserve_lookup
    DELETE /subscribe/payment/reserve/{reserve_id} cancel_subscribe_reserve → {reserve_id, success}
    DELETE /subscribe/billing_key/{billing_key}    destroy_billing_key → {billing_key} (reservations kept)

and the control route POST /_control/billing-keys {user_id?, subscription_id?, decline?} →
{receipt_id, billing_key, …}: a key as the browser window would issue it, for scripts and tests.
The SDK sends every omitted argument as null, '' or {}: all mean "not given".
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import billing_cards as cards
from .rest import api_route, authenticate, body_of, text, won
from .store import KST, BootpayError, Store

CONTENT_TYPES = {"application/json", "application/x-www-form-urlencoded"}


def _obj(data: dict, name: str) -> dict:
    value = data.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise BootpayError(400, "INVALID_PARAMETER", f"{name}은(는) 객체여야 합니다.")
    return value


def _price(data: dict) -> tuple[int, int]:
    price = won(data, "price")
    if price is None or price <= 0:
        raise BootpayError(400, "INVALID_PARAMETER", "price는 0보다 큰 원 단위 정수여야 합니다.")
    tax_free = won(data, "tax_free") or 0
    if not 0 <= tax_free <= price:
        raise BootpayError(400, "INVALID_PARAMETER", "tax_free는 0 이상 price 이하여야 합니다.")
    return price, tax_free


def _feedback(data: dict) -> tuple[str | None, str | None]:
    url = text(data, "feedback_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise BootpayError(400, "INVALID_PARAMETER", "feedback_url은 http(s) URL이어야 합니다.")
    content_type = text(data, "content_type")
    if content_type is not None and content_type not in CONTENT_TYPES:
        raise BootpayError(400, "INVALID_PARAMETER", f"content_type은 {' 또는 '.join(sorted(CONTENT_TYPES))}입니다.")
    return url, content_type


def _charge_details(data: dict) -> dict[str, Any]:
    price, tax_free = _price(data)
    order_id = text(data, "order_id", required=True)
    if len(order_id) > 100:  # type: ignore[arg-type]
        raise BootpayError(400, "INVALID_PARAMETER", "order_id는 100자 이하여야 합니다.")
    url, content_type = _feedback(data)
    return {"order_id": order_id, "order_name": text(data, "order_name", required=True), "price": price,
            "tax_free": tax_free, "metadata": _obj(data, "metadata"), "feedback_url": url,
            "content_type": content_type}


def _execute_at(value: Any) -> float:
    """ISO 8601; the SDK's README sends ``%Y-%m-%dT%H:%M:%S%z``. Without an offset: Korean time."""
    if not isinstance(value, str) or not value:
        raise BootpayError(400, "INVALID_PARAMETER", "reserve_execute_at 값이 필요합니다 (ISO 8601).")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BootpayError(400, "INVALID_PARAMETER", "reserve_execute_at은 ISO 8601 시각이어야 합니다.") from None
    return (at if at.tzinfo else at.replace(tzinfo=KST)).timestamp()


# ---------------------------------------------------------------------- REST
async def request_subscribe(request: Request, store: Store) -> Response:
    authenticate(request, store)
    data = await body_of(request)
    masked, decline = cards.check(text(data, "card_no"), text(data, "card_pw"), text(data, "card_identity_no"),
                                  text(data, "card_expire_year"), text(data, "card_expire_month"), store.now())
    async with store.lock:
        key = store.billing.issue(
            subscription_id=text(data, "subscription_id", required=True), pg=text(data, "pg"),
            order_name=text(data, "order_name", required=True), card_no=masked, decline=decline,
            user=_obj(data, "user"), metadata=_obj(data, "metadata"))
    return JSONResponse(store.billing.key_view(key))


async def lookup_by_receipt(request: Request, store: Store) -> Response:
    authenticate(request, store)
    return JSONResponse(store.billing.key_view(store.billing.key_of_receipt(request.path_params["receipt_id"])))


async def lookup_key(request: Request, store: Store) -> Response:
    authenticate(request, store)
    return JSONResponse(store.billing.key_view(store.billing.key(request.path_params["billing_key"])))


async def subscribe_payment(request: Request, store: Store) -> Response:
    authenticate(request, store)
    data = await body_of(request)
    billing_key = text(data, "billing_key", required=True)
    details = _charge_details(data)
    async with store.lock:
        receipt = await store.billing.charge(billing_key, **details)  # type: ignore[arg-type]
    return JSONResponse(store.view(receipt))


async def reserve(request: Request, store: Store) -> Response:
    authenticate(request, store)
    data = await body_of(request)
    billing_key = text(data, "billing_key", required=True)
    details = _charge_details(data)
    execute_at = _execute_at(data.get("reserve_execute_at"))
    async with store.lock:
        r = store.billing.reserve(billing_key, execute_at=execute_at, user=_obj(data, "user"), **details)  # type: ignore[arg-type]
    view = store.billing.reservation_view(r)
    return JSONResponse({"reserve_id": r.reserve_id, "reserve_execute_at": view["reserve_execute_at"]})


async def reserve_lookup(request: Request, store: Store) -> Response:
    authenticate(request, store)
    return JSONResponse(store.billing.reservation_view(store.billing.reservation(request.path_params["reserve_id"])))


async def reserve_cancel(request: Request, store: Store) -> Response:
    authenticate(request, store)
    async with store.lock:
        r = store.billing.revoke(request.path_params["reserve_id"])
    return JSONResponse({"reserve_id": r.reserve_id, "success": True})


async def destroy(request: Request, store: Store) -> Response:
    authenticate(request, store)
    async with store.lock:
        key = store.billing.destroy(request.path_params["billing_key"])
    return JSONResponse({"billing_key": key.billing_key, "receipt_id": key.receipt_id})


def current(handler):
    """Run the reservations that are due on the sandbox clock first, so every answer is up to date."""

    async def wrapped(request: Request, store: Store) -> Response:
        await store.billing.run_due()
        return await handler(request, store)

    return wrapped


def routes() -> list[Route]:
    """After rest.routes() (which resets the fault templates these join)."""
    return [
        api_route("POST", "/request/subscribe", current(request_subscribe)),
        api_route("GET", "/subscribe/billing_key/{receipt_id}", current(lookup_by_receipt)),
        api_route("GET", "/billing_key/{billing_key}", current(lookup_key)),
        api_route("POST", "/subscribe/payment", current(subscribe_payment)),
        api_route("POST", "/subscribe/payment/reserve", current(reserve)),
        api_route("GET", "/subscribe/payment/reserve/{reserve_id}", current(reserve_lookup)),
        api_route("DELETE", "/subscribe/payment/reserve/{reserve_id}", current(reserve_cancel)),
        api_route("DELETE", "/subscribe/billing_key/{billing_key}", current(destroy)),
    ]


# ---------------------------------------------------------------------- control and checkout
async def issue_as_browser(store: Store, *, subscription_id: str | None, user: dict, decline: bool,
                           order_name: str | None = None, pg: str | None = None,
                           metadata: dict | None = None) -> dict:
    """What a buyer approving Bootpay.requestSubscription leaves: a key under the issuing receipt."""
    async with store.lock:
        key = store.billing.issue(
            subscription_id=subscription_id or f"sub-{secrets.token_hex(6)}", order_name=order_name or "카드 등록",
            pg=pg, card_no=cards.mask(cards.DECLINE_CARD if decline else cards.CHECKOUT_CARD), decline=decline,
            user=user, metadata=metadata or {})
    return store.billing.key_view(key)


CONTROL_FIELDS = {"user_id", "subscription_id", "decline", "order_name"}


async def control_billing_keys(request: Request, store: Store) -> Response:
    body = await body_of(request)
    unknown = set(body) - CONTROL_FIELDS
    if unknown:
        raise BootpayError(400, "INVALID_PARAMETER", f"unknown fields: {', '.join(sorted(unknown))}")
    decline = body.get("decline", False)
    if not isinstance(decline, bool):
        raise BootpayError(400, "INVALID_PARAMETER", "decline must be a boolean")
    user_id = text(body, "user_id")
    view = await issue_as_browser(store, subscription_id=text(body, "subscription_id"), decline=decline,
                                  user={"id": user_id} if user_id else {}, order_name=text(body, "order_name"))
    return JSONResponse(view)


async def control_reservations(request: Request, store: Store) -> Response:
    return JSONResponse([store.billing.reservation_view(r)
                         for r in sorted(store.billing.reservations.values(), key=lambda r: r.seq)])
