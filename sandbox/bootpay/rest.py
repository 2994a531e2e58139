"""Bootpay REST API v2 (https://api.bootpay.co.kr/v2), the part a payment backend uses.

    POST /v2/request/token        {application_id, private_key} → {access_token, expire_in}
    GET  /v2/receipt/{receipt_id} ?lookup_user_data=true|false → the receipt
    POST /v2/cancel               {receipt_id, cancel_price?, cancel_tax_free?, cancel_id?, refund?, …}
    POST /v2/confirm              {receipt_id}: a separately_confirmed payment, status 2 → 1

Every call but the token one needs "Authorization: Bearer <access_token>" or
"Authorization: Basic base64(client_key:secret_key)". Failures are non-2xx ``{error_code, message}``
(every SDK tests ``'error_code' in response``). The official Python SDK sends omitted arguments as
JSON null and empty strings (cancel_id='', metadata={}): both mean "not given" here.
Faults from PUT /_control/faults (latency, 5xx, timeouts, cut bodies) wrap these routes only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..shared import faulted, json_object
from .store import BootpayError, Store, get_store

Handler = Callable[[Request, Store], Awaitable[Response]]

# "METHOD /v2/…" of every REST route, for PUT /_control/faults "endpoints" and the index page.
TEMPLATES: list[str] = []


def error(status: int, error_code: str, message: str, pg_error_code: str | None = None) -> JSONResponse:
    body = {"error_code": error_code, "message": message}
    if pg_error_code is not None:  # the PG's or card company's own code: why it refused
        body["pg_error_code"] = pg_error_code
    return JSONResponse(body, status_code=status)


def _invalid(message: str) -> BootpayError:
    return BootpayError(400, "INVALID_PARAMETER", message)


async def body_of(request: Request) -> dict[str, Any]:
    return json_object(await request.body(), _invalid, not_json="요청 본문이 올바른 JSON이 아닙니다.",
                       not_object="요청 본문은 JSON 객체여야 합니다.")


def text(data: dict, name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BootpayError(400, "INVALID_PARAMETER", f"{name} 값이 필요합니다.")
        return None
    if not isinstance(value, str):
        raise BootpayError(400, "INVALID_PARAMETER", f"{name}은(는) 문자열이어야 합니다.")
    return value


def won(data: dict, name: str) -> int | None:
    """A KRW amount: a whole number (KRW has no fractional unit); null means not given."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BootpayError(400, "INVALID_PARAMETER", f"{name}은(는) 원 단위 정수여야 합니다.")
    return value


def authenticate(request: Request, store: Store) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    cfg = store.config
    if scheme.lower() == "bearer" and credential:
        state = store.token_state(credential.strip())
        if state == "expired":
            raise BootpayError(401, "TOKEN_EXPIRED", "토큰이 만료되었습니다. request/token으로 다시 발급하세요.")
        if state == "unknown":
            raise BootpayError(401, "INVALID_TOKEN", "유효하지 않은 토큰입니다.")
        return
    if scheme.lower() == "basic" and credential:
        try:
            client_key, _, secret_key = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_key, secret_key = "", ""
        if hmac.compare_digest(client_key, cfg.client_key) and hmac.compare_digest(secret_key, cfg.secret_key):
            return
        raise BootpayError(401, "INVALID_CLIENT_KEY", "client_key 또는 secret_key가 올바르지 않습니다.")
    raise BootpayError(401, "UNAUTHORIZED", "인증 정보가 없습니다 (Authorization: Bearer 또는 Basic).")


# ---------------------------------------------------------------------- handlers
async def request_token(request: Request, store: Store) -> Response:
    data = await body_of(request)
    cfg = store.config
    app_id, key = text(data, "application_id") or "", text(data, "private_key") or ""
    if not (hmac.compare_digest(app_id, cfg.application_id) and hmac.compare_digest(key, cfg.private_key)):
        raise BootpayError(401, "INVALID_APPLICATION_KEY", "application_id 또는 private_key가 올바르지 않습니다.")
    token, expire_in = await store.issue_token()
    return JSONResponse({"access_token": token, "expire_in": expire_in})


async def receipt(request: Request, store: Store) -> Response:
    authenticate(request, store)
    return JSONResponse(store.view(store.get(request.path_params["receipt_id"])))


async def cancel(request: Request, store: Store) -> Response:
    authenticate(request, store)
    data = await body_of(request)
    refund = data.get("refund")
    if refund is not None and not isinstance(refund, dict):
        raise BootpayError(400, "INVALID_PARAMETER", "refund는 {bank_account, bank_username, bank_code} 객체여야 합니다.")
    done = await store.cancel(
        text(data, "receipt_id", required=True),
        price=won(data, "cancel_price"),
        tax_free=won(data, "cancel_tax_free"),
        cancel_id=text(data, "cancel_id"),
        username=text(data, "cancel_username"),
        message=text(data, "cancel_message"),
        refund=refund,
    )
    return JSONResponse(store.view(done))


async def confirm(request: Request, store: Store) -> Response:
    authenticate(request, store)
    data = await body_of(request)
    return JSONResponse(store.view(await store.confirm(text(data, "receipt_id", required=True))))


# ---------------------------------------------------------------------- faults
async def _run(handler: Handler, request: Request, store: Store) -> Response:
    try:
        return await handler(request, store)
    except BootpayError as exc:
        return error(exc.status, exc.error_code, exc.message, exc.pg_error_code)


def api_route(method: str, path: str, handler: Handler) -> Route:
    template = f"{method} /v2{path}"
    TEMPLATES.append(template)

    def fault_response(status: int, message: str, timed_out: bool) -> Response:
        return error(status, "GATEWAY_TIMEOUT" if timed_out else "INTERNAL_SERVER_ERROR", message)

    async def endpoint(request: Request) -> Response:
        store = get_store(request)
        store.count(template)
        return await faulted(request, store, template, lambda: _run(handler, request, store), fault_response)

    return Route("/v2" + path, endpoint, methods=[method])


def routes() -> list[Route]:
    TEMPLATES.clear()
    return [
        api_route("POST", "/request/token", request_token),
        api_route("GET", "/receipt/{receipt_id}", receipt),
        api_route("POST", "/cancel", cancel),
        api_route("POST", "/confirm", confirm),
    ]
