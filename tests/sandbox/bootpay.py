"""Fixtures for the Bootpay emulator's tests (import them into a test module): the emulator and a
webhook receiver, each a real HTTP server on a free port.

    from tests.sandbox.bootpay import bootpay, bootpay_session, receiver  # noqa: F401
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.bootpay import BootpayConfig, create_app
from tests.servers import run_server

# Bootpay's retry count (10), on a test clock.
FAST = {"webhook_backoff_s": 0.01, "webhook_backoff_max_s": 0.05, "webhook_timeout_s": 5.0}
OK = (200, '{"success": true}')


@dataclass
class Bootpay:
    base_url: str
    app: object

    @property
    def store(self):
        return self.app.state.bootpay

    @property
    def config(self) -> BootpayConfig:
        return self.store.config

    @property
    def v2(self) -> str:
        return self.base_url + "/v2"

    def control(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.base_url}/_control{path}", timeout=10, **kwargs)

    def pay(self, **body) -> dict:
        r = self.control("POST", "/receipts", json={"price": 10000, **body})
        assert r.status_code == 200, r.text
        return r.json()

    def deposit(self, receipt_id: str) -> dict:
        r = self.control("POST", f"/receipts/{receipt_id}/deposit")
        assert r.status_code == 200, r.text
        return r.json()

    def token(self) -> str:
        cfg = self.config
        r = httpx.post(self.v2 + "/request/token",
                       json={"application_id": cfg.application_id, "private_key": cfg.private_key}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def basic(self) -> dict[str, str]:
        pair = f"{self.config.client_key}:{self.config.secret_key}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def rest(self, method: str, path: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("headers", self.basic())
        return httpx.request(method, self.v2 + path, timeout=10, **kwargs)

    def deliveries(self, *, settled: int, timeout_s: float = 10.0, **filters) -> list[dict]:
        """The webhook log once `settled` matching records are no longer pending."""
        deadline = time.monotonic() + timeout_s
        while True:
            log = self.control("GET", "/webhooks", params=filters).json()["deliveries"]
            if sum(d["status"] != "pending" for d in log) >= settled or time.monotonic() > deadline:
                return log
            time.sleep(0.02)


@contextlib.contextmanager
def running_bootpay(**config) -> Iterator[Bootpay]:
    app = create_app(BootpayConfig(**{**FAST, **config}))
    with run_server(app) as base_url:
        yield Bootpay(base_url, app)


@pytest.fixture(scope="session")
def bootpay_session() -> Iterator[Bootpay]:
    with running_bootpay() as bp:
        yield bp


@pytest.fixture
def bootpay(bootpay_session: Bootpay) -> Iterator[Bootpay]:
    """The shared emulator, reset (receipts, tokens, faults, webhook log), sending no webhooks."""
    bootpay_session.control("POST", "/reset").raise_for_status()
    bootpay_session.config.webhook_url = None
    yield bootpay_session
    bootpay_session.config.webhook_url = None


# ---------------------------------------------------------------------- webhook receiver
@dataclass
class Receiver:
    """A merchant's webhook endpoint: records every POST and answers from `script` (in order),
    then with 200 {"success": true}."""

    base_url: str = ""
    received: list[dict] = field(default_factory=list)
    script: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.base_url + "/webhooks/bootpay"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.script.clear()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = json.loads(await request.body())
            with self.lock:
                self.received.append({"headers": dict(request.headers), "body": body})
                status, text = self.script.pop(0) if self.script else OK
            return Response(text, status_code=status, media_type="application/json")

        return Starlette(routes=[Route("/webhooks/bootpay", hook, methods=["POST"])])


@pytest.fixture(scope="session")
def receiver_session() -> Iterator[Receiver]:
    receiver = Receiver()
    with run_server(receiver.app()) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture
def receiver(receiver_session: Receiver, bootpay: Bootpay) -> Receiver:
    """The receiver, empty, and the emulator's webhook URL pointing at it."""
    receiver_session.clear()
    bootpay.config.webhook_url = receiver_session.url
    return receiver_session
