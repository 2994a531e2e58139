"""What the PortOne emulator (sandbox/*.py) and the Bootpay one (sandbox/bootpay/) do alike.

The network between a merchant and any gateway fails the same way, and both emulators keep their
ledger the same way, so the fault knobs and their wrapper around API routes, the webhook task
bookkeeping, the store's clock/lock/fault plumbing and the JSON body reader live here once. The
gateways' own vocabulary (envelopes, messages, retry rules, payloads) stays in each emulator.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:  # pragma: no cover
    from .persist import StateFile


# ---------------------------------------------------------------------- faults
@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    timeout_rate: float = 0.0
    timeout_s: float = 30.0
    malformed_rate: float = 0.0
    # When true an error/timeout fault is applied *after* the request was processed: the
    # operation happened but the client never learns it (the nastiest real-world case).
    process_before_fault: bool = False
    token_expired: bool = False
    endpoints: list[str] | None = None
    webhook_drop_rate: float = 0.0
    webhook_delay_ms: int = 0
    seed: int | None = None

    def view(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def hold(request: Request, seconds: float) -> None:
    """Sleep like a stuck upstream, but stop early once the client has hung up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await asyncio.sleep(min(0.1, remaining))
        if await request.is_disconnected():
            return


async def faulted(request: Request, store: "LedgerBase", template: str, run: Callable[[], Awaitable[Response]],
                  fault_response: Callable[[int, str, bool], Response]) -> Response:
    """`run` (the gateway's own handling) behind the injected faults of PUT /_control/faults:
    latency, a timeout, a 5xx, or a body cut in half. `fault_response(status, message, timed_out)`
    renders a fault in the gateway's error envelope."""
    faults = store.faults
    if faults.endpoints is not None and template not in faults.endpoints:
        return await run()
    if faults.latency_ms > 0:
        await asyncio.sleep(faults.latency_ms / 1000.0)
    rng = store.rng
    if faults.timeout_rate and rng.random() < faults.timeout_rate:
        if faults.process_before_fault:
            await run()
        await hold(request, faults.timeout_s)
        return fault_response(504, "[sandbox fault] upstream timed out", True)
    if faults.error_rate and rng.random() < faults.error_rate:
        if faults.process_before_fault:
            await run()
        return fault_response(faults.error_status, "[sandbox fault] 일시적인 서버 오류입니다.", False)
    response = await run()
    if faults.malformed_rate and rng.random() < faults.malformed_rate:
        # The operation happened; only its answer is cut off mid-body.
        body = bytes(response.body)
        return Response(content=body[: max(1, len(body) // 2)], status_code=200, media_type="application/json")
    return response


# ---------------------------------------------------------------------- store
class LedgerBase:
    """The lock, clock, fault settings, reset and webhook log of an emulator's store. A subclass
    sets `state` (a StateFile), `webhooks` (a WebhookTasks) and `time_offset_s`, and keeps the
    rest (`faults`, `rng`, `stats`, its ledger) in what `_reset_state` sets."""

    state: "StateFile"
    webhooks: "WebhookTasks"
    faults: Faults
    rng: random.Random
    time_offset_s: float
    stats: dict[str, int]
    _lock: asyncio.Lock | None = None
    _lock_loop: asyncio.AbstractEventLoop | None = None

    @property
    def lock(self) -> asyncio.Lock:
        """The ledger lock, bound to the running loop.

        An asyncio.Lock belongs to the loop it first waited on; tests that drive one app from
        several event loops (e.g. per-test loops over ASGITransport) would otherwise crash.
        """
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    def _reset_state(self) -> None:
        """Forget everything kept in memory: the ledger, tokens, faults, stats."""
        raise NotImplementedError

    async def reset(self) -> None:
        async with self.lock:
            await self.webhooks.reset()
            self._reset_state()
            self.state.clear(keep=("secret",))
            self.state.write([("meta", "clock", self.time_offset_s)])  # a reset never moves time back

    async def aclose(self) -> None:
        await self.webhooks.aclose()
        self.state.close()

    def save_webhook(self, record: dict) -> None:
        self.state.write([("webhook", str(record["id"]), record)])

    def clear_webhook_log(self) -> None:
        self.webhooks.log.clear()
        self.state.write(deletes=[("webhook", None)])

    def set_faults(self, faults: Faults, *, persist: bool = True) -> None:
        """Caller holds the lock (or is restoring the state file: persist=False)."""
        self.faults = faults
        self.rng = random.Random(faults.seed)
        if persist:
            self.state.write([("meta", "faults", faults.view())])

    def advance_clock(self, seconds: float) -> None:
        self.time_offset_s += seconds
        self.state.write([("meta", "clock", self.time_offset_s)])

    def now(self) -> float:
        return time.time() + self.time_offset_s

    def count(self, template: str) -> None:
        self.stats[template] = self.stats.get(template, 0) + 1


# ---------------------------------------------------------------------- webhooks
class WebhookTasks:
    """The background tasks that deliver webhook records, and the log of those records.

    A subclass builds the records (`_queue`) and sends one (`_deliver(record)`). A record
    still "pending" in the state file was under way when a process stopped; `resume` (once a loop
    runs) takes it up again, as the real gateway would keep retrying.
    """

    def __init__(self, store: Any):
        self.store = store
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task] = set()
        self._interrupted: list[dict[str, Any]] = []

    def restore(self, records: list[dict[str, Any]]) -> None:
        self.log = records
        self._interrupted = [r for r in records if r["status"] == "pending"]

    def resume(self) -> None:
        """Start again the deliveries an earlier process left unfinished (needs a running loop)."""
        interrupted, self._interrupted = self._interrupted, []
        for record in interrupted:
            self._start(record, delay_s=0.0)

    def _start(self, record: dict[str, Any], delay_s: float) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver_after(record, delay_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_after(self, record: dict[str, Any], delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        await self._deliver(record)

    async def _deliver(self, record: dict[str, Any]) -> None:
        """Send `record` until the gateway's retry rule says stop, saving it after each attempt."""
        raise NotImplementedError

    def _queue(self, record: dict[str, Any], *, dropped: bool) -> None:
        """Log a new record and send it after the delay knob, unless it has nowhere to go or the
        drop knob lost it."""
        self.log.append(record)
        if record["url"] is None:
            record["status"] = "no_url"
        elif dropped:
            record["status"] = "dropped"
        self.store.save_webhook(record)
        if record["status"] == "pending":
            self._start(record, delay_s=self.store.faults.webhook_delay_ms / 1000.0)

    def pending(self) -> int:
        return len(self._tasks)

    async def reset(self) -> None:
        await self.aclose()
        self.log.clear()
        self._interrupted.clear()

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


# ---------------------------------------------------------------------- control endpoints both have
async def delete_webhooks(request: Request, store: LedgerBase) -> Response:
    store.clear_webhook_log()
    return JSONResponse({"pending": store.webhooks.pending(), "deliveries": []})


async def get_stats(request: Request, store: LedgerBase) -> Response:
    return JSONResponse(dict(store.stats))


async def reset(request: Request, store: LedgerBase) -> Response:
    await store.reset()
    return JSONResponse({"reset": True})


# ---------------------------------------------------------------------- requests
def json_object(raw: bytes | str, invalid: Callable[[str], Exception], *, not_json: str, not_object: str) -> dict[str, Any]:
    """A JSON object body; blank is {}. Anything else raises `invalid(message)`."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise invalid(not_json) from None
    if not isinstance(data, dict):
        raise invalid(not_object)
    return data


def base_url(request: Request) -> str:
    """Absolute URL of the emulator's root, mount prefix included, without a trailing slash.

    Starlette's request.base_url deliberately points at the outermost app, so an emulator mounted
    at /sandbox/portone must build its own from scope["root_path"].
    """
    root = request.scope.get("root_path", "")
    return str(request.url.replace(path=root or "/", query="", fragment="")).rstrip("/")
