"""Where the Bootpay emulator lives: mounted at /sandbox/bootpay by the API in sandbox mode (never in
production), under /bootpay of the standalone `pointcharge sandbox`, with an index page and
docs/SANDBOX.md naming every control route."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from api.app import create_app as create_api
from sandbox.bootpay import create_app
from tests.api.test_demo_page import PRODUCTION
from tests.api.test_sandbox_state import standalone
from tests.conftest import make_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "SANDBOX.md"


def control_routes() -> list[str]:
    return [f"{method} {route.path}" for route in create_app().routes
            if isinstance(route, Route) and route.path.startswith("/_control")
            for method in sorted((route.methods or set()) - {"HEAD"})]


async def test_api_mounts_it_in_sandbox_mode(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POINTCHARGE_SANDBOX_BOOTPAY_WEBHOOK_URL", raising=False)
    app = create_api(make_settings(database_url, public_url="http://api.test"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        config = (await client.get("/sandbox/bootpay/_control/config")).json()
        assert config["rest_base_url"] == "http://testserver/sandbox/bootpay/v2"
        assert config["webhook_url"] == "http://api.test/webhooks/bootpay"
        token = await client.post("/sandbox/bootpay/v2/request/token", json={
            "application_id": config["application_id"], "private_key": config["private_key"]})
        assert token.status_code == 200 and token.json()["expire_in"] == 1800
        assert (await client.get("/sandbox/bootpay/bootpay.js")).text.startswith("/* Bootpay browser SDK emulator")
        # errors keep Bootpay's envelope under the mount too
        assert (await client.get("/sandbox/bootpay/v2/nothing")).json()["error_code"] == "NOT_FOUND"
    # the webhook URL is a setting
    monkeypatch.setenv("POINTCHARGE_SANDBOX_BOOTPAY_WEBHOOK_URL", "http://elsewhere.test/hook")
    app = create_api(make_settings(database_url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await client.get("/sandbox/bootpay/_control/config")).json()["webhook_url"] == "http://elsewhere.test/hook"


async def test_production_never_mounts_it(database_url: str) -> None:
    app = create_api(make_settings(database_url, **PRODUCTION))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await client.get("/sandbox/bootpay/_control/config")).status_code == 404
        assert (await client.post("/sandbox/bootpay/v2/request/token", json={})).status_code == 404


def test_standalone_serves_both_and_reset_forgets_both(tmp_path: Path) -> None:
    state = tmp_path / "standalone.db"
    with standalone(state) as url:
        receipt = httpx.post(url + "/bootpay/_control/receipts", json={"price": 1000}).json()
        assert httpx.get(url + "/bootpay/_control/config").json()["state_path"] == str(tmp_path / "standalone-bootpay.db")
        assert httpx.get(url + "/_control/config").json()["merchant_code"]  # PortOne still at the root
    with standalone(state) as url:
        assert httpx.get(url + f"/bootpay/_control/receipts/{receipt['receipt_id']}").json()["status"] == 1
    with standalone(state, "--reset") as url:
        assert httpx.get(url + "/bootpay/_control/receipts").json() == []


async def test_index_lists_every_control_route_and_the_doc_names_them() -> None:
    routes = control_routes()
    assert "POST /_control/receipts/{receipt_id}/deposit" in routes and len(routes) == len(set(routes)) >= 14
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://testserver") as c:
        html = (await c.get("/")).text
    for route in routes:
        row = re.search(rf'<tr data-route="{re.escape(route)}">(.*?)</tr>', html, re.S)
        assert row is not None and "curl -s" in row.group(1), route
    assert "sandbox_bootpay_client_key" in html and "POST /v2/cancel" in html and "http://testserver/bootpay.js" in html
    text = DOC.read_text(encoding="utf-8")
    bootpay_part = text[text.index("# The Bootpay sandbox"):]
    assert [r for r in routes if r not in bootpay_part] == []
