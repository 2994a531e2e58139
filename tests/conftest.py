"""Shared fixtures: a real database per session (SQLite file or PostgreSQL), wiped before each test.

The suite runs on SQLite by default and on PostgreSQL when ``POINTCHARGE_TEST_DATABASE_URL`` is set
(``.ci/run`` does both). Under ``CI=true`` an unreachable PostgreSQL fails the run instead of
silently testing only SQLite.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import services.models  # noqa: F401
from api.migrate import upgrade_head
from services.settings import Settings

PG_URL = os.environ.get("POINTCHARGE_TEST_DATABASE_URL")
# Each app's mounted sandbox (and every server a test starts, which inherits the environment)
# keeps its state in memory: tests must not share, or leave behind, a ./pointcharge-sandbox.db.
# The tests of the state file itself name their own file.
os.environ.setdefault("POINTCHARGE_SANDBOX_STATE", ":memory:")


def _wipe_postgres(url: str) -> None:
    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        try:
            _wipe_postgres(PG_URL)
        except OSError as exc:  # connection refused
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI: {exc}")
            pytest.skip(f"PostgreSQL unreachable: {exc}")
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade_head(url)
    return url


async def wipe_tables(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for table in reversed(SQLModel.metadata.sorted_tables):
                await conn.execute(table.delete())
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_db(database_url: str) -> str:
    await wipe_tables(database_url)
    return database_url


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "mode": "sandbox",
        "jwt_secret": "test-jwt-secret-that-is-long-enough-0123456789",
        # Cheap Argon2 for tests; production uses the defaults.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        # Uploads go to a scratch folder, not ./pointcharge-files in the checkout.
        "storage_url": str(Path(tempfile.gettempdir()) / f"pointcharge-test-files-{os.getpid()}"),
        # Subscriptions are charged by `pointcharge billing run --at` in tests, never by the clock.
        "billing_every": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(clean_db: str) -> Settings:
    return make_settings(clean_db)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    from api.app import create_app

    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class GQL:
    """A tiny GraphQL client that behaves like a browser: keeps cookies, sends the bearer token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token: str | None = None

    async def __call__(
        self, query: str, variables: dict | None = None, *, token: str | None = None, **kw: object
    ) -> dict:
        headers = {}
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400), response.text
        assert "Traceback" not in response.text
        return response.json()

    async def signup_and_login(
        self, email: str = "user@example.com", password: str = "password123", name: str = "김철수"
    ) -> str:
        created = await self(
            "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
            {"i": {"email": email, "password": password, "name": name}},
        )
        assert "errors" not in created, created
        login = await self(
            "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }",
            {"e": email, "p": password},
        )
        self.token = login["data"]["loginUser"]["accessToken"]
        return created["data"]["createUser"]["_id"]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GQL:
    return GQL(client)


def error_code(result: dict) -> str | None:
    errors = result.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


@pytest.fixture
def artifacts_dir() -> Iterator[Path]:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    yield path


# --- PortOne sandbox over real HTTP -------------------------------------------------------------


class SandboxControl:
    """Drives the sandbox's /_control API the way a test (or a demo) would."""

    def __init__(self, base_url: str, config: object) -> None:
        self.base_url = base_url
        self.config = config
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10)

    async def pay(self, amount: int, **fields: object) -> dict:
        body = {"amount": amount, "webhook": False, **fields}
        response = await self.http.post("/_control/payments", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def deposit(self, payment_key: str, **fields: object) -> dict:
        response = await self.http.post(f"/_control/payments/{payment_key}/deposit", json=fields)
        assert response.status_code == 200, response.text
        return response.json()

    async def console_cancel(self, payment_key: str, **fields: object) -> dict:
        response = await self.http.post(
            f"/_control/payments/{payment_key}/cancel", json={"webhook": False, **fields}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def faults(self, **knobs: object) -> None:
        response = await self.http.put("/_control/faults", json=knobs)
        assert response.status_code == 200, response.text

    async def clear_faults(self) -> None:
        await self.http.delete("/_control/faults")

    async def stats(self) -> dict[str, int]:
        return (await self.http.get("/_control/stats")).json()

    async def v1_token(self) -> str:
        cfg = self.config
        body = {"imp_key": cfg.imp_key, "imp_secret": cfg.imp_secret}  # type: ignore[attr-defined]
        return (await self.http.post("/v1/users/getToken", json=body)).json()["response"]["access_token"]

    async def v1_payment(self, imp_uid: str) -> dict:
        token = await self.v1_token()
        response = await self.http.get(f"/v1/payments/{imp_uid}", headers={"Authorization": token})
        return response.json()["response"]


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxControl]:
    from sandbox.portone.app import create_app as create_sandbox
    from sandbox.portone.config import SandboxConfig
    from tests.servers import run_server

    config = SandboxConfig(webhook_url=None, v2_webhook_url=None)
    with run_server(create_sandbox(config)) as url:
        control = SandboxControl(url, config)
        try:
            yield control
        finally:
            await control.http.aclose()


def api_settings(database_url: str, sandbox: SandboxControl, **overrides: object) -> Settings:
    cfg = sandbox.config
    values: dict[str, object] = {
        "portone_v1_base_url": f"{sandbox.base_url}/v1",
        "portone_imp_key": cfg.imp_key,  # type: ignore[attr-defined]
        "portone_imp_secret": cfg.imp_secret,  # type: ignore[attr-defined]
        "portone_v2_base_url": f"{sandbox.base_url}/v2",
        "portone_v2_secret": cfg.v2_api_secret,  # type: ignore[attr-defined]
        "portone_store_id": cfg.store_id,  # type: ignore[attr-defined]
        "portone_channel_key": cfg.channel_key,  # type: ignore[attr-defined]
        "portone_webhook_secret": cfg.v2_webhook_secret,  # type: ignore[attr-defined]
        "portone_timeout_s": 2.0,
    }
    values.update(overrides)
    return make_settings(database_url, **values)


@pytest.fixture
async def api(clean_db: str, sandbox: SandboxControl) -> AsyncIterator[GQL]:
    """The API over real HTTP, talking to the sandbox over real HTTP."""
    from api.app import create_app
    from tests.servers import run_server

    with run_server(create_app(api_settings(clean_db, sandbox))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield GQL(http)


async def ledger_invariants(database_url: str) -> dict[str, int]:
    """Checks UserPoint.amount == sum(ledger) for every user; returns {user_id: balance}."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT p.user_id, p.amount, COALESCE(SUM(t.amount), 0) FROM user_points p "
                        "LEFT JOIN point_transactions t ON t.user_id = p.user_id "
                        "GROUP BY p.user_id, p.amount"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    for user_id, cached, summed in rows:
        assert cached == summed, f"user {user_id}: cached {cached} != ledger {summed}"
    return {user_id: cached for user_id, cached, _ in rows}


async def count_rows(database_url: str, sql: str, **params: object) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql), params)).scalar_one())
    finally:
        await engine.dispose()
