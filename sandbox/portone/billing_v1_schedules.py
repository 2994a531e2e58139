"""PortOne V1 payment schedules (/subscribe/payments/schedule…, 결제예약): book, revoke, look up and
list; running them on the sandbox clock is billing_v1_store.py's."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import billing_v1_cards as cards
from .billing_v1_http import amount_of, issue_from_card, merchant_uid_of, page_of, paged, params_of, strings
from .http import BadRequest, as_int, as_str, v1_error, v1_ok
from .store import SandboxError, Store

NINETY_DAYS_S = 90 * 24 * 3600  # "최대 3개월 단위로 조회가 가능합니다"
NOTHING_TO_REVOKE = "취소할 예약결제 기록이 존재하지 않습니다."
SCHEDULE_NOT_FOUND = "해당 merchant_uid로 예약된 결제가 존재하지 않습니다."


def _schedule_items(store: Store, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        raise BadRequest("schedules는 1개 이상의 결제예약 객체 배열이어야 합니다.")
    items, seen = [], set()
    for x in raw:
        merchant_uid = merchant_uid_of(x.get("merchant_uid"))
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
            "merchant_uid": merchant_uid, "schedule_at": schedule_at, "amount": amount_of(x), "currency": currency,
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
            customer = issue_from_card(store, customer_uid, params)
        except cards.CardError as exc:
            return v1_error(200, exc.message, code=-1)
    added = store.billing_v1.add_schedules(customer, items)
    return v1_ok([store.billing_v1.schedule_view(s) for s in added])


async def unschedule(request: Request, store: Store) -> Response:
    """merchant_uid[] revokes those; customer_uid alone revokes all of that key's schedules."""
    params = await params_of(request)
    customer_uid = as_str(params.get("customer_uid"), "customer_uid")
    merchant_uids = strings(params.get("merchant_uid", params.get("merchant_uid[]")), "merchant_uid")
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
    return paged(found, page_of(request), limit, store.billing_v1.schedule_view)


async def schedules_by_range(request: Request, store: Store) -> Response:
    return _listing(request, store, "schedule_from", "schedule_to", "schedule_status", None)


async def schedules_by_customer(request: Request, store: Store) -> Response:
    return _listing(request, store, "from", "to", "schedule-status", request.path_params["customer_uid"])
