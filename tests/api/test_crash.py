"""Crash recovery: the API process is SIGKILLed after PortOne reported paid and before our commit.
After a restart, the next webhook — or reconciliation — credits the payment exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import GQL, SandboxControl, count_rows, ledger_invariants

ROOT = Path(__file__).resolve().parents[2]
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, sandbox: SandboxControl, **extra: str) -> dict[str, str]:
    cfg = sandbox.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTCHARGE_")}
    env.update(
        POINTCHARGE_DATABASE_URL=database_url,
        POINTCHARGE_MODE="sandbox",
        POINTCHARGE_JWT_SECRET="crash-test-jwt-secret-0123456789abcdef",
        POINTCHARGE_SANDBOX_STATE=":memory:",  # no sandbox state file left in the checkout
        POINTCHARGE_ARGON2_TIME_COST="1",
        POINTCHARGE_ARGON2_MEMORY_KIB="1024",
        POINTCHARGE_ARGON2_PARALLELISM="1",
        POINTCHARGE_PORTONE_V1_BASE_URL=f"{sandbox.base_url}/v1",
        POINTCHARGE_PORTONE_IMP_KEY=cfg.imp_key,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_IMP_SECRET=cfg.imp_secret,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_V2_BASE_URL=f"{sandbox.base_url}/v2",
        POINTCHARGE_PORTONE_V2_SECRET=cfg.v2_api_secret,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_STORE_ID=cfg.store_id,  # type: ignore[attr-defined]
        **extra,
    )
    return env


@contextmanager
def serve(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        time.sleep(0.1)
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def crash_during_credit(clean_db: str, sandbox: SandboxControl) -> tuple[GQL, dict, dict]:
    """Signs up, prepares, pays, and sends the mutation to a server that dies before committing."""
    env = server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT="before_credit_commit")
    with serve(env) as (proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            gql = GQL(http)
            await gql.signup_and_login()
            order = (await gql(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
            paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"], webhook=False)
            with pytest.raises(httpx.TransportError):
                await http.post("/graphql", json={"query": CHARGE, "variables": {"i": paid["imp_uid"]}},
                                headers={"Authorization": f"Bearer {gql.token}"})
            assert proc.wait(10) == -signal.SIGKILL
    # nothing was committed: no credit, the order still waits
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    return gql, order, paid


async def test_killed_before_commit_then_webhook_credits_once(sandbox: SandboxControl, clean_db: str) -> None:
    gql, order, paid = await crash_during_credit(clean_db, sandbox)
    with serve(server_env(clean_db, sandbox)) as (_proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            body = {"imp_uid": paid["imp_uid"], "merchant_uid": order["merchantUid"], "status": "paid"}
            for _ in range(3):  # PortOne retries; duplicates change nothing
                assert (await http.post("/webhooks/portone", json=body)).status_code == 200
            for _ in range(100):
                # PortOne's redeliveries of one event: one lookup, the others "duplicate" (issue 18)
                if await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome IN ('processed', 'duplicate')") == 3:
                    break
                await asyncio.sleep(0.05)
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [5000]


async def test_killed_before_commit_then_reconcile_credits_once(sandbox: SandboxControl, clean_db: str) -> None:
    await crash_during_credit(clean_db, sandbox)
    env = server_env(clean_db, sandbox)
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "api.cli", "reconcile", "--days", "1", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    dry = run("--json")
    assert dry.returncode == 1, dry.stderr
    assert [d["kind"] for d in json.loads(dry.stdout)["differences"]] == ["paid_not_credited"]
    fixed = run("--apply")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "paid_not_credited" in fixed.stdout
    clean = run()
    assert clean.returncode == 0 and "clean: no differences" in clean.stdout
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [5000]
