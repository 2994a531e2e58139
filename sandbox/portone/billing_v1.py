"""PortOne V1 billing REST API (/subscribe/*, 정기결제), per openapi/v1.openapi.yml and
docs/v1-billing-non-auth.md; the state is sandbox/portone/billing_v1_store.py.

What merchants must get right, and the sandbox therefore reproduces:
  * a declined charge is NOT an error: code 0 with response.status "failed" and fail_reason, and no
    webhook (only scheduled attempts report failures);
  * code != 0 means nothing reached the card company: code 1 "등록되지 않은 구매자입니다." for an
    unknown customer_uid, code -1 for a card the PG refuses, code 1 for a reused merchant_uid;
  * an unknown customer_uid on the customer endpoints is 404 (as the spec documents) with code 1.
Bodies are JSON or form-encoded, with `merchant_uid[]` / `customer_uid[]` arrays and
`schedules[0][field]` in forms.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import billing_v1_cards as cards
from .billing_v1_http import (
    amount_of, details, issue_from_card, merchant_uid_of, not_registered, page_of, paged, params_of,
    payment_answer,
)
from .billing_v1_schedules import schedule, schedule_get, schedules_by_customer, schedules_by_range, unschedule
from .billing_v1_store import Customer
from .http import BadRequest, api_route, as_str, v1_error, v1_ok
from .store import Store
from .v1 import authed


# ---------------------------------------------------------------------- customers
async def customer_get(request: Request, store: Store) -> Response:
    customer = store.billing_v1.customer(request.path_params["customer_uid"])
    if customer is None:
        return not_registered(request.path_params["customer_uid"])
    return v1_ok(store.billing_v1.customer_view(customer))


async def customer_save(request: Request, store: Store) -> Response:
    customer_uid = request.path_params["customer_uid"]
    if len(customer_uid) > 80:
        raise BadRequest("customer_uid는 최대 80자입니다.")
    params = await params_of(request)
    try:
        customer = issue_from_card(store, customer_uid, params)
    except cards.CardError as exc:
        return v1_error(200, exc.message, code=-1)
    return v1_ok(store.billing_v1.customer_view(customer))


async def customer_delete(request: Request, store: Store) -> Response:
    customer = store.billing_v1.delete(request.path_params["customer_uid"])
    if customer is None:
        return not_registered(request.path_params["customer_uid"])
    return v1_ok(store.billing_v1.customer_view(customer))


async def customers_get(request: Request, store: Store) -> Response:
    uids = request.query_params.getlist("customer_uid[]") + request.query_params.getlist("customer_uid")
    if not uids:
        raise BadRequest("customer_uid[]는 필수입니다.")
    found = [c for c in map(store.billing_v1.customer, uids) if c is not None]
    missing = [u for u in uids if store.billing_v1.customer(u) is None]
    if not found:
        return v1_error(404, "요청하신 customer_uid로 등록된 정보를 찾을 수 없습니다.", code=1)
    views = [store.billing_v1.customer_view(c) for c in found]
    if missing:
        return v1_ok(views, status=207, message="일부 customer_uid를 조회하지 못했습니다: " + ", ".join(missing))
    return v1_ok(views)


async def customer_payments(request: Request, store: Store) -> Response:
    customer_uid = request.path_params["customer_uid"]
    if store.billing_v1.customer(customer_uid) is None:
        return not_registered(customer_uid)
    payments = sorted(store.billing_v1.payments_of(customer_uid), key=lambda p: (p.started_at, p.seq), reverse=True)
    return paged(payments, page_of(request), 20, store.v1_view)


# ---------------------------------------------------------------------- payments
async def again(request: Request, store: Store) -> Response:
    params = await params_of(request)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid", required=True)
    merchant_uid = merchant_uid_of(params.get("merchant_uid"))
    amount = amount_of(params)
    customer = store.billing_v1.customer(customer_uid)
    if customer is None:
        return v1_error(200, cards.UNKNOWN_CUSTOMER, code=1)
    if store.billing_v1.merchant_uid_taken(merchant_uid):
        return v1_error(200, cards.DUPLICATE_ORDER, code=1)
    payment = await store.billing_v1.charge(customer, merchant_uid=merchant_uid, amount=amount, usage="payment",
                                            **details(params))
    return payment_answer(store, payment)


async def onetime(request: Request, store: Store) -> Response:
    """A key-in payment; with customer_uid the card is also kept as that customer's key."""
    params = await params_of(request)
    merchant_uid = merchant_uid_of(params.get("merchant_uid"))
    amount = amount_of(params)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid")
    if store.billing_v1.merchant_uid_taken(merchant_uid):
        return v1_error(200, cards.DUPLICATE_ORDER, code=1)
    try:
        if customer_uid is not None:
            customer = issue_from_card(store, customer_uid, params)
        else:  # a key-in payment: nothing is kept, the payment shows no customer_uid
            masked, decline = cards.check_card(as_str(params.get("card_number"), "card_number"),
                                               as_str(params.get("expiry"), "expiry"), store.now())
            pg = (as_str(params.get("pg"), "pg") or store.config.pg).partition(".")[0]
            customer = Customer(customer_uid=None, pg_provider=pg, pg_id=cards.BILLING_PG_ID,  # type: ignore[arg-type]
                                card_number=masked, inserted=0, updated=0, decline=decline)
    except cards.CardError as exc:
        return v1_error(200, exc.message, code=-1)
    payment = await store.billing_v1.charge(customer, merchant_uid=merchant_uid, amount=amount,
                                            usage="issue" if customer_uid else None, **details(params))
    return payment_answer(store, payment)


def current(handler):
    """Run what is due on the sandbox clock before answering, so every answer is up to date."""

    async def wrapped(request: Request, store: Store) -> Response:
        await store.billing_v1.run_due()
        return await handler(request, store)

    return authed(wrapped)


def routes() -> list[Route]:
    """Malformed input: 400 where the spec documents one (the schedule listings), else HTTP 200
    with code 1, as the V1 routes in v1.py do."""

    def r(method: str, path: str, handler, invalid_status: int = 200) -> Route:
        return api_route("v1", method, path, current(handler), invalid_status=invalid_status)

    return [
        r("GET", "/v1/subscribe/customers", customers_get),
        r("GET", "/v1/subscribe/customers/{customer_uid}", customer_get),
        r("POST", "/v1/subscribe/customers/{customer_uid}", customer_save),
        r("DELETE", "/v1/subscribe/customers/{customer_uid}", customer_delete),
        r("GET", "/v1/subscribe/customers/{customer_uid}/payments", customer_payments),
        r("GET", "/v1/subscribe/customers/{customer_uid}/schedules", schedules_by_customer, 400),
        r("POST", "/v1/subscribe/payments/onetime", onetime),
        r("POST", "/v1/subscribe/payments/again", again),
        r("GET", "/v1/subscribe/payments/schedule", schedules_by_range, 400),
        r("POST", "/v1/subscribe/payments/schedule", schedule),
        r("POST", "/v1/subscribe/payments/unschedule", unschedule),
        r("GET", "/v1/subscribe/payments/schedule/customers/{customer_uid}", schedules_by_customer, 400),
        r("GET", "/v1/subscribe/payments/schedule/{merchant_uid}", schedule_get),
    ]
