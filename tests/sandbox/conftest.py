"""Fixtures: the sandbox and a webhook receiver, each served over real HTTP on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.portone.app import create_app
from sandbox.portone.config import SandboxConfig
from tests.servers import run_server

# Fast retries: the shape of PortOne's backoff, on a test clock.
FAST = {"webhook_backoff_s": 0.05, "webhook_retries": 3}


@dataclass
class Sandbox:
    base_url: str
    app: object
    config: SandboxConfig

    @property
    def store(self):
        return self.app.state.sandbox

    @property
    def v1(self) -> str:
        return self.base_url + "/v1"

    @property
    def v2(self) -> str:
        return self.base_url + "/v2"


@contextlib.contextmanager
def running_sandbox(**config) -> Iterator[Sandbox]:
    cfg = SandboxConfig(**{**FAST, **config})
    app = create_app(cfg)
    with run_server(app) as base_url:
        yield Sandbox(base_url, app, cfg)


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with running_sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_session: Sandbox) -> Sandbox:
    """The shared sandbox with all state (payments, faults, tokens, logs) wiped."""
    httpx.post(sandbox_session.base_url + "/_control/reset", timeout=5).raise_for_status()
    return sandbox_session


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as client:
        yield client


async def v1_token(http: httpx.AsyncClient, config: SandboxConfig | None = None) -> str:
    cfg = config or SandboxConfig()
    r = await http.post("/v1/users/getToken", json={"imp_key": cfg.imp_key, "imp_secret": cfg.imp_secret})
    assert r.status_code == 200, r.text
    return r.json()["response"]["access_token"]


async def create(http: httpx.AsyncClient, **body) -> dict:
    r = await http.post("/_control/payments", json=body)
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------------- webhook receiver
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float


@dataclass
class WebhookReceiver:
    """Collects webhook deliveries; `script` holds the statuses to answer with, in order."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str = "hook") -> str:
        return f"{self.base_url}/{name}"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.script.clear()
            self.delay_s = 0.0

    def for_path(self, name: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == "/" + name]

    async def wait_for(self, name: str, count: int, timeout_s: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.for_path(name)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries to /{name}, got {len(self.for_path(name))}")

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = (await request.body()).decode()
            with self.lock:
                self.received.append(Received(request.url.path, dict(request.headers), body, time.monotonic()))
                status = self.script.pop(0) if self.script else 200
                delay = self.delay_s
            if delay:
                await asyncio.sleep(delay)
            return Response("ok" if status < 300 else "nope", status_code=status)

        return Starlette(routes=[Route("/{name:path}", hook, methods=["POST"])])


@pytest.fixture(scope="session")
def receiver_session() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with run_server(receiver.app()) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture
def receiver(receiver_session: WebhookReceiver) -> WebhookReceiver:
    receiver_session.clear()
    return receiver_session


async def wait_deliveries(http: httpx.AsyncClient, *, settled: int, timeout_s: float = 5.0, **filters) -> list[dict]:
    """Poll /_control/webhooks until `settled` matching records are no longer pending."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = await http.get("/_control/webhooks", params=filters)
        records = [d for d in r.json()["deliveries"] if d["status"] != "pending"]
        if len(records) >= settled or time.monotonic() > deadline:
            return r.json()["deliveries"]
        await asyncio.sleep(0.02)
