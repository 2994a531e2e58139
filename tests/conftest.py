"""Shared fixtures: a real database per session (SQLite file or PostgreSQL), wiped before each test.

The suite runs on SQLite by default and on PostgreSQL when ``POINTCHARGE_TEST_DATABASE_URL`` is set
(``.ci/run`` does both). Under ``CI=true`` an unreachable PostgreSQL fails the run instead of
silently testing only SQLite.
"""

from __future__ import annotations

import asyncio
import os
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
