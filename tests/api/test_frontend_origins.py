"""Which origins the API trusts for a frontend: CORS with credentials, and the mobile redirect's
``return_to`` (examples/react and examples/vue send m_redirect_url=…/payments/complete?return_to=<origin>).
Sandbox mode trusts any localhost/127.0.0.1 port; production only what is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.origins import origin_of, trusted_return_origin
from services.settings import Settings
from tests.conftest import make_settings

PRODUCTION = {
    "mode": "production",
    "jwt_secret": "p" * 48,
    "portone_v1_base_url": "https://api.iamport.kr",
    "portone_imp_key": "live-key",
    "portone_imp_secret": "live-secret",
    "allow_sqlite_in_production": True,  # the suite's database may be SQLite (issue 18 refuses it otherwise)
}
LOCAL_ORIGINS = ["http://localhost:4173", "http://127.0.0.1:4173", "http://localhost:5173", "http://localhost:61234", "http://[::1]:4173"]
HOSTILE_ORIGINS = [
    "https://evil.example",
    "http://localhost.evil.example:4173",
    "http://127.0.0.1.evil.example",
    "http://evil.example#http://localhost:4173",
    "null",
]


@asynccontextmanager
async def served(settings: Settings, *, lifespan: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    if lifespan:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client
        return
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options(
        "/graphql",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,authorization"},
    )


async def test_sandbox_cors_allows_any_loopback_port_and_nothing_else(database_url: str) -> None:
    # given the API in sandbox mode with no POINTCHARGE_CORS_ORIGINS
    async with served(make_settings(database_url)) as client:
        for origin in LOCAL_ORIGINS:
            # when a Vite preview (4173) or any other local port asks, then it may send the cookie
            r = await preflight(client, origin)
            assert r.status_code == 200, origin
            assert r.headers["access-control-allow-origin"] == origin
            assert r.headers["access-control-allow-credentials"] == "true"
            simple = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin})
            assert simple.headers["access-control-allow-origin"] == origin
        for origin in HOSTILE_ORIGINS:
            r = await preflight(client, origin)
            assert "access-control-allow-origin" not in r.headers, origin


async def test_production_cors_allows_only_configured_origins(database_url: str) -> None:
    settings = make_settings(database_url, **PRODUCTION, cors_origins="https://shop.example.com")
    async with served(settings) as client:
        ok = await preflight(client, "https://shop.example.com")
        assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
        for origin in ["http://localhost:4173", "http://127.0.0.1:5173", "http://localhost:3000", *HOSTILE_ORIGINS]:
            r = await preflight(client, origin)
            assert "access-control-allow-origin" not in r.headers, origin


@pytest.mark.parametrize("return_to", LOCAL_ORIGINS)
async def test_redirect_returns_to_a_local_app_in_sandbox(clean_db: str, return_to: str) -> None:
    # given the demo page on (no frontend_url) and an app on its own port asking to come back
    async with served(make_settings(clean_db), lifespan=True) as client:
        # when PortOne's m_redirect_url brings the browser back (here: the buyer closed the window)
        r = await client.get("/payments/complete", params={"return_to": return_to, "imp_success": "false", "error_code": "F1002"})
        # then the browser goes to that app's own result route
        assert r.status_code == 303
        assert r.headers["location"] == f"{return_to}/payments/result?outcome=failed&reason=F1002"


@pytest.mark.parametrize(
    "return_to",
    [
        *HOSTILE_ORIGINS,
        "//evil.example",
        "http://localhost:4173/elsewhere",  # a path: only the origin is the app's to choose
        "http://localhost:4173?x=1",
        "http://user@localhost:4173",
        "javascript:alert(1)",
        "http://localhost:99999",
        "ftp://localhost:4173",
    ],
)
async def test_redirect_ignores_an_untrusted_return_to(clean_db: str, return_to: str) -> None:
    async with served(make_settings(clean_db), lifespan=True) as client:
        r = await client.get("/payments/complete", params={"return_to": return_to, "imp_success": "false"})
        assert r.status_code == 303
        # the default: relative, back to the origin the browser used
        assert r.headers["location"] == "/payments/result?outcome=failed&reason=no_payment"


async def test_production_redirect_returns_only_to_configured_origins(clean_db: str) -> None:
    settings = make_settings(
        clean_db, **PRODUCTION, frontend_url="https://shop.example.com",
        cors_origins="https://shop.example.com,https://m.shop.example.com",
    )
    async with served(settings, lifespan=True) as client:
        r = await client.get("/payments/complete", params={"return_to": "https://m.shop.example.com", "imp_success": "false"})
        assert r.headers["location"].startswith("https://m.shop.example.com/payments/result?outcome=failed")
        for hostile in ["http://localhost:4173", "https://evil.example", "https://shop.example.com.evil.example"]:
            r = await client.get("/payments/complete", params={"return_to": hostile, "imp_success": "false"})
            assert r.headers["location"].startswith("https://shop.example.com/payments/result?"), hostile


def test_origin_parsing() -> None:
    assert origin_of("HTTP://LocalHost:4173/") == "http://localhost:4173"
    assert origin_of("https://a.example:443") == "https://a.example:443"
    assert origin_of("http://[::1]:4173") == "http://[::1]:4173"
    assert origin_of("//evil.example") is None
    assert origin_of("http://localhost:notaport") is None
    sandbox = make_settings("sqlite+aiosqlite:///unused.db")
    assert trusted_return_origin(sandbox, "http://localhost:4173/") == "http://localhost:4173"
    assert trusted_return_origin(sandbox, None) is None
    assert trusted_return_origin(sandbox, "http://localhost:4173" + "0" * 300) is None
