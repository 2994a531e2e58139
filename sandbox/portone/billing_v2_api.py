"""PortOne V2 REST routes for billing keys and payment schedules (under /v2, `PortOne <secret>` auth).

    POST   /v2/billing-keys                      issueBillingKey (card credentials)
    GET    /v2/billing-keys                      getBillingKeyInfos (requestBody JSON in the query, or a body)
    GET    /v2/billing-keys/{billingKey}         getBillingKeyInfo
    DELETE /v2/billing-keys/{billingKey}         deleteBillingKey (?reason, requester, skipWebhook)
    POST   /v2/payments/{paymentId}/billing-key  payWithBillingKey (a decline: 502 PG_PROVIDER + a FAILED payment)
    POST   /v2/payments/{paymentId}/schedule     createPaymentSchedule
    GET    /v2/payment-schedules                 getPaymentSchedules (default window: the past 90 days)
    GET    /v2/payment-schedules/{id}            getPaymentSchedule
    DELETE /v2/payment-schedules                 revokePaymentSchedules (billingKey and/or scheduleIds)

Errors are the spec's {type, message[, pgCode, pgMessage]} with its HTTP status (billing_v2.V2Error).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import billing_v1_control, schedules_v2
from .billing_v2_input import issue_from_api, parse_payment
from .billing_v2 import DECLINE_MESSAGE, DECLINE_PG_CODE, BillingKey, BillingV2, V2Error, issue_billing_key_v2
from .http import BadRequest, api_route, as_int, read_json
from .store import SandboxError, Store, iso
from .v2 import _time, authed


def _bv2(store: Store) -> BillingV2:
    return store.billing_v2


def handled(handler):
    async def wrapped(request: Request, store: Store) -> Response:
        try:
            return await handler(request, store)
        except V2Error as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    return authed(wrapped)


def _page(body: dict) -> tuple[int, int]:
    page = body.get("page") or {}
    if not isinstance(page, dict):
        raise BadRequest("page must be an object")
    number = as_int(page.get("number"), "page.number")
    size = as_int(page.get("size"), "page.size")
    number, size = (0 if number is None else number), (10 if size is None else size)
    if number < 0 or size < 1:
        raise BadRequest("page.number must be >= 0 and page.size >= 1")
    return number, size


def _window(store: Store, flt: dict) -> tuple[float, float]:
    until = _time(flt.get("until"), "filter.until")
    until = store.now() if until is None else until
    frm = _time(flt.get("from"), "filter.from")
    return (until - schedules_v2.NINETY_DAYS_S if frm is None else frm), until


def _paged(items: list, number: int, size: int, view) -> JSONResponse:
    chunk = items[number * size:(number + 1) * size]
    return JSONResponse({"items": [view(x) for x in chunk],
                         "page": {"number": number, "size": size, "totalCount": len(items)}})


def _objects(body: dict, *names: str) -> list[dict]:
    out = []
    for name in names:
        value = body.get(name) or {}
        if not isinstance(value, dict):
            raise BadRequest(f"{name} must be an object")
        out.append(value)
    return out


# ---------------------------------------------------------------------- billing keys
async def issue_billing_key(request: Request, store: Store) -> Response:
    key = issue_from_api(_bv2(store), await read_json(request))
    return JSONResponse({"billingKeyInfo": {"billingKey": key.billing_key, "channels": [_bv2(store).channel()],
                                            "issuedAt": iso(key.issued_at)}})


def _known_key(bv2: BillingV2, request: Request) -> BillingKey:
    bv2.check_store(request.query_params.get("storeId"))
    key = bv2.keys.get(request.path_params["billingKey"])
    if key is None:
        raise V2Error(404, "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다.")
    return key


async def get_billing_key(request: Request, store: Store) -> Response:
    return JSONResponse(_bv2(store).key_view(_known_key(_bv2(store), request)))


async def delete_billing_key(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    _known_key(bv2, request)
    q = request.query_params
    if q.get("requester") not in (None, "CUSTOMER", "ADMIN"):
        raise BadRequest("requester must be CUSTOMER or ADMIN")
    if q.get("skipWebhook") not in (None, "true", "false"):
        raise BadRequest("skipWebhook must be true or false")
    key = bv2.delete(request.path_params["billingKey"], webhook=q.get("skipWebhook") != "true")
    return JSONResponse({"deletedAt": iso(key.deleted_at)})


KEY_TIME_FIELDS = ("REQUESTED_AT", "ISSUED_AT", "DELETED_AT", "STATUS_TIMESTAMP")


def _key_time(key: BillingKey, field: str) -> float:
    if field == "REQUESTED_AT":
        return key.requested_at
    if field == "ISSUED_AT":
        return key.issued_at
    if field == "DELETED_AT":
        return key.deleted_at
    return key.deleted_at if key.status == "DELETED" else key.issued_at


async def list_billing_keys(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    body = await read_json(request, query_param="requestBody")
    number, size = _page(body)
    flt, sort = _objects(body, "filter", "sort")
    bv2.check_store(flt.get("storeId"))
    frm, until = _window(store, flt)
    field = flt.get("timeRangeField") or "REQUESTED_AT"
    by, order = sort.get("by") or "REQUESTED_AT", sort.get("order") or "DESC"
    if field not in KEY_TIME_FIELDS or by not in KEY_TIME_FIELDS or order not in ("ASC", "DESC"):
        raise BadRequest("invalid filter.timeRangeField, sort.by or sort.order")
    statuses = flt.get("status")
    if statuses is not None and (not isinstance(statuses, list) or any(s not in ("ISSUED", "DELETED") for s in statuses)):
        raise BadRequest("filter.status items must be ISSUED or DELETED")
    methods = flt.get("methods")
    items = [
        k for k in bv2.keys.values()
        if frm <= _key_time(k, field) <= until
        and (statuses is None or k.status in statuses)
        and flt.get("customerId") in (None, k.customer.get("id"))
        and (methods is None or "CARD" in methods)
        and flt.get("version") in (None, "V2")  # keys of V1's /subscribe API are not seen here
    ]
    items.sort(key=lambda k: (_key_time(k, by), k.requested_at), reverse=order == "DESC")
    return _paged(items, number, size, bv2.key_view)


# ---------------------------------------------------------------------- payments with a key
def _pending_schedule(bv2: BillingV2, payment_id: str) -> None:
    if any(s.payment_id == payment_id and s.status in ("SCHEDULED", "STARTED") for s in bv2.schedules.values()):
        raise V2Error(409, "PAYMENT_SCHEDULE_ALREADY_EXISTS", "이 결제 건 아이디로 예약된 결제가 이미 존재합니다.")


async def pay_with_billing_key(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    payment_id = request.path_params["paymentId"]
    inp = parse_payment(bv2, await read_json(request))
    key = bv2.usable_key(inp["billingKey"])
    _pending_schedule(bv2, payment_id)
    try:
        payment = await bv2.charge(payment_id, inp, key)
    except SandboxError as exc:
        if exc.kind == "already_paid":
            raise V2Error(409, "ALREADY_PAID", exc.message) from None
        raise V2Error(400, "INVALID_REQUEST", exc.message) from None
    if payment.status != "paid":
        reason = payment.fail_reason or DECLINE_MESSAGE
        pg_code = DECLINE_PG_CODE if key.decline else "SANDBOX"
        raise V2Error(502, "PG_PROVIDER", f"PG사에서 결제를 거절하였습니다. ({reason})", pgCode=pg_code, pgMessage=reason)
    return JSONResponse({"payment": {"pgTxId": payment.pg_tid, "paidAt": iso(payment.paid_at)}})


# ---------------------------------------------------------------------- schedules
async def create_schedule(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    body = await read_json(request)
    inp = parse_payment(bv2, body.get("payment"))
    time_to_pay = _time(body.get("timeToPay"), "timeToPay")
    if time_to_pay is None:
        raise BadRequest("timeToPay is required")
    schedule = schedules_v2.create(bv2, request.path_params["paymentId"], inp, time_to_pay)
    return JSONResponse({"schedule": {"id": schedule.id}})


async def get_schedule(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    bv2.check_store(request.query_params.get("storeId"))
    schedule = bv2.schedules.get(request.path_params["paymentScheduleId"])
    if schedule is None:
        raise V2Error(404, "PAYMENT_SCHEDULE_NOT_FOUND", "결제 예약건이 존재하지 않습니다.")
    return JSONResponse(schedules_v2.view(bv2, schedule))


async def list_schedules(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    body = await read_json(request, query_param="requestBody")
    number, size = _page(body)
    flt, sort = _objects(body, "filter", "sort")
    bv2.check_store(flt.get("storeId"))
    frm, until = _window(store, flt)
    items = schedules_v2.listing(bv2, flt, sort, frm, until)
    return _paged(items, number, size, lambda s: schedules_v2.view(bv2, s))


async def revoke_schedules(request: Request, store: Store) -> Response:
    bv2 = _bv2(store)
    body = await read_json(request, query_param="requestBody")
    bv2.check_store(body.get("storeId"))
    ids: Any = body.get("scheduleIds")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise BadRequest("scheduleIds must be a list of strings")
    billing_key = body.get("billingKey")
    if billing_key is not None and not isinstance(billing_key, str):
        raise BadRequest("billingKey must be a string")
    revoked = schedules_v2.revoke(bv2, billing_key, ids)
    answer: dict[str, Any] = {"revokedScheduleIds": [s.id for s in revoked]}
    if revoked:
        answer["revokedAt"] = iso(revoked[0].revoked_at)
    return JSONResponse(answer)


# POST /_control/billing-keys {version: "v2", customer_id?, decline?} (the endpoint dispatches on version)
billing_v1_control.ISSUERS["v2"] = issue_billing_key_v2


def routes() -> list[Route]:
    r = lambda method, path, handler: api_route("v2", method, path, handled(handler))  # noqa: E731
    return [
        r("POST", "/v2/billing-keys", issue_billing_key),
        r("GET", "/v2/billing-keys", list_billing_keys),
        r("GET", "/v2/billing-keys/{billingKey}", get_billing_key),
        r("DELETE", "/v2/billing-keys/{billingKey}", delete_billing_key),
        r("POST", "/v2/payments/{paymentId}/billing-key", pay_with_billing_key),
        r("POST", "/v2/payments/{paymentId}/schedule", create_schedule),
        r("GET", "/v2/payment-schedules", list_schedules),
        r("GET", "/v2/payment-schedules/{paymentScheduleId}", get_schedule),
        r("DELETE", "/v2/payment-schedules", revoke_schedules),
    ]
