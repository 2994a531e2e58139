"""App wiring: mounting under a prefix, control observation endpoints, error handlers, CLI."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.portone.app import create_app
from sandbox.cli import add_arguments, config_from_args
from sandbox.portone.config import SandboxConfig
from tests.sandbox.conftest import create, v1_token
from tests.servers import run_server

REPO = Path(__file__).resolve().parents[2]


async def test_mounted_under_a_prefix_serves_everything_relative_to_it():
    # given the sandbox mounted inside another app, as pointcharge's dev server does
    sandbox_app = create_app(SandboxConfig())
    outer = Starlette(routes=[Mount("/sandbox/portone", app=sandbox_app)])
    with run_server(outer) as base:
        prefix = base + "/sandbox/portone"
        async with httpx.AsyncClient(base_url=prefix) as http:
            # when clients use it through the prefix
            token = await v1_token(http)
            paid = await create(http, amount=1000)
            r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": token})
            config = (await http.get("/_control/config")).json()
            missing = await http.get("/v1/unknown")
    # then API, control (store lookup through request.app) and errors all work under the prefix
    assert r.status_code == 200 and r.json()["response"]["imp_uid"] == paid["imp_uid"]
    assert config["v1_base_url"] == prefix + "/v1" and config["v2_base_url"] == prefix + "/v2"
    assert missing.status_code == 404 and missing.json()["code"] == -1
    assert sandbox_app.state.sandbox.get_v1(paid["imp_uid"]) is not None


async def test_config_exposes_what_clients_need(http, sandbox):
    config = (await http.get("/_control/config")).json()
    assert config["merchant_code"] == "imp00000000"
    assert (config["imp_key"], config["imp_secret"]) == ("sandbox_imp_key", "sandbox_imp_secret")
    assert config["store_id"].startswith("store-") and config["channel_key"].startswith("channel-key-")
    assert config["pg"] == "html5_inicis" and config["v2_webhook_secret"].startswith("whsec_")
    assert config["v1_base_url"] == sandbox.base_url + "/v1"


async def test_stats_count_requests_per_endpoint_template(http):
    token = await v1_token(http)
    paid = await create(http, amount=1000)
    for _ in range(3):
        await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": token})
    await http.get("/v2/payments/p-1", headers={"Authorization": "PortOne sandbox_v2_api_secret"})
    stats = (await http.get("/_control/stats")).json()
    assert stats == {"POST /v1/users/getToken": 1, "GET /v1/payments/{imp_uid}": 3, "GET /v2/payments/{paymentId}": 1}
    await http.delete("/_control/stats")
    assert (await http.get("/_control/stats")).json() == {}


async def test_reset_forgets_payments_tokens_and_prepares(http):
    token = await v1_token(http)
    paid = await create(http, amount=1000)
    await http.post("/v1/payments/prepare", json={"merchant_uid": "m-reset", "amount": 1}, headers={"Authorization": token})
    await http.post("/_control/reset")
    assert (await http.get(f"/_control/payments/{paid['imp_uid']}")).status_code == 404
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": token})).status_code == 401
    fresh = await v1_token(http)
    r = await http.get("/v1/payments/prepare/m-reset", headers={"Authorization": fresh})
    assert r.json()["code"] != 0


async def test_control_create_validates_input(http):
    for bad in ({}, {"amount": -1}, {"amount": 10, "pay_method": "bitcoin"}, {"amount": 10, "outcome": "maybe"},
                {"amount": 10, "colour": "red"}, {"amount": 10, "outcome": "pending"}):
        r = await http.post("/_control/payments", json=bad)
        assert r.status_code == 400 and r.json()["error"]["message"], bad
    r = await http.post("/_control/payments/imp_000000000000/deposit")
    assert r.status_code == 404
    card = await create(http, amount=1000)
    r = await http.post(f"/_control/payments/{card['imp_uid']}/deposit")
    assert r.status_code == 400  # only an issued, unpaid virtual account takes a deposit
    r = await http.post(f"/_control/payments/{card['imp_uid']}/cancel", json={"amount": 5000})
    assert r.status_code == 409 and r.json()["error"]["kind"] == "exceeds"


async def test_handler_crash_is_an_envelope_not_a_trace(http, sandbox, monkeypatch):
    token = await v1_token(http)
    paid = await create(http, amount=1000)

    def boom(_payment):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(sandbox.store, "v1_view", boom)
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": token})
    assert r.status_code == 500
    assert r.json() == {"code": -1, "message": "[sandbox] internal error: RuntimeError", "response": None}


def test_cli_arguments_build_the_config():
    parser = add_arguments(argparse.ArgumentParser())
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8099)
    assert config_from_args(defaults) == SandboxConfig()
    args = parser.parse_args(["--imp-key", "k", "--webhook-format", "form", "--webhook-retries", "0", "--webhook-url", "http://x/h"])
    cfg = config_from_args(args)
    assert (cfg.imp_key, cfg.webhook_format, cfg.webhook_retries, cfg.webhook_url) == ("k", "form", 0, "http://x/h")
    assert "(default: sandbox_imp_secret)" in " ".join(parser.format_help().split())  # help shows defaults


def test_python_dash_m_sandbox_serves():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--imp-key", "cli-key", "--log-level", "warning"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/v1/users/getToken", json={"imp_key": "cli-key", "imp_secret": "sandbox_imp_secret"})
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("python -m sandbox did not start: " + (proc.stdout.read().decode() if proc.poll() is not None else "timeout"))
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["code"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
