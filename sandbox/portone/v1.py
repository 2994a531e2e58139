"""PortOne V1 REST API (https://api.iamport.kr), per openapi/v1.openapi.yml and docs/v1-*.md.

Envelope: {code, message, response}. HTTP statuses follow the spec's `responses` per endpoint;
cancel failures are HTTP 200 with code != 0, as docs/v1-cancel.md warns merchants.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import BadRequest, api_route, as_int, as_str, read_params, v1_error, v1_ok
from .store import NINETY_DAYS_S, V1_STATUSES, Payment, SandboxError, Store

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "존재하지 않는 결제정보입니다."
SORTINGS = ("-started", "started", "-paid", "paid", "-updated", "updated")


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization") or request.headers.get("x-imptokenheader")
    if header:
        header = header.strip()
        if header.lower().startswith("bearer "):
            header = header[7:].strip()
        return header or None
    return request.query_params.get("_token")


def authed(handler):
    """Every V1 endpoint except getToken needs a live access_token (401 otherwise)."""

    async def wrapped(request: Request, store: Store) -> Response:
        token = _token_from(request)
        if token is None or not store.token_valid(token):
            return v1_error(401, UNAUTHORIZED)
        return await handler(request, store)

    return wrapped


# ---------------------------------------------------------------------- auth
async def get_token(request: Request, store: Store) -> Response:
    try:
        params = await read_params(request)
    except BadRequest:
        params = {}  # unreadable credentials are wrong credentials (the spec documents only 401)
    if params.get("imp_key") != store.config.imp_key or params.get("imp_secret") != store.config.imp_secret:
        return v1_error(401, "imp_key, imp_secret 인증에 실패하였습니다.")
    token, expired_at, now = await store.issue_token()
    return v1_ok({"access_token": token, "expired_at": expired_at, "now": now})


# ---------------------------------------------------------------------- lookups
def _sort_key(sorting: str):
    field = sorting.lstrip("-")
    attr = {"started": "started_at", "paid": "paid_at", "updated": "updated_at"}[field]
    return lambda p: (getattr(p, attr), p.seq)


def _sorted(payments: list[Payment], sorting: str) -> list[Payment]:
    return sorted(payments, key=_sort_key(sorting), reverse=sorting.startswith("-"))


def _sorting(request: Request) -> str:
    sorting = request.query_params.get("sorting") or "-started"
    if sorting not in SORTINGS:
        raise BadRequest(f"sorting must be one of {', '.join(SORTINGS)}")
    return sorting


def _status_param(value: str | None) -> str | None:
    if value in (None, "", "all"):
        return None
    if value not in V1_STATUSES:
        raise BadRequest(f"payment_status must be one of all, {', '.join(V1_STATUSES)}")
    return value


async def get_payment(request: Request, store: Store) -> Response:
    payment = store.get_v1(request.path_params["imp_uid"])
    if payment is None:
        return v1_error(404, NOT_FOUND)
    return v1_ok(store.v1_view(payment))


async def get_payments(request: Request, store: Store) -> Response:
    imp_uids = request.query_params.getlist("imp_uid[]") + request.query_params.getlist("imp_uid")
    merchant_uids = request.query_params.getlist("merchant_uid[]") + request.query_params.getlist("merchant_uid")
    found: list[Payment] = []
    missing: list[str] = []
    for imp_uid in imp_uids:
        p = store.get_v1(imp_uid)
        (found.append(p) if p is not None else missing.append(imp_uid))
    for merchant_uid in merchant_uids:
        candidates = _sorted(store.v1_by_merchant_uid(merchant_uid), "-started")
        (found.append(candidates[0]) if candidates else missing.append(merchant_uid))
    if not found:
        return v1_error(404, "해당되는 결제건을 찾지 못하였습니다.")
    views = [store.v1_view(p) for p in found]
    if missing:
        # 207: the found ones are returned, the rest are named in the message.
        return v1_ok(views, status=207, message="일부 거래를 조회하지 못했습니다: " + ", ".join(missing))
    return v1_ok(views)


async def find_payment(request: Request, store: Store) -> Response:
    sorting = _sorting(request)
    status = _status_param(request.path_params.get("payment_status"))
    candidates = store.v1_by_merchant_uid(request.path_params["merchant_uid"])
    if status is not None:
        candidates = [p for p in candidates if p.status == status]
    if not candidates:
        return v1_error(404, NOT_FOUND)
    return v1_ok(store.v1_view(_sorted(candidates, sorting)[0]))


def _paging(request: Request) -> tuple[int, int]:
    page = as_int(request.query_params.get("page"), "page") or 1
    limit = as_int(request.query_params.get("limit"), "limit")
    limit = 20 if limit is None else limit
    if page < 1:
        raise BadRequest("page는 1부터 시작합니다.")
    if not 1 <= limit <= 1000:
        raise BadRequest("limit은 1 이상 1000 이하입니다.")
    return page, limit


def _paged(store: Store, payments: list[Payment], page: int, limit: int) -> Response:
    total = len(payments)
    last_page = max(1, math.ceil(total / limit))
    if page > last_page:
        return v1_error(400, f"데이터 범위를 넘어선 page입니다. (마지막 page: {last_page})")
    chunk = payments[(page - 1) * limit : page * limit]
    return v1_ok(
        {
            "total": total,
            "previous": page - 1 if page > 1 else 0,
            "next": page + 1 if page < last_page else 0,
            "list": [store.v1_view(p) for p in chunk],
        }
    )


async def find_all_payments(request: Request, store: Store) -> Response:
    sorting = _sorting(request)
    page, limit = _paging(request)
    status = _status_param(request.path_params.get("payment_status"))
    candidates = store.v1_by_merchant_uid(request.path_params["merchant_uid"])
    if status is not None:
        candidates = [p for p in candidates if p.status == status]
    if not candidates:
        return v1_error(404, NOT_FOUND)
    return _paged(store, _sorted(candidates, sorting), page, limit)


def _status_time(p: Payment) -> float:
    # The spec filters from/to on the time of each payment's current status.
    return {"ready": p.started_at, "paid": p.paid_at, "cancelled": p.cancelled_at, "failed": p.failed_at}[p.status]


async def payments_by_status(request: Request, store: Store) -> Response:
    raw_status = request.path_params["payment_status"]
    if raw_status != "all" and raw_status not in V1_STATUSES:
        return v1_error(400, "유효하지 않은 payment_status입니다. (all, ready, paid, cancelled, failed)")
    status = _status_param(raw_status)
    sorting = _sorting(request)
    page, limit = _paging(request)
    to = as_int(request.query_params.get("to"), "to")
    to = int(store.now()) if to is None else to
    frm = as_int(request.query_params.get("from"), "from")
    frm = to - NINETY_DAYS_S if frm is None else frm
    if frm > to:
        raise BadRequest("from은 to보다 클 수 없습니다.")
    if to - frm > NINETY_DAYS_S:
        raise BadRequest("검색기간은 최대 90일입니다.")
    # 'pending' exists only in V2; V1 listings never include it.
    payments = [
        p
        for p in store.v1_payments()
        if p.status in V1_STATUSES and (status is None or p.status == status) and frm <= int(_status_time(p)) <= to
    ]
    return _paged(store, _sorted(payments, sorting), page, limit)


# ---------------------------------------------------------------------- prepare
async def prepare(request: Request, store: Store) -> Response:
    params = await read_params(request)
    merchant_uid = as_str(params.get("merchant_uid"), "merchant_uid", required=True)
    amount = as_int(params.get("amount"), "amount", required=True)
    currency = as_str(params.get("currency"), "currency")
    if len(merchant_uid) > 40:
        raise BadRequest("merchant_uid는 최대 40자입니다.")
    if amount < 0:
        raise BadRequest("amount는 0 이상이어야 합니다.")
    try:
        entry = await store.prepare(merchant_uid, amount, currency)
    except SandboxError as exc:
        return v1_error(200, exc.message, code=1)
    return v1_ok(store.prepare_view(entry))


async def update_prepare(request: Request, store: Store) -> Response:
    params = await read_params(request)
    merchant_uid = as_str(params.get("merchant_uid"), "merchant_uid", required=True)
    amount = as_int(params.get("amount"), "amount", required=True)
    currency = as_str(params.get("currency"), "currency")
    if amount < 0:
        raise BadRequest("amount는 0 이상이어야 합니다.")
    try:
        entry = await store.update_prepare(merchant_uid, amount, currency)
    except SandboxError as exc:
        return v1_error(404, exc.message)
    return v1_ok(store.prepare_view(entry))


async def get_prepare(request: Request, store: Store) -> Response:
    entry = store.get_prepared(request.path_params["merchant_uid"])
    if entry is None:
        # The spec documents only 200/401 here, so "not found" is a code != 0 on HTTP 200.
        return v1_error(200, "사전등록된 결제정보가 존재하지 않습니다.", code=1)
    return v1_ok(store.prepare_view(entry))


# ---------------------------------------------------------------------- cancel
async def cancel(request: Request, store: Store) -> Response:
    params = await read_params(request)
    imp_uid = as_str(params.get("imp_uid"), "imp_uid")
    merchant_uid = as_str(params.get("merchant_uid"), "merchant_uid")
    amount = as_int(params.get("amount"), "amount")
    checksum = as_int(params.get("checksum"), "checksum")
    reason = as_str(params.get("reason"), "reason")
    if imp_uid is None and merchant_uid is None:
        return v1_error(200, "imp_uid 또는 merchant_uid 중 하나는 필수입니다.", code=1)
    # imp_uid wins when both are given; a wrong imp_uid fails regardless of merchant_uid.
    if imp_uid is not None:
        payment = store.get_v1(imp_uid)
    else:
        paid = [p for p in store.v1_by_merchant_uid(merchant_uid) if p.status in ("paid", "cancelled")]
        payment = _sorted(paid, "-paid")[0] if paid else None
    if payment is None:
        return v1_error(200, "취소할 결제건이 존재하지 않습니다.", code=1)
    try:
        payment, _ = await store.cancel(
            payment,
            amount=amount,
            reason=reason,
            checksum=checksum,
            trigger="API",
            refund_holder=as_str(params.get("refund_holder"), "refund_holder"),
            refund_bank=as_str(params.get("refund_bank"), "refund_bank"),
            refund_account=as_str(params.get("refund_account"), "refund_account"),
            refund_tel=as_str(params.get("refund_tel"), "refund_tel"),
            require_refund_account=True,
            webhook=False,  # V1 webhooks fire for console cancels only (docs/v1-webhook.md)
        )
    except SandboxError as exc:
        return v1_error(200, exc.message, code=1)
    return v1_ok(store.v1_view(payment))


def routes() -> list[Route]:
    """Malformed input answers 400 where the spec documents a 400 for the endpoint, else
    HTTP 200 with code 1. Order matters only for readability: path params never match '/'."""

    def r(method: str, path: str, handler, invalid_status: int = 200) -> Route:
        return api_route("v1", method, path, handler, invalid_status=invalid_status)

    return [
        r("POST", "/v1/users/getToken", get_token),
        r("POST", "/v1/payments/prepare", authed(prepare)),
        r("PUT", "/v1/payments/prepare", authed(update_prepare)),
        r("GET", "/v1/payments/prepare/{merchant_uid}", authed(get_prepare)),
        r("POST", "/v1/payments/cancel", authed(cancel)),
        r("GET", "/v1/payments/find/{merchant_uid}", authed(find_payment)),
        r("GET", "/v1/payments/find/{merchant_uid}/{payment_status}", authed(find_payment)),
        r("GET", "/v1/payments/findAll/{merchant_uid}", authed(find_all_payments), 400),
        r("GET", "/v1/payments/findAll/{merchant_uid}/{payment_status}", authed(find_all_payments), 400),
        r("GET", "/v1/payments/status/{payment_status}", authed(payments_by_status), 400),
        r("GET", "/v1/payments/{imp_uid}", authed(get_payment)),
        r("GET", "/v1/payments", authed(get_payments)),
    ]
