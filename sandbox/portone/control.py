"""Control API (/_control): drive the emulator from tests, demos and the browser checkout.

Plays the roles PortOne's own API cannot: the buyer (create/deposit), the merchant's console
(cancel), and the network (faults). Never faulted, never authenticated: it is a sandbox.
Errors: {"error": {"kind", "message"}} with 400 (bad input), 404 (unknown payment), 409 (state).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import billing_v1_control
from .schedules_v2 import run_due as run_due_v2
from .http import API_TEMPLATES, BadRequest, as_int, as_str
from ..shared import base_url, delete_webhooks, get_stats, json_object, reset
from .store import Faults, Payment, SandboxError, Store, get_store

STATUS_FOR_KIND = {"invalid": 400, "not_found": 404, "already_paid": 409, "not_paid": 409,
                   "already_cancelled": 409, "checksum_mismatch": 409, "exceeds": 409,
                   "invalid_amount": 400, "refund_account_required": 400}


def _err(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "message": message}}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    return json_object(await request.body(), BadRequest, not_json="body must be JSON",
                       not_object="body must be a JSON object")


def _bool(value: Any, name: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be a boolean")
    return value


def view(store: Store, payment: Payment) -> dict:
    return store.v1_view(payment) if payment.version == "v1" else store.v2_view(payment)


def handled(fn):
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request, get_store(request))
        except BadRequest as exc:
            return _err(400, "invalid", exc.message)
        except SandboxError as exc:
            return _err(STATUS_FOR_KIND.get(exc.kind, 400), exc.kind, exc.message)

    return endpoint


CREATE_FIELDS = {"amount", "merchant_uid", "payment_id", "pay_method", "outcome", "name", "buyer_email",
                 "buyer_name", "buyer_tel", "notice_url", "webhook", "version", "custom_data", "pg", "fail_reason",
                 "vbank_due", "discount"}


async def create_payment(request: Request, store: Store) -> Response:
    body = await _body(request)
    unknown = set(body) - CREATE_FIELDS
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    amount = as_int(body.get("amount"), "amount", required=True)
    payment = await store.create_payment(
        amount=amount,
        merchant_uid=as_str(body.get("merchant_uid"), "merchant_uid"),
        payment_id=as_str(body.get("payment_id"), "payment_id"),
        pay_method=as_str(body.get("pay_method"), "pay_method") or "card",
        outcome=as_str(body.get("outcome"), "outcome") or "paid",
        name=as_str(body.get("name"), "name"),
        buyer_email=as_str(body.get("buyer_email"), "buyer_email"),
        buyer_name=as_str(body.get("buyer_name"), "buyer_name"),
        buyer_tel=as_str(body.get("buyer_tel"), "buyer_tel"),
        notice_url=as_str(body.get("notice_url"), "notice_url"),
        webhook=_bool(body.get("webhook"), "webhook", True),
        version=as_str(body.get("version"), "version") or "v1",
        pg=as_str(body.get("pg"), "pg"),
        custom_data=body.get("custom_data"),
        fail_reason=as_str(body.get("fail_reason"), "fail_reason"),
        vbank_due=as_int(body.get("vbank_due"), "vbank_due"),
        # V2: a promotion's share of the amount (amount.discount; amount.paid = amount − discount)
        discount=as_int(body.get("discount"), "discount") or 0,
    )
    return JSONResponse(view(store, payment))


async def list_payments(request: Request, store: Store) -> Response:
    return JSONResponse([{"version": p.version, "payment": view(store, p)} for p in store.payments.values()])


def _payment(store: Store, key: str) -> Payment:
    payment = store.get(key)
    if payment is None:
        raise SandboxError("not_found", f"no payment with imp_uid or paymentId {key!r}")
    return payment


async def get_payment(request: Request, store: Store) -> Response:
    return JSONResponse(view(store, _payment(store, request.path_params["id"])))


async def deposit(request: Request, store: Store) -> Response:
    body = await _body(request)
    payment = await store.deposit(request.path_params["id"], webhook=_bool(body.get("webhook"), "webhook", True))
    return JSONResponse(view(store, payment))


async def cancellations(request: Request, store: Store) -> Response:
    """What PortOne's console shows of each cancel, the refund account included. (The REST API's
    cancel history has no refund fields: v1.openapi.yml ``PaymentCancelAnnotation``.)"""
    payment = _payment(store, request.path_params["id"])
    return JSONResponse([
        {"amount": c.amount, "reason": c.reason, "trigger": c.trigger, "cancellation_id": c.id,
         "refund_bank": c.refund_bank, "refund_account": c.refund_account, "refund_holder": c.refund_holder,
         "refund_tel": c.refund_tel}
        for c in payment.cancel_history
    ])


async def approve_late(request: Request, store: Store) -> Response:
    body = await _body(request)
    payment = await store.approve_late(request.path_params["id"], webhook=_bool(body.get("webhook"), "webhook", True))
    return JSONResponse(view(store, payment))


async def console_cancel(request: Request, store: Store) -> Response:
    body = await _body(request)
    payment = _payment(store, request.path_params["id"])
    amount = as_int(body.get("amount"), "amount")
    payment, _ = await store.cancel(
        payment,
        amount=amount,
        reason=as_str(body.get("reason"), "reason") or "관리자 콘솔 취소",
        trigger="CONSOLE",
        webhook=_bool(body.get("webhook"), "webhook", True),
    )
    return JSONResponse(view(store, payment))


# ---------------------------------------------------------------------- faults
def _rate(body: dict, name: str) -> float:
    value = body.get(name, 0.0)
    if isinstance(value, bool):
        value = 1.0 if value else 0.0
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise BadRequest(f"{name} must be a probability between 0 and 1")
    return float(value)


FAULT_FIELDS = set(Faults.__dataclass_fields__)


async def put_faults(request: Request, store: Store) -> Response:
    """Replace the fault settings (PUT semantics: omitted knobs go back to off)."""
    body = await _body(request)
    unknown = set(body) - FAULT_FIELDS
    if unknown:
        raise BadRequest(f"unknown fault knobs: {', '.join(sorted(unknown))}")
    endpoints = body.get("endpoints")
    if endpoints is not None:
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            raise BadRequest("endpoints must be a list of endpoint templates")
        unknown_eps = [e for e in endpoints if e not in API_TEMPLATES]
        if unknown_eps:
            raise BadRequest(f"unknown endpoint templates {unknown_eps}; known: {list(API_TEMPLATES)}")
    error_status = as_int(body.get("error_status"), "error_status") or 500
    if not 500 <= error_status <= 599:
        raise BadRequest("error_status must be a 5xx status")
    timeout_s = body.get("timeout_s", 30.0)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s < 0:
        raise BadRequest("timeout_s must be a non-negative number")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadRequest("seed must be an integer")
    faults = Faults(
        latency_ms=as_int(body.get("latency_ms"), "latency_ms") or 0,
        error_rate=_rate(body, "error_rate"),
        error_status=error_status,
        timeout_rate=_rate(body, "timeout_rate"),
        timeout_s=float(timeout_s),
        malformed_rate=_rate(body, "malformed_rate"),
        process_before_fault=_bool(body.get("process_before_fault"), "process_before_fault", False),
        token_expired=_bool(body.get("token_expired"), "token_expired", False),
        endpoints=endpoints,
        webhook_drop_rate=_rate(body, "webhook_drop_rate"),
        webhook_duplicate=_rate(body, "webhook_duplicate"),
        webhook_delay_ms=as_int(body.get("webhook_delay_ms"), "webhook_delay_ms") or 0,
        seed=seed,
    )
    if faults.latency_ms < 0 or faults.webhook_delay_ms < 0:
        raise BadRequest("latency_ms and webhook_delay_ms must be >= 0")
    async with store.lock:
        store.set_faults(faults)
        if faults.token_expired:
            # A one-shot event: tokens issued so far die now; getToken then issues a new one.
            store.expire_tokens()
    return JSONResponse(faults.view())


async def get_faults(request: Request, store: Store) -> Response:
    return JSONResponse(store.faults.view())


async def delete_faults(request: Request, store: Store) -> Response:
    async with store.lock:
        store.set_faults(Faults())
    return JSONResponse(store.faults.view())


# ---------------------------------------------------------------------- observation
async def get_webhooks(request: Request, store: Store) -> Response:
    q = request.query_params
    log = store.webhooks.log
    for field in ("imp_uid", "merchant_uid", "payment_id", "billing_key", "status", "version"):
        if field in q:
            log = [d for d in log if d.get(field) == q[field]]
    return JSONResponse({"pending": store.webhooks.pending(), "deliveries": log})


async def delete_stats(request: Request, store: Store) -> Response:
    store.stats.clear()
    return JSONResponse({})


async def get_config(request: Request, store: Store) -> Response:
    base = base_url(request)
    data = store.config.public_view()
    data.update({"base_url": base, "v1_base_url": base + "/v1", "v2_base_url": base + "/v2"})
    return JSONResponse(data)


async def clock(request: Request, store: Store) -> Response:
    """Move the sandbox clock forward (token expiry, vbank deadlines) without sleeping."""
    body = await _body(request)
    advance = body.get("advance_s", 0)
    if isinstance(advance, bool) or not isinstance(advance, (int, float)) or advance < 0:
        raise BadRequest("advance_s must be a non-negative number")
    store.advance_clock(float(advance))
    await store.billing_v1.run_due()  # V1 payment schedules now due run before the answer
    await run_due_v2(store.billing_v2)  # V2 payment schedules that fell due run before the answer
    return JSONResponse({"offset_s": store.time_offset_s, "now": store.now()})


# Every control endpoint with what it does and an example body: routes() is built from this table
# and the index page (GET /, sandbox/portone/index.py) lists it, so an endpoint cannot exist undocumented.
ENDPOINTS: list[tuple[str, str, Any, str, dict | None]] = [
    ("POST", "/_control/payments", create_payment,
     "결제 만들기 (구매자가 결제창에서 결제한 것처럼): amount, merchant_uid | payment_id, version v1|v2, "
     "pay_method card|vbank|trans, outcome paid|failed|ready|pending, webhook, …",
     {"amount": 5000, "merchant_uid": "<preparePointCharge의 merchantUid>"}),
    ("GET", "/_control/payments", list_payments, "모든 결제 (V1·V2 응답 형식 그대로)", None),
    ("GET", "/_control/payments/{id}", get_payment, "결제 하나 (imp_uid 또는 paymentId)", None),
    ("POST", "/_control/payments/{id}/deposit", deposit,
     "발급된 가상계좌에 입금 (paid가 되고 웹훅이 갑니다)", {}),
    ("POST", "/_control/payments/{id}/cancel", console_cancel,
     "관리자 콘솔에서 취소 (전액 또는 amount만큼, 웹훅 포함)", {"amount": 1000, "reason": "콘솔 취소"}),
    ("POST", "/_control/payments/{id}/approve-late", approve_late,
     "실패로 끝난 카드 결제가 나중에 승인됨 (PG 타임아웃 뒤의 승인)", {}),
    ("GET", "/_control/payments/{id}/cancellations", cancellations,
     "콘솔에 보이는 취소 내역 (환불계좌 포함)", None),
    ("GET", "/_control/faults", get_faults, "현재 장애 설정", None),
    ("PUT", "/_control/faults", put_faults,
     "장애 주입 (지연, 5xx, 타임아웃, 깨진 응답, 토큰 만료, 웹훅 누락·중복·지연); 빠진 항목은 꺼짐",
     {"latency_ms": 200, "error_rate": 0.1, "endpoints": ["POST /v1/payments/cancel"]}),
    ("DELETE", "/_control/faults", delete_faults, "장애 설정 모두 끄기", None),
    ("GET", "/_control/webhooks", get_webhooks,
     "보낸 웹훅과 시도 기록 (?imp_uid=, merchant_uid=, payment_id=, billing_key=, status=, version=)", None),
    ("DELETE", "/_control/webhooks", delete_webhooks, "웹훅 기록 지우기", None),
    ("GET", "/_control/stats", get_stats, "API 엔드포인트별 호출 수 (이 프로세스가 시작된 뒤)", None),
    ("DELETE", "/_control/stats", delete_stats, "호출 수 지우기", None),
    ("GET", "/_control/config", get_config, "키·상점 설정·기본 URL (IMP.init의 가맹점 식별코드 등)", None),
    ("POST", "/_control/reset", reset, "모두 잊기: 결제, 주문, 토큰, 웹훅 기록, 장애 설정 (상태 파일까지)", None),
    ("POST", "/_control/clock", clock, "샌드박스 시계를 앞으로 (토큰 만료, 가상계좌 입금기한, 예약결제 실행)",
     {"advance_s": 3600}),
    billing_v1_control.ENDPOINT,
]


def routes() -> list[Route]:
    return [Route(path, handled(fn), methods=[method]) for method, path, fn, _, _ in ENDPOINTS]
