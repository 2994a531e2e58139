"""PortOne V2 REST API (https://api.portone.io), per openapi/v2.openapi.yml.

Errors are {type, message} with the spec's HTTP status per error type. Responses are shaped so
that portone-server-sdk deserializes them (absent optional fields are omitted, never null).

Scope: the V2 API here sees V2 payments only (real PortOne also lists V1 payments through V2).
"""

from __future__ import annotations

import base64
import hashlib
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .http import BadRequest, api_route, as_int, as_str, read_json, v2_error
from .store import Payment, SandboxError, Store, parse_iso

# SandboxError.kind -> (HTTP status, V2 error type), from the responses of /payments/{id}/cancel.
CANCEL_ERRORS = {
    "not_paid": (409, "PAYMENT_NOT_PAID"),
    "already_cancelled": (409, "PAYMENT_ALREADY_CANCELLED"),
    "checksum_mismatch": (409, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN"),
    "exceeds": (409, "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT"),
    "invalid_amount": (400, "INVALID_REQUEST"),
    "refund_account_required": (400, "INVALID_REQUEST"),
    "refund_account_invalid": (400, "INVALID_REQUEST"),
    "idempotency_mismatch": (400, "INVALID_REQUEST"),
}
V2_STATUSES = ("READY", "PENDING", "VIRTUAL_ACCOUNT_ISSUED", "PAID", "FAILED", "PARTIAL_CANCELLED", "CANCELLED")


def authed(handler):
    async def wrapped(request: Request, store: Store) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme != "PortOne" or secret.strip() != store.config.v2_api_secret:
            return v2_error(401, "UNAUTHORIZED", "인증 정보가 올바르지 않습니다.")
        return await handler(request, store)

    return wrapped


def _store_check(store: Store, store_id: str | None) -> Response | None:
    if store_id is not None and store_id != store.config.store_id:
        return v2_error(403, "FORBIDDEN", "요청이 거절되었습니다. (storeId 불일치)")
    return None


async def get_payment(request: Request, store: Store) -> Response:
    denied = _store_check(store, request.query_params.get("storeId"))
    if denied is not None:
        return denied
    payment = store.get_v2(request.path_params["paymentId"])
    if payment is None:
        return v2_error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    return JSONResponse(store.v2_view(payment))


async def cancel_payment(request: Request, store: Store) -> Response:
    payment_id = request.path_params["paymentId"]
    body = await read_json(request)
    denied = _store_check(store, as_str(body.get("storeId"), "storeId"))
    if denied is not None:
        return denied
    reason = as_str(body.get("reason"), "reason", required=True)
    amount = as_int(body.get("amount"), "amount")
    if amount is not None and amount <= 0:
        raise BadRequest("amount must be positive")
    current = as_int(body.get("currentCancellableAmount"), "currentCancellableAmount")
    refund = body.get("refundAccount")
    if refund is not None and not isinstance(refund, dict):
        raise BadRequest("refundAccount must be an object")
    refund = refund or {}
    skip_webhook = body.get("skipWebhook") is True

    payment = store.get_v2(payment_id)
    if payment is None:
        return v2_error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
    key = request.headers.get("idempotency-key")
    fingerprint = None
    if key is not None:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        fingerprint = hashlib.sha256(f"{payment_id}\n{canonical}".encode()).hexdigest()
        key = f"v2-cancel:{key}"
    try:
        _, cancellation = await store.cancel(
            payment,
            amount=amount,
            reason=reason,
            checksum=current,
            trigger="API",
            refund_holder=as_str(refund.get("holderName"), "refundAccount.holderName"),
            refund_bank=as_str(refund.get("bank"), "refundAccount.bank"),
            refund_account=as_str(refund.get("number"), "refundAccount.number"),
            refund_tel=as_str(refund.get("holderPhoneNumber"), "refundAccount.holderPhoneNumber"),
            require_refund_account=True,
            webhook=not skip_webhook,
            idempotency_key=key,
            idempotency_fingerprint=fingerprint,
        )
    except SandboxError as exc:
        status, type_ = CANCEL_ERRORS.get(exc.kind, (400, "INVALID_REQUEST"))
        return v2_error(status, type_, exc.message)
    return JSONResponse({"cancellation": store.v2_cancellation_view(cancellation)})


async def pre_register(request: Request, store: Store) -> Response:
    body = await read_json(request)
    denied = _store_check(store, as_str(body.get("storeId"), "storeId"))
    if denied is not None:
        return denied
    total = as_int(body.get("totalAmount"), "totalAmount")
    tax_free = as_int(body.get("taxFreeAmount"), "taxFreeAmount")
    currency = as_str(body.get("currency"), "currency")
    if total is not None and total <= 0:
        raise BadRequest("totalAmount must be positive")
    try:
        await store.pre_register(
            request.path_params["paymentId"],
            {"totalAmount": total, "taxFreeAmount": tax_free, "currency": currency},
        )
    except SandboxError as exc:
        return v2_error(409, "ALREADY_PAID", exc.message)
    return JSONResponse({})


def _time(value, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be an RFC 3339 date-time string")
    try:
        return parse_iso(value)
    except ValueError:
        raise BadRequest(f"{name} must be an RFC 3339 date-time string") from None


def _v2_status_matches(p: Payment, wanted: set[str]) -> bool:
    status = p.v2_status
    return status in wanted or (status == "PAY_PENDING" and "PENDING" in wanted)


async def list_payments(request: Request, store: Store) -> Response:
    body = await read_json(request, query_param="requestBody")
    page = body.get("page") or {}
    flt = body.get("filter") or {}
    if not isinstance(page, dict) or not isinstance(flt, dict):
        raise BadRequest("page and filter must be objects")
    number = as_int(page.get("number"), "page.number")
    size = as_int(page.get("size"), "page.size")
    number = 0 if number is None else number  # 0-based; SDK default number 0, size 10
    size = 10 if size is None else size
    if number < 0 or size < 1:
        raise BadRequest("page.number must be >= 0 and page.size >= 1")
    denied = _store_check(store, as_str(flt.get("storeId"), "filter.storeId"))
    if denied is not None:
        return denied
    until = _time(flt.get("until"), "filter.until")
    until = store.now() if until is None else until
    frm = _time(flt.get("from"), "filter.from")
    frm = until - 90 * 86400 if frm is None else frm
    statuses = flt.get("status")
    if statuses is not None:
        if not isinstance(statuses, list) or any(s not in V2_STATUSES for s in statuses):
            raise BadRequest(f"filter.status items must be among {', '.join(V2_STATUSES)}")
    timestamp_type = flt.get("timestampType") or "CREATED_AT"
    sort_by = flt.get("sortBy") or "REQUESTED_AT"
    sort_order = flt.get("sortOrder") or "DESC"
    if timestamp_type not in ("CREATED_AT", "STATUS_CHANGED_AT") or sort_by not in ("REQUESTED_AT", "STATUS_CHANGED_AT") or sort_order not in ("ASC", "DESC"):
        raise BadRequest("invalid timestampType, sortBy or sortOrder")
    version = flt.get("version")
    if version not in (None, "V1", "V2"):
        raise BadRequest("filter.version must be V1 or V2")

    def stamp(p: Payment) -> float:
        return p.started_at if timestamp_type == "CREATED_AT" else p.status_changed_at

    items = [
        p
        for p in store.v2_payments()
        if frm <= stamp(p) <= until
        and (statuses is None or _v2_status_matches(p, set(statuses)))
        and version in (None, "V2")
    ]
    attr = "started_at" if sort_by == "REQUESTED_AT" else "status_changed_at"
    items.sort(key=lambda p: (getattr(p, attr), p.seq), reverse=sort_order == "DESC")
    chunk = items[number * size : (number + 1) * size]
    return JSONResponse(
        {
            "items": [store.v2_view(p) for p in chunk],
            "page": {"number": number, "size": size, "totalCount": len(items)},
        }
    )


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, seq = raw.partition(":")
        if prefix != "seq":
            raise ValueError
        return int(seq)
    except ValueError:
        raise BadRequest("invalid cursor") from None


async def list_payments_by_cursor(request: Request, store: Store) -> Response:
    """Creation-time ordered (oldest first) pages; each item carries the cursor to resume after it."""
    body = await read_json(request, query_param="requestBody")
    denied = _store_check(store, as_str(body.get("storeId"), "storeId"))
    if denied is not None:
        return denied
    until = _time(body.get("until"), "until")
    until = store.now() if until is None else until
    frm = _time(body.get("from"), "from")
    frm = until - 90 * 86400 if frm is None else frm
    size = as_int(body.get("size"), "size")
    size = 10 if size is None else size
    if not 1 <= size <= 1000:
        raise BadRequest("size must be between 1 and 1000")
    after = _decode_cursor(body["cursor"]) if body.get("cursor") else 0
    items = sorted(
        (p for p in store.v2_payments() if frm <= p.started_at <= until and p.seq > after),
        key=lambda p: p.seq,
    )[:size]
    return JSONResponse({"items": [{"payment": store.v2_view(p), "cursor": _encode_cursor(p.seq)} for p in items]})


def routes() -> list[Route]:
    r = lambda method, path, handler: api_route("v2", method, path, handler)  # noqa: E731
    return [
        r("GET", "/v2/payments-by-cursor", authed(list_payments_by_cursor)),
        r("GET", "/v2/payments", authed(list_payments)),
        r("POST", "/v2/payments/{paymentId}/cancel", authed(cancel_payment)),
        r("POST", "/v2/payments/{paymentId}/pre-register", authed(pre_register)),
        r("GET", "/v2/payments/{paymentId}", authed(get_payment)),
    ]
