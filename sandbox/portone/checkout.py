"""Browser checkout of the PortOne emulator: the JS SDKs and the sandbox approval page.

Routes (all relative to where the sandbox is served; every generated URL honours
``scope["root_path"]`` so the same code works standalone and under ``/sandbox/portone``):

    GET  /iamport.js                  V1 SDK emulator: IMP.init / IMP.agency / IMP.request_pay
    GET  /browser-sdk.js              V2 SDK emulator: PortOne.requestPayment (returns a Promise) and
                                      requestIssueBillingKey (sessions of kind "billing_key": billing_v2_checkout.py)
    POST /checkout                    the SDK form-posts {"payload": JSON} here (into the overlay
                                      iframe, a popup or the top window); creates a checkout
                                      session and 303-redirects to its page
    GET  /checkout/{sid}              the approval page: 승인 / 거절 / 가상계좌 발급 / 결제 취소
    POST /checkout/{sid}/complete     {"action": "approve"|"decline"|"vbank"|"cancel"} →
                                      {"response": <SDK response>, "redirect_url": str|None,
                                       "message": str}; creates the payment in the store
    GET  /checkout-assets/{name}      checkout.css / checkout.js
    GET  /checkout-demo               a manual demo merchant page (V1 and V2 buttons)

Outcomes (store.create_payment is the single source of truth; the amount prepared with
POST /v1/payments/prepare or pre-registered in V2 is enforced there):

    approve  → status paid    (pay_method as requested if card/trans/vbank, otherwise card)
    decline  → status failed  error_code F1001
    vbank    → status ready   pay_method vbank, vbank_num/vbank_name/vbank_holder/vbank_date
    cancel   → no payment     error_code F1002 "사용자가 결제를 취소하셨습니다" (also the overlay's ×)

V1 error codes: F0000 invalid request (SDK-side validation, unknown merchant code, bad params),
F1001 declined, F1002 user cancelled, F1003 rejected by PortOne's pre-validation (prepared amount
mismatch, merchant_uid already paid). A failed payment still carries its imp_uid.

V2 failures resolve (never reject) with ``code``: "InvalidArgument", "StoreNotFound",
"ChannelNotFound" for bad requests and "FAILURE_TYPE_PG" (with pgCode/pgMessage) for PG-side
failures, as the real SDK documents "code가 있으면 오류".

Redirect query strings:
    V1  m_redirect_url?imp_uid=..&merchant_uid=..&imp_success=true|false&success=true|false
                       [&error_code=..&error_msg=..]
    V2  redirectUrl?paymentId=..&payment_id=..&transactionType=PAYMENT&txId=..
                    [&code=..&message=..&pgCode=..&pgMessage=..]
"""

from __future__ import annotations

import html
import inspect
import json
import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import billing_v2_checkout
from .store import SandboxError, Store, get_store

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {"checkout.css": "text/css; charset=utf-8", "checkout.js": "text/javascript; charset=utf-8"}
MAX_SESSIONS = 2000
KST = timezone(timedelta(hours=9))

CANCEL_MSG = "사용자가 결제를 취소하셨습니다"
DECLINE_MSG = "[샌드박스] 카드사에서 결제를 거절하였습니다. (테스트 거절)"
V1_CODES = {"invalid": "F0000", "decline": "F1001", "cancel": "F1002", "rejected": "F1003"}
STORE_PAY_METHODS = ("card", "trans", "vbank")
V2_PAY_METHODS = {"CARD": "card", "TRANSFER": "trans", "VIRTUAL_ACCOUNT": "vbank"}
PAY_METHOD_LABELS = {
    "card": "신용카드", "trans": "실시간 계좌이체", "vbank": "가상계좌", "phone": "휴대폰 소액결제",
    "kakaopay": "카카오페이", "naverpay": "네이버페이", "payco": "페이코", "tosspay": "토스페이",
    "samsungpay": "삼성페이", "applepay": "애플페이",
    "CARD": "신용카드", "TRANSFER": "실시간 계좌이체", "VIRTUAL_ACCOUNT": "가상계좌",
    "MOBILE": "휴대폰 소액결제", "EASY_PAY": "간편결제", "GIFT_CERTIFICATE": "상품권",
}
ACTIONS = ("approve", "decline", "vbank", "cancel")


class CheckoutError(Exception):
    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


# ---------------------------------------------------------------------- helpers
def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _sessions(request: Request) -> OrderedDict[str, dict]:
    state = request.app.state
    sessions = getattr(state, "checkout_sessions", None)
    if sessions is None:
        sessions = OrderedDict()
        state.checkout_sessions = sessions
    return sessions


def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def _script_response(name: str) -> Response:
    return Response(
        _static(name),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


def _safe_url(url: Any) -> str | None:
    """Only absolute http(s) URLs (or site-relative paths) may be redirect targets."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def _with_query(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, "true" if v is True else "false" if v is False else str(v)) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _amount(value: Any, name: str) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise CheckoutError(f"{name}은(는) 필수 입력 항목입니다." if value in (None, "") else f"{name}이(가) 올바르지 않습니다.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise CheckoutError(f"{name}은(는) 0보다 큰 정수여야 합니다.")
    return value


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def parse_vbank_due(value: Any) -> int | None:
    """V1 `vbank_due` (YYYY-MM-DD, YYYYMMDD, YYYY-MM-DD HH:mm:ss, YYYYMMDDHHmm[ss], KST) → unix."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    formats = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y-%m-%d", "%Y%m%d")
    for fmt in formats:
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if "%H" not in fmt:  # a bare date means "until the end of that day"
            dt = dt.replace(hour=23, minute=59, second=59)
        return int(dt.replace(tzinfo=KST).timestamp())
    raise CheckoutError("vbank_due 형식이 올바르지 않습니다. (YYYY-MM-DD, YYYYMMDD, YYYY-MM-DD HH:mm:ss, YYYYMMDDHHmmss)")


def _v2_account_expiry(params: dict) -> int | None:
    va = params.get("virtualAccount")
    if not isinstance(va, dict):
        return None
    expiry = va.get("accountExpiry")
    if not isinstance(expiry, dict):
        return None
    if expiry.get("dueDate"):
        text = str(expiry["dueDate"]).strip()
        try:
            dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise CheckoutError("virtualAccount.accountExpiry.dueDate 형식이 올바르지 않습니다.", "InvalidArgument")
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=KST)
        return int(dt.timestamp())
    hours = expiry.get("validHours")
    if isinstance(hours, (int, float)) and not isinstance(hours, bool) and hours > 0:
        return int(time.time() + hours * 3600)
    return None


def _custom_data(value: Any) -> str | None:
    """PortOne keeps custom_data as a JSON string, and echoes it back that way."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _store_pay_method(requested: Any) -> str:
    return requested if requested in STORE_PAY_METHODS else "card"


async def _create_payment(store: Store, vbank_due: int | None, **kwargs: Any):
    """store.create_payment, plus the deposit deadline the buyer's request asked for."""
    accepts_due = "vbank_due" in inspect.signature(store.create_payment).parameters
    if accepts_due and vbank_due is not None:
        kwargs["vbank_due"] = vbank_due
    payment = await store.create_payment(**kwargs)
    if not accepts_due and vbank_due is not None and payment.vbank_num is not None:
        # The store derives vbank_date from config.vbank_due_days; honour the request's
        # vbank_due instead. Set before this coroutine yields, so nobody sees the default.
        payment.vbank_date = vbank_due
    return payment


# ---------------------------------------------------------------------- V1 responses
def v1_failure(params: dict, code: str, message: str, imp_uid: str | None = None) -> dict:
    return {
        "success": False,
        "imp_success": False,
        "imp_uid": imp_uid,
        "merchant_uid": params.get("merchant_uid"),
        "pay_method": params.get("pay_method"),
        "paid_amount": 0,
        "status": "failed",
        "name": params.get("name"),
        "error_code": code,
        "error_msg": message,
        "custom_data": _custom_data(params.get("custom_data")),
    }


def v1_sdk_response(view: dict, params: dict, error_code: str | None = None) -> dict:
    """The callback object of IMP.request_pay (docs/v1-js-sdk-request-pay-response.md)."""
    ok = view["status"] in ("paid", "ready")
    return {
        "success": ok,
        "imp_success": ok,
        "imp_uid": view["imp_uid"],
        "merchant_uid": view["merchant_uid"],
        "pay_method": view["pay_method"],
        "paid_amount": view["amount"] if ok else 0,
        "status": view["status"],
        "name": view["name"],
        "pg_provider": view["pg_provider"],
        "emb_pg_provider": view.get("emb_pg_provider"),
        "pg_type": "payment",
        "pg_tid": view["pg_tid"],
        "apply_num": view.get("apply_num"),
        "card_name": view.get("card_name"),
        "card_number": view.get("card_number"),
        "card_quota": view.get("card_quota", 0),
        "bank_name": view.get("bank_name"),
        "vbank_code": view.get("vbank_code"),
        "vbank_num": view.get("vbank_num"),
        "vbank_name": view.get("vbank_name"),
        "vbank_holder": view.get("vbank_holder"),
        "vbank_date": (view.get("vbank_date") or None) if view.get("vbank_num") else None,
        "vbank_issued_at": (view.get("vbank_issued_at") or None) if view.get("vbank_num") else None,
        "currency": view.get("currency", "KRW"),
        "buyer_name": view.get("buyer_name"),
        "buyer_email": view.get("buyer_email"),
        "buyer_tel": view.get("buyer_tel"),
        "buyer_addr": _opt_str(params.get("buyer_addr")),
        "buyer_postcode": _opt_str(params.get("buyer_postcode")),
        "custom_data": view.get("custom_data"),
        "paid_at": view.get("paid_at", 0),
        "receipt_url": view.get("receipt_url") or None,
        "error_code": None if ok else (error_code or V1_CODES["decline"]),
        "error_msg": None if ok else (view.get("fail_reason") or DECLINE_MSG),
    }


def v1_redirect(params: dict, rsp: dict) -> str | None:
    url = _safe_url(params.get("m_redirect_url"))
    if url is None:
        return None
    query: dict[str, Any] = {
        "imp_uid": rsp.get("imp_uid"),
        "merchant_uid": rsp.get("merchant_uid"),
        "imp_success": bool(rsp.get("success")),
        "success": bool(rsp.get("success")),
    }
    if not rsp.get("success"):
        query["error_code"] = rsp.get("error_code")
        query["error_msg"] = rsp.get("error_msg")
    return _with_query(url, query)


# ---------------------------------------------------------------------- V2 responses
def v2_failure(params: dict, code: str, message: str, *, tx_id: str | None = None,
               pg_code: str | None = None, pg_message: str | None = None) -> dict:
    rsp: dict[str, Any] = {"transactionType": "PAYMENT", "code": code, "message": message}
    if params.get("paymentId"):
        rsp["paymentId"] = params["paymentId"]
    if tx_id:
        rsp["txId"] = tx_id
    if pg_code:
        rsp["pgCode"] = pg_code
    if pg_message:
        rsp["pgMessage"] = pg_message
    return rsp


def v2_redirect(params: dict, rsp: dict) -> str | None:
    url = _safe_url(params.get("redirectUrl"))
    if url is None:
        return None
    query: dict[str, Any] = {
        "paymentId": rsp.get("paymentId"),
        "payment_id": rsp.get("paymentId"),
        "transactionType": rsp.get("transactionType"),
        "txId": rsp.get("txId"),
    }
    for key in ("code", "message", "pgCode", "pgMessage"):
        if rsp.get(key) is not None:
            query[key] = rsp[key]
    return _with_query(url, query)


# ---------------------------------------------------------------------- session building
def _validate_v1(store: Store, payload: dict, params: dict) -> None:
    merchant_code = payload.get("merchant_code")
    if not merchant_code:
        raise CheckoutError("IMP.init(\"고객사 식별코드\")를 먼저 호출해주세요.")
    if merchant_code != store.config.merchant_code:
        raise CheckoutError(f"등록되지 않은 고객사 식별코드입니다. ({merchant_code})")
    if not (params.get("customer_uid") and params.get("amount") == 0):  # 0원: 빌링키만 발급 (billing_v1_checkout.py)
        _amount(params.get("amount"), "결제금액(amount)")
    merchant_uid = params.get("merchant_uid")
    if not isinstance(merchant_uid, str) or not merchant_uid:
        params["merchant_uid"] = f"merchant_{int(time.time() * 1000)}_{secrets.token_hex(3)}"
    elif len(merchant_uid) > 40:
        raise CheckoutError("주문번호(merchant_uid)는 40자 이내여야 합니다.")
    currency = params.get("currency") or "KRW"
    if currency != "KRW":
        raise CheckoutError(f"샌드박스는 KRW 결제만 지원합니다. (currency: {currency})")
    parse_vbank_due(params.get("vbank_due"))


def _validate_v2(store: Store, params: dict) -> None:
    for key in ("storeId", "paymentId", "orderName", "totalAmount", "currency"):
        if params.get(key) in (None, ""):
            raise CheckoutError(f"{key} 파라미터는 필수 입력 항목입니다.", "InvalidArgument")
    if params["storeId"] != store.config.store_id:
        raise CheckoutError(f"상점을 찾을 수 없습니다. (storeId: {params['storeId']})", "StoreNotFound")
    channel_key = params.get("channelKey")
    if channel_key and channel_key != store.config.channel_key:
        raise CheckoutError(f"채널을 찾을 수 없습니다. (channelKey: {channel_key})", "ChannelNotFound")
    try:
        _amount(params.get("totalAmount"), "totalAmount")
    except CheckoutError as exc:
        raise CheckoutError(exc.message, "InvalidArgument") from None
    if str(params["currency"]).removeprefix("CURRENCY_") != "KRW":
        raise CheckoutError(f"샌드박스는 KRW 결제만 지원합니다. (currency: {params['currency']})", "InvalidArgument")
    if not isinstance(params["paymentId"], str) or len(params["paymentId"]) > 200:
        raise CheckoutError("paymentId가 올바르지 않습니다.", "InvalidArgument")
    _v2_account_expiry(params)


def _customer(params: dict) -> dict:
    customer = params.get("customer")
    if not isinstance(customer, dict):
        return {}
    name = customer.get("fullName")
    if not name and (customer.get("firstName") or customer.get("lastName")):
        name = f"{customer.get('lastName') or ''}{customer.get('firstName') or ''}"
    return {"name": _opt_str(name), "email": _opt_str(customer.get("email")),
            "tel": _opt_str(customer.get("phoneNumber"))}


def _public_session(session: dict) -> dict:
    if billing_v2_checkout.is_billing(session):
        return billing_v2_checkout.public_session(session)
    params = session["params"]
    if session["sdk"] == "v2":
        customer = _customer(params)
        order_id = params.get("paymentId")
        name, amount = params.get("orderName"), params.get("totalAmount")
        currency, method = params.get("currency"), params.get("payMethod")
        buyer = " / ".join(x for x in (customer.get("name"), customer.get("email")) if x)
    else:
        order_id = params.get("merchant_uid")
        name, amount = params.get("name"), params.get("amount")
        currency, method = params.get("currency") or "KRW", params.get("pay_method")
        buyer = " / ".join(x for x in (_opt_str(params.get("buyer_name")), _opt_str(params.get("buyer_email"))) if x)
    return {
        "sid": session["sid"],
        "sdk": session["sdk"],
        "rid": session["rid"],
        "mode": session["mode"],
        "origin": session["origin"],
        "order_name": _opt_str(name),
        "order_id": _opt_str(order_id),
        "amount": amount,
        "currency": currency,
        "pay_method": method,
        "pay_method_label": PAY_METHOD_LABELS.get(method or "", method),
        "buyer": buyer or None,
    }


def _error_result(session: dict, exc: CheckoutError) -> dict:
    if billing_v2_checkout.is_billing(session):
        return billing_v2_checkout.error_result(session, exc)
    params = session["params"]
    if session["sdk"] == "v2":
        rsp = v2_failure(params, exc.code or "InvalidArgument", exc.message)
        redirect = v2_redirect(params, rsp) if session["mode"] == "redirect" else None
    else:
        rsp = v1_failure(params, exc.code or V1_CODES["invalid"], exc.message)
        redirect = v1_redirect(params, rsp) if session["mode"] == "redirect" else None
    return {"response": rsp, "redirect_url": redirect, "message": exc.message}


async def _read_payload(request: Request) -> dict:
    raw = (await request.body()).decode("utf-8", errors="replace")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        text = raw
    else:
        text = dict(parse_qsl(raw, keep_blank_values=True)).get("payload", "")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise CheckoutError("결제 요청 데이터가 올바르지 않습니다.")
    return data


# ---------------------------------------------------------------------- endpoints
async def iamport_js(request: Request) -> Response:
    return _script_response("iamport.js")


async def browser_sdk_js(request: Request) -> Response:
    return _script_response("browser-sdk.js")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return Response("Not Found", status_code=404, media_type="text/plain")
    return Response(_static(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


async def demo(request: Request) -> Response:
    page = _static("demo.html").replace("__ROOT__", html.escape(_root(request)))
    store = get_store(request)
    page = page.replace("__CONFIG__", _json_for_script({
        "merchant_code": store.config.merchant_code,
        "store_id": store.config.store_id,
        "channel_key": store.config.channel_key,
    }))
    return Response(page, media_type="text/html; charset=utf-8")


async def start_checkout(request: Request) -> Response:
    store = get_store(request)
    try:
        payload = await _read_payload(request)
    except CheckoutError as exc:
        return Response(exc.message, status_code=400, media_type="text/plain; charset=utf-8")
    sdk = "v2" if payload.get("sdk") == "v2" else "v1"
    mode = payload.get("mode") if payload.get("mode") in ("iframe", "popup", "redirect") else "iframe"
    params = payload.get("params") if isinstance(payload.get("params"), dict) else {}
    origin = payload.get("origin") if isinstance(payload.get("origin"), str) else "*"
    session = {
        "sid": secrets.token_urlsafe(12),
        "sdk": sdk,
        "kind": "billing_key" if sdk == "v2" and billing_v2_checkout.is_billing(payload) else "payment",
        "rid": str(payload.get("rid") or ""),
        "mode": mode,
        "origin": origin,
        "params": params,
        "created_at": time.time(),
        "result": None,
        "error": None,
        "busy": False,
    }
    try:
        if billing_v2_checkout.is_billing(session):
            billing_v2_checkout.validate(store, params)
        elif sdk == "v2":
            _validate_v2(store, params)
        else:
            _validate_v1(store, payload, params)
    except CheckoutError as exc:
        session["error"] = exc.message
        session["result"] = _error_result(session, exc)
    sessions = _sessions(request)
    sessions[session["sid"]] = session
    while len(sessions) > MAX_SESSIONS:
        sessions.popitem(last=False)
    return RedirectResponse(f"{_root(request)}/checkout/{session['sid']}", status_code=303)


def _json_for_script(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


async def checkout_page(request: Request) -> Response:
    session = _sessions(request).get(request.path_params["sid"])
    if session is None:
        return Response(
            "<!doctype html><meta charset=utf-8><title>결제 세션 없음</title>"
            "<p>결제 세션을 찾을 수 없습니다. 결제를 다시 시도해주세요.</p>",
            status_code=404, media_type="text/html; charset=utf-8",
        )
    root = _root(request)
    data = {
        "session": _public_session(session),
        "complete_url": f"{root}/checkout/{session['sid']}/complete",
        "result": session["result"],
        "error": session["error"],
    }
    page = _static("checkout.html").replace("__ROOT__", html.escape(root)).replace("__DATA__", _json_for_script(data))
    return Response(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


async def complete(request: Request) -> Response:
    session = _sessions(request).get(request.path_params["sid"])
    if session is None:
        return JSONResponse({"message": "결제 세션을 찾을 수 없습니다."}, status_code=404)
    if session["result"] is not None:  # idempotent: a double click or reload gets the same answer
        return JSONResponse(session["result"])
    if session["busy"]:
        return JSONResponse({"message": "결제를 처리하고 있습니다."}, status_code=409)
    try:
        body = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        body = None
    action = body.get("action") if isinstance(body, dict) else None
    actions = billing_v2_checkout.ACTIONS if billing_v2_checkout.is_billing(session) else ACTIONS
    if action not in actions:
        return JSONResponse({"message": f"action은 {', '.join(actions)} 중 하나여야 합니다."}, status_code=400)
    session["busy"] = True
    try:
        store = get_store(request)
        if billing_v2_checkout.is_billing(session):
            result = await billing_v2_checkout.complete(store, session, action)
        elif session["sdk"] == "v2":
            result = await _complete_v2(store, session, action)
        else:
            result = await _complete_v1(store, session, action)
    finally:
        session["busy"] = False
    session["result"] = result
    return JSONResponse(result)


async def _complete_v1(store: Store, session: dict, action: str) -> dict:
    params = session["params"]
    if params.get("customer_uid"):  # the billing-key window; imported here as it builds on this module
        from .billing_v1_checkout import complete_billing

        return await complete_billing(store, session, action)
    if action == "cancel":
        rsp = v1_failure(params, V1_CODES["cancel"], CANCEL_MSG)
    else:
        pay_method = "vbank" if action == "vbank" else _store_pay_method(params.get("pay_method"))
        outcome = {"approve": "paid", "decline": "failed", "vbank": "ready"}[action]
        pg = params.get("pg")
        try:
            payment = await _create_payment(
                store,
                parse_vbank_due(params.get("vbank_due")),
                amount=int(params["amount"]),
                merchant_uid=params["merchant_uid"],
                pay_method=pay_method,
                outcome=outcome,
                fail_reason=DECLINE_MSG if action == "decline" else None,
                name=_opt_str(params.get("name")),
                buyer_email=_opt_str(params.get("buyer_email")),
                buyer_name=_opt_str(params.get("buyer_name")),
                buyer_tel=_opt_str(params.get("buyer_tel")),
                notice_url=_safe_url(params.get("notice_url")),
                version="v1",
                pg=pg.split(".", 1)[0] if isinstance(pg, str) and pg else None,
                custom_data=params.get("custom_data"),
            )
        except (SandboxError, CheckoutError) as exc:
            rsp = v1_failure(params, V1_CODES["invalid"], exc.message)
        else:
            code = V1_CODES["decline"] if action == "decline" else V1_CODES["rejected"]
            rsp = v1_sdk_response(store.v1_view(payment), params, code)
    if rsp["success"]:
        message = "가상계좌가 발급되었습니다." if rsp["status"] == "ready" else "결제가 승인되었습니다."
    else:
        message = rsp["error_msg"]
    redirect = v1_redirect(params, rsp) if session["mode"] == "redirect" else None
    return {"response": rsp, "redirect_url": redirect, "message": message}


async def _complete_v2(store: Store, session: dict, action: str) -> dict:
    params = session["params"]
    if action == "cancel":
        rsp = v2_failure(params, "FAILURE_TYPE_PG", CANCEL_MSG, pg_code=V1_CODES["cancel"], pg_message=CANCEL_MSG)
        message = CANCEL_MSG
    else:
        pay_method = "vbank" if action == "vbank" else V2_PAY_METHODS.get(params.get("payMethod"), "card")
        outcome = {"approve": "paid", "decline": "failed", "vbank": "ready"}[action]
        customer = _customer(params)
        notice_urls = params.get("noticeUrls")
        notice_url = _safe_url(notice_urls[0]) if isinstance(notice_urls, list) and notice_urls else None
        try:
            payment = await _create_payment(
                store,
                _v2_account_expiry(params),
                amount=int(params["totalAmount"]),
                payment_id=params["paymentId"],
                pay_method=pay_method,
                outcome=outcome,
                fail_reason=DECLINE_MSG if action == "decline" else None,
                name=_opt_str(params.get("orderName")),
                buyer_email=customer.get("email"),
                buyer_name=customer.get("name"),
                buyer_tel=customer.get("tel"),
                notice_url=notice_url,
                version="v2",
                custom_data=params.get("customData"),
            )
        except SandboxError as exc:
            code = "FAILURE_TYPE_PG" if exc.kind == "already_paid" else "InvalidArgument"
            pg_code = "ALREADY_PAID" if exc.kind == "already_paid" else None
            rsp = v2_failure(params, code, exc.message, pg_code=pg_code, pg_message=exc.message if pg_code else None)
            message = exc.message
        except CheckoutError as exc:
            rsp = v2_failure(params, exc.code or "InvalidArgument", exc.message)
            message = exc.message
        else:
            if payment.status == "failed":
                pg_code = V1_CODES["decline"] if action == "decline" else V1_CODES["rejected"]
                reason = payment.fail_reason or DECLINE_MSG
                rsp = v2_failure(params, "FAILURE_TYPE_PG", reason, tx_id=payment.transaction_id,
                                 pg_code=pg_code, pg_message=reason)
                rsp["paymentId"] = payment.payment_id
                message = reason
            else:
                rsp = {"transactionType": "PAYMENT", "paymentId": payment.payment_id, "txId": payment.transaction_id}
                message = "가상계좌가 발급되었습니다." if payment.status == "ready" else "결제가 승인되었습니다."
    redirect = v2_redirect(params, rsp) if session["mode"] == "redirect" else None
    return {"response": rsp, "redirect_url": redirect, "message": message}


def checkout_routes() -> list[BaseRoute]:
    return [
        Route("/iamport.js", iamport_js, methods=["GET"]),
        Route("/browser-sdk.js", browser_sdk_js, methods=["GET"]),
        Route("/checkout-assets/{name}", asset, methods=["GET"]),
        Route("/checkout-demo", demo, methods=["GET"]),
        Route("/checkout", start_checkout, methods=["POST"]),
        Route("/checkout/{sid}", checkout_page, methods=["GET"]),
        Route("/checkout/{sid}/complete", complete, methods=["POST"]),
    ]
