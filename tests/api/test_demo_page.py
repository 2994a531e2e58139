"""The checkout demo page without a browser: where it is served, and where the mobile redirect lands.
(The page itself is driven in Chromium by test_demo_browser.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from services.settings import Settings
from tests.conftest import make_settings

PRODUCTION = {
    "mode": "production",
    "jwt_secret": "p" * 48,
    "portone_v1_base_url": "https://api.iamport.kr",
    "portone_imp_key": "live-key",
    "portone_imp_secret": "live-secret",
    "allow_sqlite_in_production": True,  # the suite's database may be SQLite
}


@asynccontextmanager
async def served(settings: Settings, *, lifespan: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    if lifespan:  # only /payments/complete needs the services
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client
        return
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def test_sandbox_serves_the_demo_page_and_its_assets(database_url: str) -> None:
    async with served(make_settings(database_url)) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "<title>포인트 충전 데모" in page.text
        assert '<script src="/sandbox/portone/iamport.js"></script>' in page.text  # offline: the mounted SDK
        assert '<script src="/sandbox/bootpay/bootpay.js"></script>' in page.text
        assert "__IAMPORT_JS__" not in page.text and "__BOOTPAY_JS__" not in page.text
        assert 'src="http' not in page.text and 'href="http' not in page.text  # nothing from a CDN
        result = await client.get("/payments/result", params={"outcome": "credited", "amount": "1000"})
        assert result.status_code == 200 and result.text == page.text
        js = await client.get("/demo/demo.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert "createPointTransactionOfLoading" in js.text and "restoreAccessToken" in js.text
        assert (await client.get("/demo/demo.css")).headers["content-type"].startswith("text/css")
        assert (await client.get("/demo/index.html")).status_code == 404  # only the listed assets
        assert (await client.get("/demo/../app.py")).status_code == 404
        assert (await client.get("/sandbox/portone/iamport.js")).status_code == 200
        assert (await client.get("/sandbox/bootpay/bootpay.js")).status_code == 200


async def test_production_has_no_demo_page_by_default(database_url: str) -> None:
    settings = make_settings(database_url, **PRODUCTION)
    assert settings.demo_page is False and settings.frontend_url == "http://localhost:3000"
    async with served(settings) as client:
        for path in ("/", "/payments/result", "/demo/demo.js"):
            assert (await client.get(path)).status_code == 404, path


async def test_demo_page_is_configurable_both_ways(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POINTCHARGE_DEMO_PAGE", "false")
    off = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    assert off.demo_page is False and off.frontend_url == "http://localhost:3000"
    async with served(off) as client:
        assert (await client.get("/")).status_code == 404
    monkeypatch.setenv("POINTCHARGE_DEMO_PAGE", "true")
    on = Settings(_env_file=None, database_url=database_url, **PRODUCTION)  # type: ignore[call-arg]
    assert on.demo_page is True
    async with served(on) as client:
        page = await client.get("/")
        assert page.status_code == 200
        # production has no sandbox to load the SDK from: PortOne's own
        assert '<script src="https://cdn.iamport.kr/v1/iamport.js"></script>' in page.text
        assert '<script src="https://js.bootpay.co.kr/bootpay-5.3.1.min.js"></script>' in page.text
        assert (await client.get("/sandbox/portone/iamport.js")).status_code == 404
        assert (await client.get("/sandbox/bootpay/bootpay.js")).status_code == 404


async def test_mobile_redirect_lands_on_the_demo_page_unless_a_frontend_is_configured(clean_db: str) -> None:
    # POINTCHARGE_FRONTEND_URL unset, demo page on: a relative Location, back to the origin the
    # browser used (where the refresh cookie lives), i.e. the demo page's result view
    async with served(make_settings(clean_db), lifespan=True) as client:
        r = await client.get("/payments/complete", params={"imp_success": "false", "error_code": "F1002"})
        assert r.status_code == 303
        assert r.headers["location"] == "/payments/result?outcome=failed&reason=F1002"
        landed = await client.get(r.headers["location"])
        assert landed.status_code == 200 and "demo.js" in landed.text
    # an explicit frontend wins (a React/Vue app elsewhere)
    settings = make_settings(clean_db, frontend_url="https://shop.example.com/")
    async with served(settings, lifespan=True) as client:
        r = await client.get("/payments/complete", params={"imp_success": "false"})
        assert r.headers["location"] == "https://shop.example.com/payments/result?outcome=failed&reason=no_payment"
    # demo page off and no frontend configured: the historical default
    async with served(make_settings(clean_db, demo_page=False), lifespan=True) as client:
        r = await client.get("/payments/complete", params={"imp_success": "false"})
        assert r.headers["location"].startswith("http://localhost:3000/payments/result?outcome=failed")


def test_demo_cancel_asks_for_the_refund_account_of_a_virtual_account() -> None:
    # given the demo page's script and markup as served
    from pathlib import Path

    from graphql import parse, validate

    from schema import build_schema

    demo = Path(__file__).resolve().parents[2] / "api" / "demo"
    js, html = (demo / "demo.js").read_text(), (demo / "index.html").read_text()
    # then the cancel of a virtual-account charge sends a refund account the schema accepts
    start = js.index('"mutation Cancel(')
    document = js[start + 1 : js.index('"', start + 1)]
    assert "refundAccount: $r" in document
    schema = build_schema(Settings(_env_file=None))  # type: ignore[call-arg]
    assert validate(schema._schema, parse(document)) == []
    # and the page has the form it is read from: a bank (PortOne code), a number and a holder
    for field in ('id="refund-dialog"', 'id="refund-bank"', 'id="refund-number"', 'id="refund-holder"',
                  '<option value="004">'):
        assert field in html, field
    assert 'order.payMethod === "vbank"' in js
