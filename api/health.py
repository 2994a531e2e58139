"""``/healthz`` (the process answers) and ``/readyz`` (it can do its job: database, PortOne)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services import metrics
from services.db import Database

log = logging.getLogger("pointcharge.health")

TokenCheck = Callable[[], Awaitable[Any]]


class Readiness:
    """The database is pinged on every call (cheap, local); PortOne — a token retrieval, which the
    V1 client caches for the token's lifetime — at most once per ``cache_s``, successes and failures
    alike, so that load balancers polling every instance every few seconds never hammer PortOne,
    even while it is down."""

    def __init__(
        self,
        db: Database,
        portone_token: TokenCheck | None,
        *,
        cache_s: float = 5.0,
        timeout_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.portone_token = portone_token
        self.cache_s = cache_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._portone: tuple[float, bool] | None = None  # (checked at, ok)
        self._lock = asyncio.Lock()

    async def check(self) -> tuple[bool, dict[str, str]]:
        body: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.db.ping(), timeout=min(self.timeout_s, 2.0))
            body["database"] = "up"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason stays in our log
            log.warning("readiness: database check failed: %s", type(exc).__name__)
            body["database"] = "down"
        if self.portone_token is None:
            body["portone"] = "unchecked"
        else:
            body["portone"] = "up" if await self._portone_ok() else "down"
        ready = body["database"] == "up" and body["portone"] != "down"
        return ready, {"status": "ok" if ready else "unavailable", **body}

    async def _portone_ok(self) -> bool:
        async with self._lock:  # one check at a time; the others get its cached answer
            cached = self._portone
            if cached is not None and self.clock() - cached[0] < self.cache_s:
                return cached[1]
            try:
                await asyncio.wait_for(self.portone_token(), timeout=self.timeout_s)  # type: ignore[misc]
                ok = True
            except Exception as exc:  # noqa: BLE001
                log.warning("readiness: PortOne token retrieval failed: %s", type(exc).__name__)
                ok = False
            self._portone = (self.clock(), ok)
            return ok


def portone_token_check(charging: Any) -> TokenCheck | None:
    """The V1 client's token retrieval (V2 authenticates every call with its secret: no token)."""
    check = getattr(charging.providers.get("portone_v1"), "check_credentials", None)
    return check if callable(check) else None


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    readiness: Readiness | None = getattr(request.app.state, "readiness", None)
    if readiness is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    ready, body = await readiness.check()
    return JSONResponse(body, status_code=200 if ready else 503)


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_endpoint(request: Request) -> Response:
    # Counters name users' payment volumes and our error rates: loopback (a sidecar, a local
    # agent) or the bearer token (POINTCHARGE_METRICS_TOKEN), nobody else. Behind a proxy the
    # client is the forwarded address (uvicorn's --forwarded-allow-ips), not the proxy's.
    services = getattr(request.app.state, "services", None)
    token = services.settings.metrics_token.get_secret_value() if services and services.settings.metrics_token else ""
    if not _loopback(request.client.host if request.client else None):
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip(), token):
            return Response("forbidden\n", status_code=403, media_type="text/plain")
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
