"""The Bootpay emulator as a Starlette app: /v2/… (api.bootpay.co.kr/v2), /_control/… and / (an
index of both, built from the route tables so that it cannot fall behind the code).
The store is ``app.state.bootpay``."""

from __future__ import annotations

import contextlib
import json
import logging
from html import escape

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..shared import base_url
from . import billing_api, checkout, control, rest
from .config import BootpayConfig
from .store import Store

log = logging.getLogger("sandbox.bootpay")


def _error(request: Request, status: int, message: str) -> Response:
    path = request.scope.get("path", "")[len(request.scope.get("root_path", "")):]
    if path.startswith("/_control"):
        return JSONResponse({"error": {"kind": "http", "message": message}}, status_code=status)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "INTERNAL_SERVER_ERROR")
    return rest.error(status, code, message)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = {404: "요청하신 API를 찾을 수 없습니다.", 405: "허용되지 않은 메소드입니다."}.get(exc.status_code, str(exc.detail))
    return _error(request, exc.status_code, message)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("bootpay sandbox handler crashed", exc_info=exc)
    return _error(request, 500, "[sandbox] internal error: " + type(exc).__name__)


def _curl(base: str, method: str, path: str, body: dict | None) -> str:
    url = base + path.replace("{receipt_id}", "<receipt_id>")
    if method == "GET":
        return f"curl -s {url}"
    data = f" -H 'Content-Type: application/json' -d '{json.dumps(body, ensure_ascii=False)}'" if body is not None else ""
    return f"curl -s -X {method}{data} {url}"


async def index(request: Request) -> Response:
    store = request.app.state.bootpay
    base = base_url(request)
    rows = "".join(
        f'<tr data-route="{escape(method)} {escape(path)}"><td><b>{escape(method)}</b></td><td><code>{escape(path)}</code></td>'
        f"<td>{escape(summary)}<pre>{escape(_curl(base, method, path, body))}</pre></td></tr>"
        for method, path, _, summary, body in control.ENDPOINTS
    )
    config = {**store.config.public_view(), "rest_base_url": base + "/v2"}
    config_rows = "".join(f"<tr><td><code>{escape(k)}</code></td><td><code>{escape(str(v))}</code></td></tr>"
                          for k, v in config.items())
    apis = "".join(f"<li><code>{escape(t)}</code></li>" for t in rest.TEMPLATES)
    html = f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bootpay sandbox · pointcharge</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:0 auto;padding:16px;line-height:1.5}}
pre{{background:#f6f7f9;padding:6px;white-space:pre-wrap;word-break:break-all}}
td{{vertical-align:top;padding:6px;border-bottom:1px solid #e5e7eb}}table{{border-collapse:collapse;width:100%}}</style>
</head><body>
<h1>Bootpay sandbox</h1>
<p>부트페이 REST API v2와 웹훅을 흉내 내는 오프라인 에뮬레이터입니다. 실제로 돈이 나가지 않습니다.
설명서: <code>docs/SANDBOX.md</code> (Bootpay). 공식 SDK <code>bootpay-backend</code>는
<code>bp.BASE_URL = {{mode: "{escape(base)}/v2"}}</code>로 그대로 씁니다.
상태 파일 <code>{escape(store.config.state_path)}</code>.</p>
<h2>SDK (브라우저)</h2>
<p><code>&lt;script src="{escape(base)}/bootpay.js"&gt;</code> 뒤에 <code>Bootpay.requestPayment({{…}})</code>
또는 카드 등록(정기결제) <code>Bootpay.requestSubscription({{…, subscription_id}})</code> (결과는 receipt_id뿐, 빌링키는 서버가 조회)
(<code>@bootpay/client-js</code> 5.x; 결제창은 이 샌드박스의 <code>/checkout</code>).</p>
<h2>Control API</h2>
<table id="control"><tbody>{rows}</tbody></table>
<h2>설정</h2><table id="config"><tbody>{config_rows}</tbody></table>
<h2>Bootpay REST API <small>base <code>{escape(base)}/v2</code></small></h2><ul id="apis">{apis}</ul>
</body></html>"""
    return HTMLResponse(html)


def create_app(config: BootpayConfig | None = None) -> Starlette:
    store = Store(config or BootpayConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # Standalone only (a mounting app closes the store itself: mounts get no lifespan).
        yield
        await store.aclose()

    routes: list[BaseRoute] = [*rest.routes(), *billing_api.routes(), *control.routes(), *checkout.routes(), Route("/", index, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error, Exception: _server_error})
    app.state.bootpay = store
    return app
