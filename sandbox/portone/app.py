"""The PortOne emulator as a Starlette app.

    create_app(SandboxConfig(...))                               # standalone at a port's root
    Mount("/sandbox/portone", app=create_app(cfg))               # or inside another app

Layout: /v1/... (api.iamport.kr), /v2/... (api.portone.io), /_control/... (test driver), plus
the browser checkout routes from sandbox/portone/checkout.py when that module is present, and / (an index
of all of it, sandbox/portone/index.py).
The store is `app.state.sandbox`; inside a handler use `sandbox.store.get_store(request)`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import billing_v1, billing_v2_api, control, index, v1, v2
from .config import SandboxConfig
from .http import error_for_path, route_path
from .store import Store

log = logging.getLogger("sandbox")


def _checkout_routes() -> list[BaseRoute]:
    """Routes of the browser checkout, which is optional and developed separately."""
    try:
        module = importlib.import_module("sandbox.portone.checkout")
    except ModuleNotFoundError as exc:
        if exc.name == "sandbox.portone.checkout":
            return []
        raise  # checkout exists but is broken: fail loudly rather than serve half a sandbox
    return list(module.checkout_routes())


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = {404: "요청하신 API를 찾을 수 없습니다.", 405: "허용되지 않은 메소드입니다."}.get(
        exc.status_code, str(exc.detail)
    )
    return error_for_path(route_path(request), exc.status_code, message)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("sandbox handler crashed", exc_info=exc)
    return error_for_path(route_path(request), 500, "[sandbox] internal error: " + type(exc).__name__)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    store = Store(config or SandboxConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # Only runs standalone (Starlette does not forward lifespan to mounted apps: the mounting
        # app closes the store itself). Shutdown stops in-flight webhook deliveries (the next
        # process takes them up again) and closes the state file.
        yield
        await store.aclose()

    routes: list[BaseRoute] = [
        *v1.routes(), *billing_v1.routes(), *v2.routes(), *billing_v2_api.routes(), *control.routes(),
        *_checkout_routes(), *index.routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.sandbox = store
    return app
