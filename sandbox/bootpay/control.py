"""Control API (/_control): the buyer (pay, deposit), the Bootpay admin (keys, webhook log) and the
network (faults), for tests, demos and scripts. Never faulted, never authenticated.
Errors: {"error": {"kind", "message"}} with 400 (bad input), 404 (unknown receipt), 409 (state).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..shared import base_url, delete_webhooks, get_stats, reset
from . import billing_api, rest
from .store import BootpayError, Faults, Store, get_store, iso


class Invalid(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
    return await rest.body_of(request)  # a BootpayError(400), rendered as {"error": …} by handled()


def _typed(body: dict, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise Invalid(f"{name} must be {getattr(kind, '__name__', kind)}")
    return value


def handled(fn):
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request, get_store(request))
        except Invalid as exc:
            return JSONResponse({"error": {"kind": "invalid", "message": str(exc)}}, status_code=400)
        except BootpayError as exc:
            return JSONResponse({"error": {"kind": exc.error_code, "message": exc.message}}, status_code=exc.status)

    return endpoint


RECEIPT_FIELDS = {"price", "order_id", "order_name", "method", "tax_free", "webhook", "separately_confirmed", "metadata"}


async def create_receipt(request: Request, store: Store) -> Response:
    body = await _body(request)
    unknown = set(body) - RECEIPT_FIELDS
    if unknown:
        raise Invalid(f"unknown fields: {', '.join(sorted(unknown))}")
    price = _typed(body, "price", int, None)
    if price is None or price <= 0:
        raise Invalid("price must be a positive whole number of KRW")
    method = _typed(body, "method", str, "card")
    if method not in ("card", "vbank"):
        raise Invalid("method must be card or vbank")
    tax_free = _typed(body, "tax_free", int, 0)
    if not 0 <= tax_free <= price:
        raise Invalid("tax_free must be between 0 and price")
    separately_confirmed = _typed(body, "separately_confirmed", bool, False)
    if separately_confirmed and method != "card":
        raise Invalid("separately_confirmed is for card payments")
    receipt = await store.create(
        price=price, method=method, order_id=_typed(body, "order_id", str, None) or None,
        order_name=_typed(body, "order_name", str, None), tax_free=tax_free,
        separately_confirmed=separately_confirmed, metadata=_typed(body, "metadata", dict, {}),
        webhook=_typed(body, "webhook", bool, True),
    )
    return JSONResponse(store.view(receipt))


async def list_receipts(request: Request, store: Store) -> Response:
    return JSONResponse([store.view(r) for r in sorted(store.receipts.values(), key=lambda r: r.seq)])


async def get_receipt(request: Request, store: Store) -> Response:
    return JSONResponse(store.view(store.get(request.path_params["receipt_id"])))


async def deposit(request: Request, store: Store) -> Response:
    body = await _body(request)
    receipt = await store.deposit(request.path_params["receipt_id"], webhook=_typed(body, "webhook", bool, True))
    return JSONResponse(store.view(receipt))


async def cancellations(request: Request, store: Store) -> Response:
    """What the Bootpay admin shows of each cancel, the refund account included."""
    return JSONResponse([{**c, "at": iso(c["at"])} for c in store.get(request.path_params["receipt_id"]).cancels])


# ---------------------------------------------------------------------- faults
def _rate(body: dict, name: str) -> float:
    value = _typed(body, name, (int, float), 0.0)
    if not 0.0 <= value <= 1.0:
        raise Invalid(f"{name} must be a probability between 0 and 1")
    return float(value)


async def put_faults(request: Request, store: Store) -> Response:
    """Replace the fault settings (PUT: omitted knobs go back to off)."""
    body = await _body(request)
    unknown = set(body) - {f.name for f in fields(Faults)}
    if unknown:
        raise Invalid(f"unknown fault knobs: {', '.join(sorted(unknown))}")
    endpoints = body.get("endpoints")
    if endpoints is not None and (not isinstance(endpoints, list) or set(endpoints) - set(rest.TEMPLATES)):
        raise Invalid(f"endpoints must be a list of {rest.TEMPLATES}")
    faults = Faults(
        latency_ms=_typed(body, "latency_ms", int, 0),
        error_rate=_rate(body, "error_rate"),
        error_status=_typed(body, "error_status", int, 500),
        timeout_rate=_rate(body, "timeout_rate"),
        timeout_s=float(_typed(body, "timeout_s", (int, float), 30.0)),
        malformed_rate=_rate(body, "malformed_rate"),
        process_before_fault=_typed(body, "process_before_fault", bool, False),
        token_expired=_typed(body, "token_expired", bool, False),
        endpoints=endpoints,
        webhook_drop_rate=_rate(body, "webhook_drop_rate"),
        webhook_delay_ms=_typed(body, "webhook_delay_ms", int, 0),
        seed=_typed(body, "seed", int, None),
    )
    if not 500 <= faults.error_status <= 599:
        raise Invalid("error_status must be a 5xx status")
    if min(faults.latency_ms, faults.webhook_delay_ms, faults.timeout_s) < 0:
        raise Invalid("latency_ms, webhook_delay_ms and timeout_s must be >= 0")
    async with store.lock:
        store.set_faults(faults)
        if faults.token_expired:  # a one-shot event: the tokens issued so far die now
            store.expire_tokens()
    return JSONResponse(asdict(faults))


async def get_faults(request: Request, store: Store) -> Response:
    return JSONResponse(asdict(store.faults))


async def delete_faults(request: Request, store: Store) -> Response:
    async with store.lock:
        store.set_faults(Faults())
    return JSONResponse(asdict(store.faults))


# ---------------------------------------------------------------------- observation
async def get_webhooks(request: Request, store: Store) -> Response:
    log = store.webhooks.log
    for name in ("receipt_id", "order_id", "webhook_type", "status"):
        if name in request.query_params:
            log = [d for d in log if str(d.get(name)) == request.query_params[name]]
    return JSONResponse({"pending": store.webhooks.pending(), "deliveries": log})


async def get_config(request: Request, store: Store) -> Response:
    base = base_url(request)
    return JSONResponse({**store.config.public_view(), "base_url": base, "rest_base_url": base + "/v2"})


async def clock(request: Request, store: Store) -> Response:
    """Move the sandbox clock forward (token expiry, vbank deadlines) without sleeping."""
    advance = _typed(await _body(request), "advance_s", (int, float), 0)
    if advance < 0:
        raise Invalid("advance_s must be >= 0")
    store.advance_clock(float(advance))
    await store.billing.run_due()  # reservations that came due run now, before the answer
    return JSONResponse({"offset_s": store.time_offset_s, "now": store.now()})


# Every control endpoint with what it does and an example body: routes() and the index page are
# both built from this table, so an endpoint cannot exist undocumented.
ENDPOINTS: list[tuple[str, str, Any, str, dict | None]] = [
    ("GET", "/_control/config", get_config, "키 (application_id, private_key, client_key, secret_key)·웹훅 URL·REST base", None),
    ("POST", "/_control/receipts", create_receipt,
     "결제 만들기 (구매자가 결제창에서 결제한 것처럼): price, order_id, method card|vbank, webhook, "
     "separately_confirmed (status 2로 멈춤, POST /v2/confirm 대기), tax_free, order_name, metadata",
     {"price": 5000, "order_id": "order-1", "method": "card"}),
    ("GET", "/_control/receipts", list_receipts, "모든 영수증 (GET /v2/receipt 형식)", None),
    ("GET", "/_control/receipts/{receipt_id}", get_receipt, "영수증 하나 (인증 없이)", None),
    ("POST", "/_control/receipts/{receipt_id}/deposit", deposit,
     "발급된 가상계좌(status 5)에 입금: status 1, PAYMENT_COMPLETED 웹훅", {}),
    ("GET", "/_control/receipts/{receipt_id}/cancellations", cancellations,
     "관리자 화면의 취소 내역 (cancel_id, 금액, 환불계좌)", None),
    ("GET", "/_control/faults", get_faults, "현재 장애 설정", None),
    ("PUT", "/_control/faults", put_faults,
     "장애 주입 (지연, 5xx, 타임아웃, 깨진 응답, 토큰 만료, 웹훅 누락·지연); 빠진 항목은 꺼짐",
     {"latency_ms": 200, "error_rate": 0.5, "endpoints": ["POST /v2/cancel"]}),
    ("DELETE", "/_control/faults", delete_faults, "장애 설정 모두 끄기", None),
    ("GET", "/_control/webhooks", get_webhooks,
     "보낸 웹훅과 시도 기록 (?receipt_id=, order_id=, webhook_type=, status=)", None),
    ("DELETE", "/_control/webhooks", delete_webhooks, "웹훅 기록 지우기", None),
    ("GET", "/_control/stats", get_stats, "REST 엔드포인트별 호출 수 (이 프로세스가 시작된 뒤)", None),
    ("POST", "/_control/billing-keys", billing_api.control_billing_keys,
     "빌링키 발급 (구매자가 Bootpay.requestSubscription 창에서 카드를 등록한 것처럼): user_id, subscription_id, "
     "order_name; decline: true면 모든 결제가 '한도초과'로 거절되는 키. 응답에 receipt_id와 billing_key",
     {"user_id": "user-1", "subscription_id": "sub-1", "decline": False}),
    ("GET", "/_control/reservations", billing_api.control_reservations, "예약결제 모두 (조회 API 형식)", None),
    ("POST", "/_control/clock", clock, "샌드박스 시계를 앞으로 (토큰 만료, 가상계좌 입금기한, 예약결제 실행)",
     {"advance_s": 1800}),
    ("POST", "/_control/reset", reset, "모두 잊기: 영수증, 토큰, 웹훅 기록, 장애 설정 (상태 파일까지)", None),
]


def routes() -> list[Route]:
    return [Route(path, handled(fn), methods=[method]) for method, path, fn, _, _ in ENDPOINTS]
