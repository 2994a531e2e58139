"""Request and answer plumbing of the V1 billing routes (billing_v1.py, billing_v1_schedules.py):
PortOne's PHP-style form arrays, the shared field checks, issuing a key from card data, paging."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from . import billing_v1_cards as cards
from .billing_v1_store import Customer
from .http import BadRequest, as_int, as_str, read_params, v1_error, v1_ok
from .store import Payment, Store

INFO_FIELDS = ("customer_id", "customer_name", "customer_tel", "customer_email", "customer_addr", "customer_postcode")
DETAIL_FIELDS = ("name", "buyer_name", "buyer_email", "buyer_tel", "notice_url")


def not_registered(customer_uid: str) -> Response:
    return v1_error(404, f"요청하신 customer_uid({customer_uid})로 등록된 정보를 찾을 수 없습니다.", code=1)


def form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
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
        return form(parse_qsl(raw, keep_blank_values=True))
    return await read_params(request)


def strings(value: Any, name: str) -> list[str]:
    values = value if isinstance(value, list) else [] if value in (None, "") else [value]
    if not all(isinstance(v, str) and v for v in values):
        raise BadRequest(f"{name}는 문자열(배열)이어야 합니다.")
    return values


def details(params: dict[str, Any]) -> dict[str, Any]:
    out = {k: as_str(params.get(k), k) for k in DETAIL_FIELDS}
    data = params.get("custom_data")
    out["custom_data"] = data  # create_payment keeps objects as JSON strings, as PortOne does
    return out


def amount_of(params: dict[str, Any]) -> int:
    amount = as_int(params.get("amount"), "amount", required=True)
    if amount <= 0:
        raise BadRequest("amount는 0보다 커야 합니다.")
    return amount


def merchant_uid_of(value: Any) -> str:
    merchant_uid = as_str(value, "merchant_uid", required=True)
    if len(merchant_uid) > 40:
        raise BadRequest("merchant_uid는 최대 40자입니다.")
    return merchant_uid


def issue_from_card(store: Store, customer_uid: str, params: dict[str, Any]) -> Customer:
    """The PG checks the card and issues a key; raises CardError for a refused card."""
    masked, decline = cards.check_card(as_str(params.get("card_number"), "card_number"),
                                       as_str(params.get("expiry"), "expiry"), store.now())
    info = {k: as_str(params.get(k), k) for k in INFO_FIELDS}
    for buyer, holder in (("buyer_name", "customer_name"), ("buyer_email", "customer_email"), ("buyer_tel", "customer_tel")):
        info[holder] = info[holder] or as_str(params.get(buyer), buyer)  # onetime: buyer_* become customer_*
    pg = as_str(params.get("pg"), "pg")
    return store.billing_v1.issue(customer_uid, masked=masked, decline=decline, pg=pg, info=info)


def payment_answer(store: Store, payment: Payment) -> Response:
    # A decline is still code 0: the card company answered (billing-and-bootpay.md §A.3).
    return v1_ok(store.v1_view(payment))



def page_of(request: Request) -> int:
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
