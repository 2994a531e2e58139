"""HTTP plumbing shared by the sandbox's V1, V2 and control routes.

`api_route` wraps every PortOne-facing endpoint with what the real network would add on top of
PortOne's logic: request counting (for /_control/stats) and injected faults (latency, errors,
timeouts, truncated bodies). The control API is routed with plain `Route`s and is never faulted.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..shared import faulted, json_object
from .store import Store, get_store

Handler = Callable[[Request, Store], Awaitable[Response]]

# Every endpoint template the sandbox serves, for validating PUT /_control/faults "endpoints".
API_TEMPLATES: dict[str, None] = {}  # insertion-ordered set


class BadRequest(Exception):
    """Malformed input; rendered as the endpoint version's 400 envelope."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------- envelopes
def v1_ok(response: Any, status: int = 200, message: str | None = None) -> JSONResponse:
    return JSONResponse({"code": 0, "message": message, "response": response}, status_code=status)


def v1_error(status: int, message: str, code: int = -1) -> JSONResponse:
    # PortOne V1 always answers with the envelope; response is null on failure.
    return JSONResponse({"code": code, "message": message, "response": None}, status_code=status)


def v2_error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"type": type_, "message": message}, status_code=status)


def error_for_path(path: str, status: int, message: str) -> JSONResponse:
    """The envelope matching the API a failing path belongs to."""
    if path.startswith("/v2"):
        kind = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "INVALID_REQUEST"}.get(
            status, "INVALID_REQUEST" if status < 500 else "INTERNAL_SERVER_ERROR"
        )
        return v2_error(status, kind, message)
    if path.startswith("/_control"):
        return JSONResponse({"error": {"kind": "http", "message": message}}, status_code=status)
    return v1_error(status, message)


def route_path(request: Request) -> str:
    """Path relative to where the sandbox is mounted (honours scope['root_path'])."""
    path = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path or "/"


# ---------------------------------------------------------------------- bodies
async def read_params(request: Request) -> dict[str, Any]:
    """A V1 body: PortOne accepts application/json and application/x-www-form-urlencoded."""
    raw = await request.body()
    if not raw.strip():
        return {}
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if ctype == "application/json" or (not ctype and text.lstrip().startswith(("{", "["))):
        return json_object(text, BadRequest, not_json="요청 본문이 올바른 JSON이 아닙니다.",
                           not_object="요청 본문은 JSON 객체여야 합니다.")
    if ctype in ("application/x-www-form-urlencoded", ""):
        return dict(parse_qsl(text, keep_blank_values=True))
    raise BadRequest(f"지원하지 않는 Content-Type입니다: {ctype}")


async def read_json(request: Request, *, query_param: str | None = None) -> dict[str, Any]:
    """A V2 body. GET endpoints take it as ?requestBody=<json> (the SDK's way) or as a body."""
    if query_param is not None and query_param in request.query_params:
        text = request.query_params[query_param]
    else:
        text = (await request.body()).decode("utf-8", errors="replace")
    return json_object(text, BadRequest, not_json="request body is not valid JSON",
                       not_object="request body must be a JSON object")


def as_int(value: Any, name: str, *, required: bool = False) -> int | None:
    """A KRW amount or count from JSON or a form string; KRW has no fractional unit."""
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if isinstance(value, bool):
        raise BadRequest(f"{name} must be a number")
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise BadRequest(f"{name} must be a number") from None
    if isinstance(value, float):
        if not value.is_integer():
            raise BadRequest(f"{name} must be a whole number of KRW")
        value = int(value)
    if not isinstance(value, int):
        raise BadRequest(f"{name} must be a number")
    return value


def as_str(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


# ---------------------------------------------------------------------- faults
def api_route(version: str, method: str, path: str, handler: Handler, *, invalid_status: int = 400) -> Route:
    """`invalid_status`: how a V1 endpoint reports malformed input. The spec documents 400 only
    for some endpoints; the others follow PortOne's "HTTP 200 with code != 0" convention."""
    template = f"{method} {path}"
    API_TEMPLATES[template] = None

    def fault_response(status: int, message: str, timed_out: bool) -> Response:
        if version == "v2":
            return v2_error(status, "INTERNAL_SERVER_ERROR" if status >= 500 else "INVALID_REQUEST", message)
        return v1_error(status, message)

    async def endpoint(request: Request) -> Response:
        store = get_store(request)
        store.count(template)
        return await faulted(request, store, template,
                             lambda: _run(handler, request, store, version, invalid_status), fault_response)

    return Route(path, endpoint, methods=[method])


async def _run(handler: Handler, request: Request, store: Store, version: str, invalid_status: int) -> Response:
    try:
        return await handler(request, store)
    except BadRequest as exc:
        if version == "v2":
            return v2_error(400, "INVALID_REQUEST", exc.message)
        return v1_error(invalid_status, exc.message, code=1 if invalid_status == 200 else -1)
