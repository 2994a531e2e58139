"""Issue 18's abuse cases, each reproduced over real HTTP the way an attacker would
(docs/RELIABILITY.md, abuse table): parallel login brute force, forged-webhook amplification,
logged-out sessions that still write, unsafe production settings, and the missing rate limits.

The tests print the figures the abuse table quotes (``pytest -s`` shows them)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code
from tests.reliability.test_abuse import _redis_up

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
SIGNUP = "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }"
UPDATE = 'mutation { updateUser(updateUserInput: {name: "해커"}) { name } }'
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { _id } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
ME = "{ fetchUserLoggedIn { name } }"
REDIS_DB = "redis://127.0.0.1:6379/14"  # /15 is test_abuse.py's; other helpers' suites share the server


@contextmanager
def served(settings) -> Iterator[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """The API over real HTTP; yields its URL and the Starlette app (its services once started)."""
    from api.app import create_app
    from tests.servers import run_server

    app = create_app(settings)
    with run_server(app) as url:
        yield url, app


class VerifyCounter:
    """Counts Argon2 verifications (the CPU an attacker makes us spend), right and wrong."""

    def __init__(self, services) -> None:  # type: ignore[no-untyped-def]
        hasher = services.auth._hasher
        self.lock = threading.Lock()
        self.ok = self.wrong = 0
        counter = self

        class Counted:  # argon2's PasswordHasher has slots: wrap it rather than patch it
            def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
                return getattr(hasher, name)

            def verify(self, password_hash, password):  # type: ignore[no-untyped-def]
                try:
                    result = hasher.verify(password_hash, password)
                except Exception:
                    with counter.lock:
                        counter.wrong += 1
                    raise
                with counter.lock:
                    counter.ok += 1
                return result

        services.auth._hasher = Counted()

    @property
    def total(self) -> int:
        return self.ok + self.wrong


async def _fresh_storage(storage: str) -> None:
    """Redis counts outlive a test (the IP's hourly login limit would fill up over runs): start from
    an empty database — /14, this file's own."""
    if not storage.startswith("redis"):
        return
    if not await _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis.asyncio as redis

    client = redis.Redis.from_url(storage)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# --- 1. login brute force by parallel requests ---------------------------------------------------


@pytest.mark.parametrize("storage", ["memory://", REDIS_DB])
async def test_forty_parallel_logins_reach_the_password_check_at_most_limit_times(
    clean_db: str, sandbox: SandboxControl, storage: str
) -> None:
    await _fresh_storage(storage)
    # given an account (default limit: 5 attempts a minute per account), in memory or in Redis
    settings = api_settings(clean_db, sandbox, rate_limit_storage=storage)
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    with served(settings) as (url, app):
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=50)) as http:
            gql = GQL(http)
            assert error_code(await gql(SIGNUP, {"i": {"email": email, "password": "password123", "name": "x"}})) is None
            counter = VerifyCounter(app.state.services)  # type: ignore[attr-defined]
            # when 40 attempts arrive at once, the right password among them (the 20th)
            passwords = [f"wrong-{i}-password" for i in range(40)]
            passwords[19] = "password123"
            results = await asyncio.gather(*(gql(LOGIN, {"e": email, "p": p}) for p in passwords))
    codes = [error_code(r) or "OK" for r in results]
    limited = codes.count("RATE_LIMITED")
    print(f"\n40 parallel logins ({storage.split(':')[0]}): {counter.total} password checks "
          f"({counter.wrong} wrong, {counter.ok} right), {limited} RATE_LIMITED, codes {sorted(set(codes))}")
    # then at most the limit (5) reached Argon2, and every other attempt was refused before it
    assert counter.total <= 5, (counter.total, codes)
    assert limited == 40 - counter.total
    assert set(codes) <= {"OK", "UNAUTHENTICATED", "RATE_LIMITED"}


@pytest.mark.parametrize("storage", ["memory://", REDIS_DB])
async def test_a_successful_login_gives_its_attempt_back(clean_db: str, sandbox: SandboxControl, storage: str) -> None:
    await _fresh_storage(storage)
    email = f"often-{uuid.uuid4().hex[:8]}@example.com"
    with served(api_settings(clean_db, sandbox, rate_limit_storage=storage)) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            # given an account and a few failed attempts (default 5 a minute)
            await api.signup_and_login(email, "password123")
            for i in range(3):
                assert error_code(await api(LOGIN, {"e": email, "p": f"wrong-{i}-pass"})) == "UNAUTHENTICATED"
            # when the owner logs in successfully many times, then they are not counted
            for _ in range(10):
                assert error_code(await api(LOGIN, {"e": email, "p": "password123"})) is None
            # and the two failures left are still allowed, then the limit holds
            codes = [error_code(await api(LOGIN, {"e": email, "p": f"bad-{i}-pass"})) for i in range(3)]
    assert codes == ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]


# --- 2. forged webhooks amplify ------------------------------------------------------------------


async def _portone_lookups(sandbox: SandboxControl) -> int:
    stats = await sandbox.stats()
    return sum(n for route, n in stats.items() if route.startswith("GET /v1/payments/"))


async def _wait_settled(db: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while await count_rows(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'received'"):
        assert time.monotonic() < deadline, "deliveries still being processed"
        await asyncio.sleep(0.1)


async def _age_deliveries(db: str, minutes: int) -> None:
    # Reconciliation leaves deliveries younger than a minute to the live path: make these older.
    from sqlalchemy import update

    from services.models import WebhookDelivery

    engine = create_async_engine(db)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(WebhookDelivery).values(received_at=datetime.now(UTC) - timedelta(minutes=minutes))
            )
    finally:
        await engine.dispose()


async def test_a_thousand_forged_webhooks_cost_one_lookup_per_payment_id(clean_db: str, sandbox: SandboxControl) -> None:
    from api.runtime import runtime
    from services.reconcile import Reconciler

    # given the API with its default limits, and 20 made-up imp_uids (no such payments at PortOne);
    # the de-duplication window is 60 s here (default 5 s) because the burst takes ~20 s on this
    # shared 2-core machine: with the default, it is one GET per id per 5 s of burst
    settings = api_settings(clean_db, sandbox, webhook_dedup_s=60)
    ids = [f"imp_forged{i:04d}" for i in range(20)]
    padding = "x" * 4000  # a real PortOne webhook is < 1 KiB; the attacker pads to make us store more
    await sandbox.http.delete("/_control/stats")
    started = time.monotonic()
    with served(settings) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=20)) as http:
            # when one address posts 1,000 forged `paid` webhooks for them, 20 at a time
            async def post(i: int) -> int:
                body = {"imp_uid": ids[i % len(ids)], "merchant_uid": f"m{i}", "status": "paid", "pad": padding}
                return (await http.post("/webhooks/portone", json=body)).status_code

            statuses: list[int] = []
            for chunk in range(0, 1000, 20):
                statuses += await asyncio.gather(*(post(i) for i in range(chunk, chunk + 20)))
            await _wait_settled(clean_db)
    elapsed = time.monotonic() - started
    lookups = await _portone_lookups(sandbox)
    stored = await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries")
    biggest = await count_rows(clean_db, "SELECT MAX(LENGTH(body)) FROM webhook_deliveries")
    headers = await count_rows(clean_db, "SELECT MAX(LENGTH(headers)) FROM webhook_deliveries")
    failed = await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'failed'")
    duplicates = await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'duplicate'")
    print(f"\n1,000 forged webhooks from one IP in {elapsed:.1f} s: {lookups} PortOne GETs for {len(ids)} ids, "
          f"{stored} deliveries stored, body <= {biggest} B, headers <= {headers} B, {failed} failed, "
          f"{duplicates} duplicate, answers {sorted(set(statuses))}")
    # then PortOne was asked at most once per payment id, and each stored body fits in 1 KiB
    assert all(s == 200 for s in statuses)
    assert lookups <= len(ids)
    assert biggest <= 1024 and headers <= 1024
    assert failed <= len(ids) and failed + duplicates == 1000
    # and reconciliation retries the failed ones a bounded number of times, then abandons them
    await _age_deliveries(clean_db, 5)
    runs: list[tuple[bool, int, int]] = []
    async with runtime(settings) as (services, db):
        for _ in range(12):
            report = await Reconciler(db, services.charging, services.webhooks).run(
                since=datetime.now(UTC) - timedelta(days=1), apply=True
            )
            runs.append((report.clean, len(report.remaining), report.abandoned))
            if report.clean:
                break
    total = await _portone_lookups(sandbox)
    print(f"reconcile runs (clean, remaining, abandoned): {runs}; PortOne GETs in all: {total}")
    assert runs[-1] == (True, 0, failed), runs
    assert len(runs) <= 1 + services.webhooks.retry_max_attempts
    # the run after that is clean and abandons nothing new
    async with runtime(settings) as (services, db):
        report = await Reconciler(db, services.charging, services.webhooks).run(
            since=datetime.now(UTC) - timedelta(days=1), apply=False
        )
    assert report.clean and report.abandoned == 0


async def test_webhook_and_redirect_are_limited_per_ip_except_allowed_sources(
    clean_db: str, sandbox: SandboxControl
) -> None:
    # given a limit of 30 requests a minute per address on /webhooks/portone and /payments/complete
    base = dict(rate_limit_webhook="30/minute", frontend_url="https://shop.example")
    body = {"imp_uid": "imp_nosuch", "merchant_uid": "m", "status": "paid"}
    with served(api_settings(clean_db, sandbox, **base)) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            # when one address sends 40 webhooks and 40 redirects
            hooks = [(await http.post("/webhooks/portone", json=body)).status_code for _ in range(40)]
            redirects = [await http.get("/payments/complete", params={"imp_uid": f"imp_x{i}"}) for i in range(40)]
            await _wait_settled(clean_db)
    stored = await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries")
    over = [r for r in redirects if "reason=rate_limited" in r.headers.get("location", "")]
    print(f"\n40 webhooks + 40 redirects from one IP (limit 30/minute): webhooks {hooks.count(200)} accepted, "
          f"{hooks.count(429)} × 429; redirects {len(redirects) - len(over)} verified, {len(over)} told to retry")
    # then past the limit webhooks get 429 (nothing stored, PortOne not asked) …
    assert hooks.count(200) == 30 and hooks.count(429) == 10
    assert stored == 30
    # … and the browser is sent on to the result page as "pending" without a PortOne lookup
    assert all(r.status_code == 303 for r in redirects) and len(over) == 10
    assert all("outcome=pending" in r.headers["location"] for r in over)
    # and addresses in POINTCHARGE_WEBHOOK_ALLOWED_IPS (PortOne's) are never throttled
    await sandbox.http.delete("/_control/stats")
    with served(api_settings(clean_db, sandbox, webhook_allowed_ips=["127.0.0.1"], **base)) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            hooks = [(await http.post("/webhooks/portone", json=body)).status_code for _ in range(40)]
            redirects = [await http.get("/payments/complete", params={"imp_uid": f"imp_y{i}"}) for i in range(40)]
            await _wait_settled(clean_db)
    assert hooks == [200] * 40
    assert not any("reason=rate_limited" in r.headers["location"] for r in redirects)


# --- 3. logged-out sessions still write -------------------------------------------------------------

# Mutations that legitimately run without a live login: they create one (sign-up, login, restoring
# an access token from the refresh cookie) or end one (logout works from the refresh cookie, so that
# a user whose access token expired can still log out; it can only take privileges away).
SESSION_EXEMPT = {"createUser", "loginUser", "loginUserExample", "restoreAccessToken", "logoutUser"}
# Mutations whose service checks the login itself, in its own first statement (the charge: with its
# duplicate pre-check, one statement on one pooled connection). They are tested by behaviour below.
SESSION_CHECKED_BY_SERVICE = {"createPointTransactionOfLoading"}


def test_every_state_changing_mutation_checks_the_live_session() -> None:
    from schema import build_schema
    from schema.permissions import IsAuthenticated, LiveSession
    from tests.conftest import make_settings

    schema = build_schema(make_settings("sqlite+aiosqlite:///:memory:"))
    mutation = schema.get_type_by_name("Mutation")
    names = {schema.config.name_converter.get_graphql_name(f): f for f in mutation.fields}  # type: ignore[union-attr]
    missing = []
    for name, field in sorted(names.items()):
        permissions = list(field.permission_classes)
        if name in SESSION_EXEMPT:
            continue
        if name in SESSION_CHECKED_BY_SERVICE:
            if IsAuthenticated not in permissions:
                missing.append(f"{name} (no IsAuthenticated)")
            continue
        if LiveSession not in permissions or IsAuthenticated not in permissions:
            missing.append(name)
        elif permissions.index(LiveSession) < permissions.index(IsAuthenticated):
            missing.append(f"{name} (LiveSession before IsAuthenticated)")
    # every exemption names a mutation that exists (a renamed one must not leave a stale entry)
    assert SESSION_EXEMPT | SESSION_CHECKED_BY_SERVICE <= set(names), SESSION_EXEMPT - set(names)
    assert missing == [], f"mutations without the live-session check: {missing}"


async def test_a_logged_out_token_cannot_charge_and_portone_is_not_asked(api: GQL, sandbox: SandboxControl) -> None:
    # given a user with a credited charge and a copy of their access token
    await api.signup_and_login("charge-after-logout@example.com")
    credited = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"i": credited["imp_uid"]})) is None
    stolen = api.token
    fresh_payment = await sandbox.pay(1000)
    # when they log out
    assert (await api("mutation { logoutUser }"))["data"]["logoutUser"] is True
    await sandbox.http.delete("/_control/stats")
    # then the old token neither charges a new payment nor gets the credited one's entry back …
    assert error_code(await api(CHARGE, {"i": fresh_payment["imp_uid"]}, token=stolen)) == "UNAUTHENTICATED"
    retried = await api(CHARGE, {"i": credited["imp_uid"]}, token=stolen)
    assert error_code(retried) == "UNAUTHENTICATED" and retried.get("data") is None
    # … and PortOne was not asked about either
    assert (await sandbox.stats()).get("GET /v1/payments/{imp_uid}", 0) == 0
    # while a fresh login charges the new payment (one lookup)
    fresh = (await api(LOGIN, {"e": "charge-after-logout@example.com", "p": "password123"}))["data"]["loginUser"]
    assert error_code(await api(CHARGE, {"i": fresh_payment["imp_uid"]}, token=fresh["accessToken"])) is None
    assert (await sandbox.stats()).get("GET /v1/payments/{imp_uid}", 0) == 1


async def test_a_logged_out_token_cannot_rename_the_user(api: GQL) -> None:
    # given a logged-in user and a copy of their access token
    await api.signup_and_login("rename@example.com")
    stolen = api.token
    # when they log out
    assert (await api("mutation { logoutUser }"))["data"]["logoutUser"] is True
    # then the old token no longer changes the profile
    assert error_code(await api(UPDATE, token=stolen)) == "UNAUTHENTICATED"
    fresh = (await api(LOGIN, {"e": "rename@example.com", "p": "password123"}))["data"]["loginUser"]["accessToken"]
    assert (await api(ME, token=fresh))["data"]["fetchUserLoggedIn"]["name"] == "김철수"


async def test_password_reset_needs_a_recent_login_and_ends_the_other_sessions(clean_db: str, sandbox: SandboxControl) -> None:
    # given a user logged in on two devices, with a reset window of 2 seconds
    settings = api_settings(clean_db, sandbox, password_reset_max_age=2)
    with served(settings) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login("reset@example.com", "password123")
            device_a = api.token
            device_b = (await api(LOGIN, {"e": "reset@example.com", "p": "password123"}))["data"]["loginUser"]["accessToken"]
            # when device A resets the password right after logging in
            assert error_code(await api('mutation { resetUserPassword(password: "newpassword1") }', token=device_a)) is None
            # then device B's session is over and device A's goes on
            assert error_code(await api(UPDATE, token=device_b)) == "UNAUTHENTICATED"
            assert error_code(await api(UPDATE, token=device_a)) is None
            # and once device A's login is older than the window, a reset needs a fresh login
            await asyncio.sleep(2.5)
            stale = await api('mutation { resetUserPassword(password: "newpassword2") }', token=device_a)
            assert error_code(stale) == "UNAUTHENTICATED", stale
            fresh = (await api(LOGIN, {"e": "reset@example.com", "p": "newpassword1"}))["data"]["loginUser"]["accessToken"]
            assert error_code(await api('mutation { resetUserPassword(password: "newpassword2") }', token=fresh)) is None


# --- 4. unsafe production settings --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _safe_production_env(tmp_path: Path) -> dict[str, str]:
    from api.migrate import upgrade_head

    db = tmp_path / "prod.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade_head(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTCHARGE_")}
    env.update(
        POINTCHARGE_MODE="production",
        POINTCHARGE_DATABASE_URL=url,
        POINTCHARGE_ALLOW_SQLITE_IN_PRODUCTION="true",
        POINTCHARGE_JWT_SECRET="q7Vd2Lx9pT4mZc8Rk1Nw6Hs3Jb5Fy0Ge-UaXoQiE",
        POINTCHARGE_PORTONE_V1_BASE_URL="https://api.iamport.kr",
        POINTCHARGE_PORTONE_IMP_KEY="1234567890123456",
        POINTCHARGE_PORTONE_IMP_SECRET="live-imp-secret-0123456789abcdef",
        POINTCHARGE_CORS_ORIGINS="https://app.example.com",
        POINTCHARGE_COOKIE_SAMESITE="none",  # with Secure (on in production): fine
        POINTCHARGE_LOG_LEVEL="warning",
    )
    return env


def _serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


UNSAFE = {
    "POINTCHARGE_CORS_ORIGINS": {"POINTCHARGE_CORS_ORIGINS": "*"},
    "POINTCHARGE_COOKIE_SAMESITE": {"POINTCHARGE_COOKIE_SAMESITE": "none", "POINTCHARGE_COOKIE_SECURE": "false"},
    "POINTCHARGE_ALLOW_SQLITE_IN_PRODUCTION": {"POINTCHARGE_ALLOW_SQLITE_IN_PRODUCTION": "false"},
    "POINTCHARGE_PORTONE_IMP_KEY": "sandbox-keys",
}


def test_production_serve_refuses_each_unsafe_setting_and_starts_with_safe_ones(tmp_path: Path) -> None:
    from sandbox.portone.config import SandboxConfig

    safe = _safe_production_env(tmp_path)
    sandbox_keys = SandboxConfig()
    procs = {}
    for name, change in UNSAFE.items():
        if change == "sandbox-keys":
            change = {"POINTCHARGE_PORTONE_IMP_KEY": sandbox_keys.imp_key, "POINTCHARGE_PORTONE_IMP_SECRET": sandbox_keys.imp_secret}
        procs[name] = _serve({**safe, **change}, tmp_path, _free_port())
    # when `pointcharge serve` starts in production mode with one unsafe setting each
    for name, proc in procs.items():
        _out, err = proc.communicate(timeout=60)
        print(f"\nunsafe {name}: exit {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        # then it refuses, exit 2, naming the setting
        assert proc.returncode == 2, (name, err)
        assert name in err, (name, err)
    # and with the safe settings it starts and serves
    port = _free_port()
    proc = _serve(safe, tmp_path, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "production serve did not come up"
            time.sleep(0.2)
        # /metrics: loopback only without a token (this client is loopback)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(15)


async def test_metrics_need_loopback_or_the_bearer_token(clean_db: str) -> None:
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(clean_db, metrics_token="m" * 40))
    async with LifespanManager(app) as manager:
        remote = httpx.ASGITransport(app=manager.app, client=("203.0.113.9", 4000))  # type: ignore[arg-type]
        local = httpx.ASGITransport(app=manager.app, client=("127.0.0.1", 4000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=remote, base_url="http://t") as outside, httpx.AsyncClient(
            transport=local, base_url="http://t"
        ) as inside:
            assert (await outside.get("/metrics")).status_code == 403
            assert (await outside.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
            assert (await outside.get("/metrics", headers={"Authorization": f"Bearer {'m' * 40}"})).status_code == 200
            assert (await inside.get("/metrics")).status_code == 200


def test_doctor_lists_the_unsafe_settings() -> None:
    from api.doctor import diagnose
    from sandbox.portone.config import SandboxConfig
    from services.settings import Settings

    keys = SandboxConfig()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, mode="production", cors_origins="*", cookie_samesite="none", cookie_secure=False,
        portone_imp_key=keys.imp_key, portone_imp_secret=keys.imp_secret,
    )
    report = diagnose(settings, None)
    checks = {f.check for f in report.problems}
    for name in ("POINTCHARGE_CORS_ORIGINS", "POINTCHARGE_COOKIE_SAMESITE", "POINTCHARGE_DATABASE_URL",
                 "POINTCHARGE_PORTONE_IMP_KEY"):
        assert name in checks, (name, checks)
    assert "POINTCHARGE_METRICS_TOKEN" in {f.check for f in report.findings}


# --- 5. missing limits ----------------------------------------------------------------------------


async def test_signup_is_limited_per_ip(clean_db: str, sandbox: SandboxControl) -> None:
    # given a sign-up limit of 3 a minute per address
    with served(api_settings(clean_db, sandbox, rate_limit_signup="3/minute")) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            gql = GQL(http)
            # when one address creates 6 accounts at once
            results = await asyncio.gather(*(
                gql(SIGNUP, {"i": {"email": f"bot{i}@example.com", "password": "password123", "name": "b"}})
                for i in range(6)
            ))
    codes = sorted(error_code(r) or "OK" for r in results)
    print(f"\n6 sign-ups from one IP (limit 3/minute): {codes}")
    # then 3 were created and 3 refused
    assert codes == ["OK"] * 3 + ["RATE_LIMITED"] * 3
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM users") == 3


async def test_cancels_are_limited_per_user(clean_db: str, sandbox: SandboxControl) -> None:
    # given a user with a credited 10,000 KRW charge and a cancel limit of 2 a minute
    with served(api_settings(clean_db, sandbox, rate_limit_cancel="2/minute")) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            gql = GQL(http)
            await gql.signup_and_login("canceller@example.com")
            paid = await sandbox.pay(10000)
            assert error_code(await gql(CHARGE, {"i": paid["imp_uid"]})) is None
            # when they send 5 partial cancels of 1,000 one after another
            codes = [error_code(await gql(CANCEL, {"i": paid["imp_uid"], "a": 1000})) or "OK" for _ in range(5)]
    print(f"\n5 cancels by one user (limit 2/minute): {codes}")
    # then 2 reached PortOne and the rest were refused
    assert codes == ["OK", "OK"] + ["RATE_LIMITED"] * 3
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 2000


ITEM = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id } }"


async def test_item_writes_have_a_per_user_limit(clean_db: str, sandbox: SandboxControl) -> None:
    # given an item-write limit of 3 a minute per user, and two sellers
    item = {"name": "의자", "remarks": "r", "contents": "c", "price": 1000}
    with served(api_settings(clean_db, sandbox, rate_limit_item="3/minute")) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as one, httpx.AsyncClient(base_url=url, timeout=30) as two:
            first, second = GQL(one), GQL(two)
            await first.signup_and_login("seller1@example.com")
            await second.signup_and_login("seller2@example.com")
            # when the first lists 5 items one after another, then the second lists one
            codes = [error_code(await first(ITEM, {"i": item})) or "OK" for _ in range(5)]
            other = error_code(await second(ITEM, {"i": item})) or "OK"
    print(f"\n5 createUseditem by one user (limit 3/minute): {codes}; another user: {other}")
    # then 3 were created for the first, the rest refused, and the count is per user
    assert codes == ["OK"] * 3 + ["RATE_LIMITED"] * 2
    assert other == "OK"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditems") == 4
