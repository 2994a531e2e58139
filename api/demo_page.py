"""The checkout demo page: plain HTML/JS/CSS in ``api/demo/``, no build step, no CDN in sandbox mode.

    GET /                       the page: sign up / log in, balance, packages, pay, history, cancel
    GET <redirect_result_path>  the same page; it reads ?outcome=… left by /payments/complete
    GET /demo/<asset>           demo.js, cards.js + card-windows.js (카드 / 정기 충전), demo.css

On in sandbox mode, off in production (``POINTCHARGE_DEMO_PAGE``). In sandbox mode the page loads
the mounted sandboxes' SDKs (/sandbox/portone/iamport.js, /sandbox/portone/browser-sdk.js for V2
card registration, /sandbox/bootpay/bootpay.js); in production PortOne's and Bootpay's own.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from services.settings import Settings

DEMO_DIR = Path(__file__).with_name("demo")
JS = "text/javascript; charset=utf-8"
ASSETS = {"demo.js": JS, "cards.js": JS, "card-windows.js": JS, "demo.css": "text/css; charset=utf-8"}
SANDBOX_SDK = "/sandbox/portone/iamport.js"
PORTONE_SDK = "https://cdn.iamport.kr/v1/iamport.js"
SANDBOX_BOOTPAY_SDK = "/sandbox/bootpay/bootpay.js"
BOOTPAY_SDK = "https://js.bootpay.co.kr/bootpay-5.3.1.min.js"  # client-js 5.x, the version the sandbox emulates
SANDBOX_V2_SDK = "/sandbox/portone/browser-sdk.js"
PORTONE_V2_SDK = "https://cdn.portone.io/v2/browser-sdk.js"  # PortOne.requestIssueBillingKey (V2 saved cards)


def demo_routes(settings: Settings) -> list[BaseRoute]:
    index = DEMO_DIR / "index.html"
    if not index.is_file():
        return []
    production = settings.is_production
    html = (
        index.read_text(encoding="utf-8")
        .replace("__IAMPORT_JS__", PORTONE_SDK if production else SANDBOX_SDK)
        .replace("__BOOTPAY_JS__", BOOTPAY_SDK if production else SANDBOX_BOOTPAY_SDK)
        .replace("__PORTONE_V2_JS__", PORTONE_V2_SDK if production else SANDBOX_V2_SDK)
    )
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

    async def page(request: Request) -> Response:
        return HTMLResponse(html, headers=headers)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(DEMO_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    routes: list[BaseRoute] = [
        Route("/", page, methods=["GET"]),
        Route("/demo/{name}", asset, methods=["GET"]),
    ]
    if settings.redirect_result_path not in ("", "/"):
        routes.append(Route(settings.redirect_result_path, page, methods=["GET"]))
    return routes
