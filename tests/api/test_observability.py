"""Operations: request ids, structured logs without secrets, Prometheus metrics, readiness."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.health import Readiness
from api.logs import REDACTED, make_formatter, redact, scrub
from services import metrics
from services.gateways.portone.v1 import PortOneV1Client
from tests.api.test_lifecycle import eventually
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount balance } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { _id amount } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
REFRESH = "mutation { restoreAccessToken { accessToken } }"
ROOT = Path(__file__).resolve().parents[2]


# --- helpers -----------------------------------------------------------------------------------


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def processed_deliveries(db: str) -> int:
    return await count_rows(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'processed'")


# --- request id ----------------------------------------------------------------------------------


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:abc"})
    assert echoed.headers["x-request-id"] == "lb-7f3a.42:abc"

    generated = await client.get("/healthz")
    other = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    assert generated.headers["x-request-id"] != other.headers["x-request-id"]

    # Not sane (too long, spaces, control characters): replaced, not echoed into our logs.
    for bad in ("x" * 200, "hello world", "a\tb", "<script>"):
        response = await client.get("/healthz", headers={"X-Request-ID": bad})
        assert response.headers["x-request-id"] != bad
        assert len(response.headers["x-request-id"]) == 32
    # Every response gets one, errors from the middleware too (413 before any route runs).
    too_big = await client.post("/graphql", content=b"x" * (300 * 1024), headers={"content-type": "application/json"})
    assert too_big.status_code == 413 and too_big.headers["x-request-id"]


# --- metrics -------------------------------------------------------------------------------------


async def test_metrics_after_a_charge_a_failed_charge_and_a_webhook(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    before = await scrape(api.client)
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"])
    failed = await sandbox.pay(1000, outcome="failed")

    credited = await api(CHARGE, {"i": paid["imp_uid"]})
    assert credited["data"]["createPointTransactionOfLoading"]["amount"] == 5000
    retried = await api(CHARGE, {"i": paid["imp_uid"]})  # a double click: the original answer
    assert "errors" not in retried
    assert error_code(await api(CHARGE, {"i": failed["imp_uid"]})) == "PAYMENT_NOT_PAID"
    hook = {"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}
    assert (await api.client.post("/webhooks/portone", json=hook)).status_code == 200
    await eventually(lambda: _is(processed_deliveries(clean_db), 1))
    after = await scrape(api.client)

    charges = "pointcharge_charges_total"
    assert delta(before, after, charges, source="mutation", outcome="credited", code="none") == 1
    assert delta(before, after, charges, source="mutation", outcome="already_credited", code="none") == 1
    assert delta(before, after, charges, source="mutation", outcome="error", code="PAYMENT_NOT_PAID") == 1
    assert delta(before, after, charges, source="webhook", outcome="already_credited", code="none") == 1
    # Points: the new credit only; neither the retry nor the webhook adds any.
    assert delta(before, after, "pointcharge_points_credited_total", source="mutation") == 5000
    assert delta(before, after, "pointcharge_points_credited_total", source="webhook") == 0

    graphql = "pointcharge_graphql_requests_total"
    assert delta(before, after, graphql, operation="createPointTransactionOfLoading", outcome="ok") == 2
    assert delta(before, after, graphql, operation="createPointTransactionOfLoading", outcome="PAYMENT_NOT_PAID") == 1
    assert delta(before, after, graphql, operation="preparePointCharge", outcome="ok") == 1
    assert delta(before, after, graphql, operation="loginUser", outcome="ok") == 1

    hooks = "pointcharge_webhook_deliveries_total"
    assert delta(before, after, hooks, provider="portone_v1", result="received") == 1
    assert delta(before, after, hooks, provider="portone_v1", result="processed") == 1
    assert delta(before, after, hooks, provider="portone_v1", result="failed") == 0

    # PortOne latency by endpoint template: the paid and the failed charge and the webhook's sync
    # read a payment (the retry did not: it is answered from our records).
    latency = "pointcharge_portone_request_duration_seconds_count"
    assert delta(before, after, latency, endpoint="GET /payments/{imp_uid}", outcome="2xx") == 3
    assert delta(before, after, latency, endpoint="POST /payments/prepare", outcome="2xx") == 1
    assert delta(before, after, latency, endpoint="POST /users/getToken", outcome="2xx") == 1
    assert not [k for k in after if paid["imp_uid"] in str(k) or failed["imp_uid"] in str(k)]

    # The pool gauges, read at scrape time; this app's pool is the only one open.
    expected_size = 5 if clean_db.startswith("sqlite") else 10  # SQLAlchemy's default / our setting
    assert after[("pointcharge_db_pool_size", frozenset())] == expected_size
    assert 0 <= after[("pointcharge_db_pool_checked_out", frozenset())] <= expected_size

    # Reconciliation's counter exists (with no samples until a reconciler counts).
    assert "# TYPE pointcharge_reconcile_differences_total counter" in (await api.client.get("/metrics")).text


async def _is(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_cancel_is_counted(api: GQL, sandbox: SandboxControl) -> None:
    before = await scrape(api.client)
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    assert "errors" not in await api(CHARGE, {"i": paid["imp_uid"]})
    assert "errors" not in await api(CANCEL, {"i": paid["imp_uid"]})
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) is not None  # nothing left to cancel
    after = await scrape(api.client)
    assert delta(before, after, "pointcharge_cancels_total", outcome="succeeded", code="none") == 1
    assert sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == "pointcharge_cancels_total" and ("outcome", "error") in k[1]
    ) == 1
    assert delta(before, after, "pointcharge_portone_request_duration_seconds_count",
                 endpoint="POST /payments/cancel", outcome="2xx") == 1


async def test_portone_transport_failures_are_timed_as_errors() -> None:
    name = "pointcharge_portone_request_duration_seconds"
    labels = {"endpoint": "GET /payments/{imp_uid}", "outcome": "error"}
    before = metrics.REGISTRY.get_sample_value(f"{name}_count", labels) or 0.0
    async with httpx.AsyncClient(
        transport=metrics.MeasuredTransport(httpx.AsyncHTTPTransport()),
        event_hooks=metrics.portone_event_hooks(),
    ) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:1/v1/payments/imp_123")
    assert metrics.REGISTRY.get_sample_value(f"{name}_count", labels) == before + 1


def test_endpoint_templates_never_carry_ids() -> None:
    cases = {
        ("POST", "https://api.iamport.kr/users/getToken"): "POST /users/getToken",
        ("GET", "https://api.iamport.kr/payments/imp_123456"): "GET /payments/{imp_uid}",
        ("POST", "https://api.iamport.kr/payments/cancel"): "POST /payments/cancel",
        ("GET", "http://127.0.0.1:8000/sandbox/portone/v1/payments/status/all?page=2"): "GET /payments/status/{status}",
        ("GET", "https://api.portone.io/payments/order%2F1"): "GET /payments/{payment_id}",
        ("POST", "https://api.portone.io/payments/order-1/cancel"): "POST /payments/{payment_id}/cancel",
        ("GET", "https://api.iamport.kr/something/else"): "GET other",
        ("GET", "https://api.bootpay.co.kr/v2/receipt/6b1565a1f0e2?lookup_user_data=false"): "GET /v2/receipt/{receipt_id}",
        ("POST", "http://127.0.0.1:8000/sandbox/bootpay/v2/cancel"): "POST /v2/cancel",
        ("POST", "https://api.bootpay.co.kr/v2/confirm"): "POST /v2/confirm",
    }
    for (method, url), expected in cases.items():
        assert metrics.portone_endpoint(method, url) == expected


def test_multiprocess_mode_sums_the_workers(tmp_path: Path) -> None:
    """Two "workers" count into one PROMETHEUS_MULTIPROC_DIR; /metrics in either sees the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    worker = textwrap.dedent(
        """
        import sys
        from services import metrics
        assert metrics.MULTIPROCESS
        metrics.count_charge("mutation", "credited", credited=int(sys.argv[1]))
        if len(sys.argv) > 2:
            body, content_type = metrics.render()
            print(body.decode())
        """
    )
    subprocess.run([sys.executable, "-c", worker, "1000"], env=env, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", worker, "5000", "render"], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert 'pointcharge_charges_total{code="none",outcome="credited",source="mutation"} 2.0' in out
    assert 'pointcharge_points_credited_total{source="mutation"} 6000.0' in out


def test_serve_sets_a_fresh_multiprocess_directory_for_several_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    from api import cli

    seen: list[tuple[int, str | None, bool]] = []

    def fake_run(*args: object, **kwargs: object) -> None:
        path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        seen.append((kwargs["workers"], path, bool(path) and Path(path).is_dir() and not os.listdir(path)))  # type: ignore[arg-type]

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POINTCHARGE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("POINTCHARGE_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("POINTCHARGE_LOG_LEVEL", "warning")
    monkeypatch.setenv("POINTCHARGE_PORTONE_V1_BASE_URL", "http://127.0.0.1:8099/v1")  # a shared sandbox
    monkeypatch.setenv("POINTCHARGE_BOOTPAY_BASE_URL", "http://127.0.0.1:8099/bootpay/v2")  # the same one's Bootpay
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-below")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")

    assert cli.main(["serve", "--workers", "1"]) == 0
    assert cli.main(["serve", "--workers", "3"]) == 0
    (one, no_dir, _), (three, path, fresh) = seen
    assert (one, no_dir) == (1, None)
    assert three == 3 and path and fresh
    assert not Path(path).exists()  # removed when serve returns


# --- readiness -----------------------------------------------------------------------------------


class _FakeDb:
    def __init__(self) -> None:
        self.up = True

    async def ping(self) -> None:
        if not self.up:
            raise ConnectionRefusedError


async def test_readiness_caches_portone_and_always_pings_the_database() -> None:
    now = [100.0]
    calls: list[float] = []
    failing = [False]

    async def get_token() -> str:
        calls.append(now[0])
        if failing[0]:
            raise RuntimeError("PortOne down")
        return "token"

    db = _FakeDb()
    readiness = Readiness(db, get_token, cache_s=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert await readiness.check() == (True, {"status": "ok", "database": "up", "portone": "up"})
    # A load balancer polling every second: PortOne is asked once per 5 s.
    for _ in range(4):
        now[0] += 1
        assert (await readiness.check())[0]
    assert len(calls) == 1
    # PortOne goes down: noticed at the next refresh, and the failure is cached too.
    failing[0] = True
    now[0] += 1.5
    assert await readiness.check() == (False, {"status": "unavailable", "database": "up", "portone": "down"})
    now[0] += 1
    assert not (await readiness.check())[0]
    assert len(calls) == 2
    # The database is checked on every call, cache or not.
    failing[0] = False
    now[0] += 10
    db.up = False
    assert await readiness.check() == (False, {"status": "unavailable", "database": "down", "portone": "up"})
    # Concurrent polls share one PortOne check.
    db.up = True
    now[0] += 10
    results = await asyncio.gather(*(readiness.check() for _ in range(5)))
    assert all(ok for ok, _ in results) and len(calls) == 4


async def test_readiness_against_portone_token_retrieval(sandbox: SandboxControl) -> None:
    cfg = sandbox.config
    async with httpx.AsyncClient() as http:
        good = PortOneV1Client(
            http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key, imp_secret=cfg.imp_secret  # type: ignore[attr-defined]
        )
        bad = PortOneV1Client(http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key, imp_secret="wrong")  # type: ignore[attr-defined]
        assert (await Readiness(_FakeDb(), good._get_token).check())[1]["portone"] == "up"  # type: ignore[arg-type]
        assert (await Readiness(_FakeDb(), bad._get_token).check())[1]["portone"] == "down"  # type: ignore[arg-type]


async def test_readyz_and_metrics_routes(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    # Sandbox mode: PortOne is the emulator, not checked.
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "up", "portone": "unchecked"}
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert "pointcharge_db_pool_size" in (await client.get("/metrics")).text


# --- logs ----------------------------------------------------------------------------------------


def test_redaction_by_key_and_by_shape() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    event = {
        "event": f"login with Bearer abcdefgh12345678 and {jwt}, card 536181******1234 / 4111 1111 1111 1111",
        "password": "hunter2",
        "accessToken": "tok",
        "refresh_token": "tok",
        "Authorization": "Bearer x",
        "imp_secret": "s",
        "card_number": "4111111111111111",
        "headers": {"cookie": "refreshToken=abc", "x-request-id": "keep-me"},
        "amount": 5000,
        "imp_uid": "imp_1234567890123",
        "timestamp": "2026-01-01T00:00:00Z",
        "ms": "1764500000000",  # a 13-digit number that is not a card number (Luhn)
        "header_dump": "(b'set-cookie', b'refreshToken=abc.def; HttpOnly; Path=/graphql')",
    }
    out = redact(None, "info", dict(event))
    for key in ("password", "accessToken", "refresh_token", "Authorization", "imp_secret", "card_number"):
        assert out[key] == REDACTED
    assert out["headers"] == {"cookie": REDACTED, "x-request-id": "keep-me"}
    assert out["amount"] == 5000 and out["imp_uid"] == "imp_1234567890123" and out["ms"] == "1764500000000"
    for secret in (jwt, "abcdefgh12345678", "536181******1234", "4111 1111 1111 1111"):
        assert secret not in out["event"]
    assert out["header_dump"] == f"(b'set-cookie', b'refreshToken={REDACTED}; HttpOnly; Path=/graphql')"
    assert scrub("nothing to see") == "nothing to see"


class _Capture:
    """Every log record rendered both ways (JSON as in production, console as in sandbox)."""

    def __init__(self) -> None:
        self.json, self.console = io.StringIO(), io.StringIO()
        self.handlers = []
        for stream, json_ in ((self.json, True), (self.console, False)):
            handler = logging.StreamHandler(stream)
            handler.setFormatter(make_formatter(json=json_))
            self.handlers.append(handler)

    def text(self) -> str:
        return self.json.getvalue() + self.console.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.json.getvalue().splitlines() if line.strip()]


@pytest.fixture
def log_capture() -> Iterator[_Capture]:
    capture = _Capture()
    root = logging.getLogger()
    for handler in capture.handlers:
        root.addHandler(handler)
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "sandbox")}
    try:
        yield capture
    finally:
        for handler in capture.handlers:
            root.removeHandler(handler)
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
async def debug_api(clean_db: str, sandbox: SandboxControl, log_capture: _Capture) -> AsyncIterator[GQL]:
    """The API at DEBUG level, every library included, with all its log output captured."""
    from api.app import create_app
    from tests.servers import run_server

    app = create_app(api_settings(clean_db, sandbox, log_level="debug"))
    for name in ("httpx", "httpcore", "sandbox"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    with run_server(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield GQL(http)


async def test_a_full_flow_logs_context_and_no_secret(
    debug_api: GQL, sandbox: SandboxControl, log_capture: _Capture, clean_db: str
) -> None:
    api, password = debug_api, "Kim-S3cret-pass!"
    user_id = await api.signup_and_login(email="kim@example.com", password=password)
    first_access = api.token
    first_refresh = api.client.cookies.get("refreshToken")
    refreshed = (await api(REFRESH))["data"]["restoreAccessToken"]["accessToken"]
    second_refresh = api.client.cookies.get("refreshToken")
    api.token = refreshed
    forged = first_access[:-4] + "AAAA"  # type: ignore[index]
    assert error_code(await api("{ fetchUserLoggedIn { _id } }", token=forged)) == "UNAUTHENTICATED"

    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"])
    response = await api.client.post(
        "/graphql",
        json={"query": CHARGE, "variables": {"i": paid["imp_uid"]}},
        headers={"Authorization": f"Bearer {refreshed}", "X-Request-ID": "flow-charge-1"},
    )
    assert response.json()["data"]["createPointTransactionOfLoading"]["amount"] == 5000
    hook = {"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}
    assert (await api.client.post("/webhooks/portone", json=hook)).status_code == 200
    await eventually(lambda: _is(processed_deliveries(clean_db), 1))
    assert "errors" not in await api(CANCEL, {"i": paid["imp_uid"]})
    await api("mutation { logoutUser }")

    # Nothing secret, in either rendering.
    cfg = sandbox.config
    secrets = {
        "password": password,
        "access token": first_access,
        "refreshed access token": refreshed,
        "forged token": forged,
        "refresh token": first_refresh,
        "rotated refresh token": second_refresh,
        "JWT secret": "test-jwt-secret-that-is-long-enough-0123456789",
        "imp_key": cfg.imp_key,  # type: ignore[attr-defined]
        "imp_secret": cfg.imp_secret,  # type: ignore[attr-defined]
        "card number": paid["card_number"],
    }
    assert all(secrets.values()) and paid["card_number"] == "536181******1234"
    text = log_capture.text()
    leaked = [name for name, value in secrets.items() if value in text]
    assert not leaked, f"leaked into the logs: {leaked}"

    # And the context is there: every line of a request names it.
    lines = log_capture.lines()
    assert len(lines) > 20
    access = [line for line in lines if line.get("logger") == "pointcharge.access"]
    assert access and all(len(line["request_id"]) >= 8 for line in access)
    charge = [line for line in lines if line.get("request_id") == "flow-charge-1"]
    assert charge and all(line.get("imp_uid") == paid["imp_uid"] for line in charge)
    assert any(
        line.get("graphql_operation") == "createPointTransactionOfLoading" and line.get("user_id") == user_id
        for line in charge
    )
    webhook = [line for line in lines if line.get("logger") == "pointcharge.webhooks"]
    assert webhook and all(line.get("imp_uid") == paid["imp_uid"] and line.get("request_id") for line in webhook)
    assert all({"timestamp", "level", "event"} <= set(line) for line in lines)


async def test_a_credit_is_logged_once_on_the_access_line_of_its_request_else_on_its_own(
    debug_api: GQL, sandbox: SandboxControl, log_capture: _Capture, clean_db: str
) -> None:
    api = debug_api
    user_id = await api.signup_and_login(email="lee@example.com")
    # given a payment the user claims through the mutation
    paid = await sandbox.pay(5000)
    response = await api.client.post(
        "/graphql",
        json={"query": CHARGE, "variables": {"i": paid["imp_uid"]}},
        headers={"Authorization": f"Bearer {api.token}", "X-Request-ID": "credit-by-mutation"},
    )
    assert response.json()["data"]["createPointTransactionOfLoading"]["amount"] == 5000, response.json()
    # and a prepared order whose payment only the webhook reports (credited in its background task)
    prepared = await api(PREPARE, {"a": 10000})
    assert "errors" not in prepared, prepared
    order = prepared["data"]["preparePointCharge"]
    hooked = await sandbox.pay(10000, merchant_uid=order["merchantUid"])
    hook = {"imp_uid": hooked["imp_uid"], "merchant_uid": hooked["merchant_uid"], "status": "paid"}
    response = await api.client.post("/webhooks/portone", json=hook, headers={"X-Request-ID": "credit-by-webhook"})
    assert response.status_code == 200
    await eventually(lambda: _is(processed_deliveries(clean_db), 1))

    lines = log_capture.lines()
    # then the mutation's credit is on its access line, and no other line of that request says it
    by_mutation = [line for line in lines if line.get("request_id") == "credit-by-mutation"]
    said = [line for line in by_mutation if "credited_points" in line or "credited" in line["event"]]
    assert len(said) == 1, by_mutation
    assert said[0]["logger"] == "pointcharge.access" and said[0]["status"] == 200
    assert said[0]["credited_points"] == 5000 and said[0]["credited_user_id"] == user_id
    assert said[0]["credited_payment"] == paid["imp_uid"]
    # and the webhook's credit, made after its access line was written, has a line of its own
    by_webhook = [line for line in lines if line.get("request_id") == "credit-by-webhook"]
    own = [line for line in by_webhook if line["event"].startswith("credited 10000 points")]
    assert len(own) == 1 and own[0]["logger"] == "pointcharge.charging", by_webhook
    assert not any("credited_points" in line for line in by_webhook)


@pytest.mark.parametrize(
    "env, refused",
    [
        ({}, True),  # both gateways on the sandbox mounted in each worker
        ({"POINTCHARGE_PORTONE_V1_BASE_URL": "http://127.0.0.1:8099/v1"}, True),  # Bootpay still mounted
        ({"POINTCHARGE_PORTONE_V1_BASE_URL": "http://127.0.0.1:8099/v1", "POINTCHARGE_BOOTPAY_ENABLED": "false"}, False),
        (
            {
                "POINTCHARGE_PORTONE_V1_BASE_URL": "http://127.0.0.1:8099/v1",
                "POINTCHARGE_BOOTPAY_BASE_URL": "http://127.0.0.1:8099/bootpay/v2",
            },
            False,
        ),
    ],
)
def test_several_workers_refuse_a_gateway_on_the_mounted_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], env: dict, refused: bool
) -> None:
    """Given sandbox mode, when `serve --workers 2` would leave PortOne or Bootpay on the sandbox
    mounted in each worker (each its own copy of the payments), then it refuses and says what to set."""
    import uvicorn

    from api import cli

    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(kw["workers"]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POINTCHARGE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("POINTCHARGE_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("POINTCHARGE_LOG_LEVEL", "warning")
    for name in ("POINTCHARGE_PORTONE_V1_BASE_URL", "POINTCHARGE_BOOTPAY_BASE_URL", "POINTCHARGE_BOOTPAY_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    code = cli.main(["serve", "--workers", "2"])

    if refused:
        assert (code, started) == (2, [])
        assert "POINTCHARGE_BOOTPAY_BASE_URL" in capsys.readouterr().err
    else:
        assert (code, started) == (0, [2])
