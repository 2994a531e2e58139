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

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import billing_v1_cards as cards
from .billing_v1_store import Customer, Schedule
from .http import BadRequest, api_route, as_int, as_str, read_params, v1_error, v1_ok
from .store import Payment, SandboxError, Store
from .v1 import authed

NINETY_DAYS_S = 90 * 24 * 3600  # "최대 3개월 단위로 조회가 가능합니다"
NOTHING_TO_REVOKE = "취소할 예약결제 기록이 존재하지 않습니다."
SCHEDULE_NOT_FOUND = "해당 merchant_uid로 예약된 결제가 존재하지 않습니다."
INFO_FIELDS = ("customer_id", "customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode")
DETAIL_FIELDS = ("name", "buyer_name", "buyer_email", "buyer_tel", "notice_url")


def not_registered(customer_uid: str) -> Response:
    return v1_error(404, f"요청하신 customer_uid({customer_uid})로 등록된 정보를 찾을 수 없습니다.", code=1)


# ---------------------------------------------------------------------- bodies
def _form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP-style form keys as PortOne takes them: a[]=1&a[]=2 and s[0][k]=v."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        parts = re.findall(r"\[([^\[\]]*)\]", match.group(2)) if match else []
        name = match.group(1) if match else key
        if not parts:
            out[key] = value
        elif parts == [""]:
            out.setdefault(name, []).append(value)
        elif len(parts) == 2 and parts[0].isdigit():
            out.setdefault(name, {}).setdefault(int(parts[0]), {})[parts[1]] = value
        else:
            out[key] = value
    return {k: [v[i] for i in sorted(v)] if isinstance(v, dict) else v for k, v in out.items()}


async def params_of(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = (await request.body()).decode("utf-8", errors="replace")
    if ctype == "application/x-www-form-urlencoded" or (not ctype and raw.strip() and not raw.lstrip().startswith("{")):
        return _form(parse_qsl(raw, keep_blank_values=True))
    return await read_params(request)


def _strings(value: Any, name: str) -> list[str]:
    values = value if isinstance(value, list) else [] if value in (None, "") else [value]
    if not all(isinstance(v, str) and v for v in values):
        raise BadRequest(f"{name}는 문자열(배열)이어야 합니다.")
    return values


def _details(params: dict[str, Any]) -> dict[str, Any]:
    out = {k: as_str(params.get(k), k) for k in DETAIL_FIELDS}
    data = params.get("custom_data")
    out["custom_data"] = data  # create_payment keeps objects as JSON strings, as PortOne does
    return out


def _amount(params: dict[str, Any]) -> int:
    amount = as_int(params.get("amount"), "amount", required=True)
    if amount <= 0:
        raise BadRequest("amount는 0보다 커야 합니다.")
    return amount


def _merchant_uid(value: Any) -> str:
    merchant_uid = as_str(value, "merchant_uid", required=True)
    if len(merchant_uid) > 40:
        raise BadRequest("merchant_uid는 최대 40자입니다.")
    return merchant_uid


def _issue_from_card(store: Store, customer_uid: str, params: dict[str, Any]) -> Customer:
    """The PG checks the card and issues a key; raises CardError for a refused card."""
    masked, decline = cards.check_card(as_str(params.get("card_number"), "card_number"),
                                       as_str(params.get("expiry"), "expiry"), store.now())
    info = {k: as_str(params.get(k), k) for k in INFO_FIELDS}
    for buyer, holder in (("buyer_name", "customer_name"), ("buyer_email", "customer_email"), ("buyer_tel", "customer_tel")):
        info[holder] = info[holder] or as_str(params.get(buyer), buyer)  # onetime: buyer_* become customer_*
    pg = as_str(params.get("pg"), "pg")
    return store.billing_v1.issue(customer_uid, masked=masked, decline=decline, pg=pg, info=info)


def _paid_view(store: Store, payment: Payment) -> Response:
    # A decline is still code 0: the card company answered (billing-and-bootpay.md §A.3).
    return v1_ok(store.v1_view(payment))


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
        customer = _issue_from_card(store, customer_uid, params)
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


def _page(request: Request) -> int:
    page = as_int(request.query_params.get("page"), "page") or 1
    if page < 1:
        raise BadRequest("page는 1부터 시작합니다.")
    return page


def paged(items: list, page: int, limit: int, view) -> Response:
    total = len(items)
    last = max(1, math.ceil(total / limit))
    if page > last:
        return v1_error(400, f"데이터 범위를 넘어선 page입니다. (마지막 page: {last})")
    chunk = items[(page - 1) * limit: page * limit]
    return v1_ok({"total": total, "previous": page - 1 if page > 1 else 0, "next": page + 1 if page < last else 0,
                  "list": [view(x) for x in chunk]})


async def customer_payments(request: Request, store: Store) -> Response:
    customer_uid = request.path_params["customer_uid"]
    if store.billing_v1.customer(customer_uid) is None:
        return not_registered(customer_uid)
    payments = sorted(store.billing_v1.payments_of(customer_uid), key=lambda p: (p.started_at, p.seq), reverse=True)
    return paged(payments, _page(request), 20, store.v1_view)


# ---------------------------------------------------------------------- payments
async def again(request: Request, store: Store) -> Response:
    params = await params_of(request)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid", required=True)
    merchant_uid = _merchant_uid(params.get("merchant_uid"))
    amount = _amount(params)
    customer = store.billing_v1.customer(customer_uid)
    if customer is None:
        return v1_error(200, cards.UNKNOWN_CUSTOMER, code=1)
    if store.billing_v1.merchant_uid_taken(merchant_uid):
        return v1_error(200, cards.DUPLICATE_ORDER, code=1)
    payment = await store.billing_v1.charge(customer, merchant_uid=merchant_uid, amount=amount, usage="payment",
                                            **_details(params))
    return _paid_view(store, payment)


async def onetime(request: Request, store: Store) -> Response:
    """A key-in payment; with customer_uid the card is also kept as that customer's key."""
    params = await params_of(request)
    merchant_uid = _merchant_uid(params.get("merchant_uid"))
    amount = _amount(params)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid")
    if store.billing_v1.merchant_uid_taken(merchant_uid):
        return v1_error(200, cards.DUPLICATE_ORDER, code=1)
    try:
        if customer_uid is not None:
            customer = _issue_from_card(store, customer_uid, params)
        else:  # a key-in payment: nothing is kept, the payment shows no customer_uid
            masked, decline = cards.check_card(as_str(params.get("card_number"), "card_number"),
                                               as_str(params.get("expiry"), "expiry"), store.now())
            pg = (as_str(params.get("pg"), "pg") or store.config.pg).partition(".")[0]
            customer = Customer(customer_uid=None, pg_provider=pg, pg_id=cards.BILLING_PG_ID,  # type: ignore[arg-type]
                                card_number=masked, inserted=0, updated=0, decline=decline)
    except cards.CardError as exc:
        return v1_error(200, exc.message, code=-1)
    payment = await store.billing_v1.charge(customer, merchant_uid=merchant_uid, amount=amount,
                                            usage="issue" if customer_uid else None, **_details(params))
    return _paid_view(store, payment)


# ---------------------------------------------------------------------- schedules
def _schedule_items(store: Store, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        raise BadRequest("schedules는 1개 이상의 결제예약 객체 배열이어야 합니다.")
    items, seen = [], set()
    for x in raw:
        merchant_uid = _merchant_uid(x.get("merchant_uid"))
        schedule_at = as_int(x.get("schedule_at"), "schedule_at", required=True)
        if schedule_at < int(store.now()):
            raise BadRequest(f"schedule_at은 현재 시각 이후여야 합니다. (merchant_uid: {merchant_uid})")
        currency = as_str(x.get("currency"), "currency") or "KRW"
        if currency != "KRW":
            raise BadRequest(f"샌드박스는 KRW 결제만 지원합니다. (currency: {currency})")
        if merchant_uid in seen or store.billing_v1.merchant_uid_taken(merchant_uid) \
                or merchant_uid in store.billing_v1.schedules:
            raise SandboxError("duplicate", f"{cards.DUPLICATE_ORDER} (merchant_uid: {merchant_uid})")
        seen.add(merchant_uid)
        data = x.get("custom_data")
        items.append({
            "merchant_uid": merchant_uid, "schedule_at": schedule_at, "amount": _amount(x), "currency": currency,
            "custom_data": data if data is None or isinstance(data, str) else json.dumps(
                data, ensure_ascii=False, separators=(",", ":")),
            **{k: as_str(x.get(k), k) for k in ("name", "buyer_name", "buyer_email", "buyer_tel", "buyer_addr",
                                                 "buyer_postcode", "notice_url")},
        })
    return items


async def schedule(request: Request, store: Store) -> Response:
    """All or nothing. An unknown customer_uid with card data is issued a key first."""
    params = await params_of(request)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid", required=True)
    try:
        items = _schedule_items(store, params.get("schedules"))
    except SandboxError as exc:
        return v1_error(200, exc.message, code=1)
    customer = store.billing_v1.customer(customer_uid)
    if customer is None:
        if not params.get("card_number"):
            return v1_error(200, cards.UNKNOWN_CUSTOMER, code=1)
        try:
            customer = _issue_from_card(store, customer_uid, params)
        except cards.CardError as exc:
            return v1_error(200, exc.message, code=-1)
    added = store.billing_v1.add_schedules(customer, items)
    return v1_ok([store.billing_v1.schedule_view(s) for s in added])


async def unschedule(request: Request, store: Store) -> Response:
    """merchant_uid[] revokes those; customer_uid alone revokes all of that key's schedules."""
    params = await params_of(request)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid")
    merchant_uids = _strings(params.get("merchant_uid", params.get("merchant_uid[]")), "merchant_uid")
    if customer_uid is None and not merchant_uids:
        raise BadRequest("customer_uid 또는 merchant_uid 중 하나는 필수입니다.")
    waiting = [s for s in store.billing_v1.schedules.values() if s.schedule_status == "scheduled"
               and (customer_uid is None or s.customer_uid == customer_uid)
               and (not merchant_uids or s.merchant_uid in merchant_uids)]
    if not waiting:
        return v1_error(200, NOTHING_TO_REVOKE, code=1)
    store.billing_v1.revoke(waiting)
    return v1_ok([store.billing_v1.schedule_view(s) for s in waiting])


async def schedule_get(request: Request, store: Store) -> Response:
    s = store.billing_v1.schedules.get(request.path_params["merchant_uid"])
    if s is None:
        return v1_error(404, SCHEDULE_NOT_FOUND, code=1)
    return v1_ok(store.billing_v1.schedule_view(s))


def _listing(request: Request, store: Store, frm_name: str, to_name: str, status_name: str,
             customer_uid: str | None) -> Response:
    q = request.query_params
    frm = as_int(q.get(frm_name), frm_name, required=True)
    to = as_int(q.get(to_name), to_name, required=True)
    if frm >= to:
        raise BadRequest(f"{frm_name}은 {to_name}보다 작아야 합니다.")
    if to - frm > NINETY_DAYS_S:
        raise BadRequest("검색기간은 최대 3개월(90일)입니다.")
    status = q.get(status_name) or None
    if status not in (None, "scheduled", "executed", "revoked"):
        raise BadRequest(f"{status_name}는 scheduled, executed, revoked 중 하나입니다.")
    limit = as_int(q.get("limit"), "limit") or 20
    if not 1 <= limit <= 1000:
        raise BadRequest("limit은 1 이상 1000 이하입니다.")
    found = [s for s in store.billing_v1.schedules.values()
             if frm <= s.schedule_at < to and (status is None or s.schedule_status == status)
             and (customer_uid is None or s.customer_uid == customer_uid)]
    # Default newest schedule_at first; sorting=scheduled is oldest first (the spec's two orders).
    found.sort(key=lambda s: (s.schedule_at, s.seq), reverse=q.get("sorting") != "scheduled")
    return paged(found, _page(request), limit, store.billing_v1.schedule_view)


async def schedules_by_range(request: Request, store: Store) -> Response:
    return _listing(request, store, "schedule_from", "schedule_to", "schedule_status", None)


async def schedules_by_customer(request: Request, store: Store) -> Response:
    return _listing(request, store, "from", "to", "schedule-status", request.path_params["customer_uid"])


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
