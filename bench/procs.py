"""Processes and fixtures for the benchmarks: sandbox, API, floor, databases, users, payments, RSS."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

try:
    import psutil
except ImportError:  # the bench extra; what needs it fails when called (the billing bench reads /proc)
    psutil = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST_DSN = PG_ADMIN_DSN.rsplit("/", 1)[0]  # postgresql://postgres@127.0.0.1:5432
IMP_KEY, IMP_SECRET = "sandbox_imp_key", "sandbox_imp_secret"  # sandbox/portone/config.py defaults
PAYMENT_TEMPLATE = "GET /v1/payments/{imp_uid}"
# The API runs as deployed: access log on (info). BENCH_API_LOG_LEVEL=warning measures without it.
API_LOG_LEVEL = os.environ.get("BENCH_API_LOG_LEVEL", "info")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A server we started, in its own session so that it and its workers stop together."""

    def __init__(self, name: str, cmd: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.name = name
        self.log_path = log
        self._log = open(log, "ab")
        full_env = {**os.environ, **env}
        self.popen = subprocess.Popen(
            cmd, env=full_env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_http(self, url: str, timeout_s: float = 60.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready at {url} after {timeout_s}s; see {self.log_path}")

    def workers(self) -> list[psutil.Process]:
        """The processes that serve requests: uvicorn's workers, or the process itself."""
        try:
            parent = psutil.Process(self.pid)
            kids = [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]
        except psutil.Error:
            return []
        return kids or [parent]

    def cpu_s(self) -> float:
        """CPU seconds used so far by the process and its children (workers)."""
        total = 0.0
        try:
            parent = psutil.Process(self.pid)
            for p in [parent, *parent.children(recursive=True)]:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        return total

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGINT)  # our own process group (start_new_session)
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()


@dataclass
class RssMonitor:
    """Samples the RSS of a server's worker processes; peak per worker since the last reset."""

    proc: Proc
    interval_s: float = 0.05
    peaks: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "RssMonitor":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in self.proc.workers():
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                if rss > self.peaks.get(p.pid, 0):
                    self.peaks[p.pid] = rss
            self._stop.wait(self.interval_s)

    def reset(self) -> None:
        self.peaks = {}

    def peak_mb(self) -> float:
        return round(max(self.peaks.values(), default=0) / 2**20, 1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def postgres_cpu_s() -> float:
    total = 0.0
    for p in psutil.process_iter(["name"]):
        if p.info["name"] and p.info["name"].startswith("postgres"):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


def machine_busy_s() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


# --- databases ---------------------------------------------------------------------------------


async def recreate_pg_database(name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{PG_HOST_DSN}/{name}"


def pg_available() -> bool:
    async def probe() -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def sqlalchemy_url(dsn: str) -> str:
    """postgresql://... -> postgresql+asyncpg://...; sqlite:///x -> sqlite+aiosqlite:///x."""
    if dsn.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + dsn[len("sqlite:///"):]
    return "postgresql+asyncpg://" + dsn.split("://", 1)[1]


# --- servers -----------------------------------------------------------------------------------


def start_sandbox(workdir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        "sandbox",
        # In memory, as the sandbox was when docs/PERFORMANCE.md's numbers were taken: PortOne's
        # own storage is not what the bench measures.
        [str(BIN / "pointcharge"), "sandbox", "--port", str(port), "--log-level", "warning", "--state", ":memory:"],
        env={},
        cwd=workdir,
        log=workdir / "sandbox.log",
    )
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(base + "/_control/stats")
    return proc, base


def api_env(database_dsn: str, sandbox_base: str) -> dict[str, str]:
    return {
        "POINTCHARGE_MODE": "sandbox",
        "POINTCHARGE_DATABASE_URL": sqlalchemy_url(database_dsn),
        "POINTCHARGE_PORTONE_V1_BASE_URL": sandbox_base + "/v1",
        "POINTCHARGE_PORTONE_IMP_KEY": IMP_KEY,
        "POINTCHARGE_PORTONE_IMP_SECRET": IMP_SECRET,
        "POINTCHARGE_JWT_SECRET": "bench-jwt-secret-0123456789-abcdefghijklmnop",
        "POINTCHARGE_LOG_LEVEL": API_LOG_LEVEL,
        # The log format production uses (sandbox mode alone would pick the console renderer).
        "POINTCHARGE_LOG_FORMAT": "json",
        # The per-user charge limit (120/minute) is policy, not capacity: a load test of 32 users
        # exceeds it by design. Raised, not switched off, so that its cost stays in the path.
        "POINTCHARGE_RATE_LIMIT_CHARGE": "1000000/minute",
        "POINTCHARGE_RATE_LIMIT_PREPARE": "1000000/minute",  # the Bootpay scenario prepares its orders
        # Sign-ups, webhooks and redirects all come from 127.0.0.1 here (issue 18's per-address limits).
        "POINTCHARGE_RATE_LIMIT_SIGNUP": "1000000/minute",
        "POINTCHARGE_RATE_LIMIT_WEBHOOK": "1000000/minute",
    }


def migrate(env: dict[str, str], workdir: Path) -> None:
    subprocess.run(
        [str(BIN / "pointcharge"), "migrate"], env={**os.environ, **env}, cwd=workdir, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def start_api(env: dict[str, str], workers: int, workdir: Path, tag: str) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        f"api-{tag}",
        [str(BIN / "pointcharge"), "serve", "--port", str(port), "--workers", str(workers), "--log-level", API_LOG_LEVEL],
        env=env,
        cwd=workdir,
        log=workdir / f"api-{tag}.log",
    )
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(base + "/readyz", timeout_s=120)
    wait_workers(proc, workers)
    return proc, base


def start_floor(database_dsn: str, sandbox_base: str, workers: int, workdir: Path, tag: str) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(
        f"floor-{tag}",
        [str(sys.executable), "-m", "bench.floor", "--port", str(port), "--workers", str(workers)],
        env={
            "FLOOR_DATABASE": database_dsn,
            "FLOOR_PORTONE_V1": sandbox_base + "/v1",
            "FLOOR_IMP_KEY": IMP_KEY,
            "FLOOR_IMP_SECRET": IMP_SECRET,
            "PYTHONPATH": str(ROOT),
        },
        cwd=workdir,
        log=workdir / f"floor-{tag}.log",
    )
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(base + "/healthz")
    wait_workers(proc, workers)
    return proc, base


def wait_workers(proc: Proc, workers: int, timeout_s: float = 60) -> None:
    """With N workers the first answer comes from one of them: give the others time to start."""
    if workers <= 1:
        return
    deadline = time.monotonic() + timeout_s
    while len(proc.workers()) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3.0)  # imports + lifespan of the last worker


# --- fixtures over HTTP ------------------------------------------------------------------------


async def create_payments(sandbox_base: str, n: int, amount: int = 1000, concurrency: int = 16) -> list[str]:
    """Paid V1 payments, through the control API; returns their imp_uids."""
    out: list[str] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def one() -> str:
            async with s.post(
                sandbox_base + "/_control/payments", json={"amount": amount, "webhook": False}
            ) as r:
                r.raise_for_status()
                return (await r.json())["imp_uid"]

        async def worker(k: int) -> None:
            for _ in range(k):
                out.append(await one())

        per, extra = divmod(n, concurrency)
        await asyncio.gather(*(worker(per + (1 if i < extra else 0)) for i in range(concurrency)))
    return out


async def sandbox_stats(sandbox_base: str, *, reset: bool = False) -> dict[str, int]:
    async with aiohttp.ClientSession() as s:
        if reset:
            async with s.delete(sandbox_base + "/_control/stats") as r:
                r.raise_for_status()
            return {}
        async with s.get(sandbox_base + "/_control/stats") as r:
            return await r.json()


async def sandbox_faults(sandbox_base: str, **knobs: object) -> None:
    """Sets the sandbox's injected faults (``latency_ms``, …); none: clears them."""
    async with aiohttp.ClientSession() as s:
        if knobs:
            async with s.put(sandbox_base + "/_control/faults", json=knobs) as r:
                r.raise_for_status()
        else:
            async with s.delete(sandbox_base + "/_control/faults") as r:
                r.raise_for_status()


async def graphql(session: aiohttp.ClientSession, base: str, query: str, variables: dict, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.post(base + "/graphql", json={"query": query, "variables": variables}, headers=headers) as r:
        body = await r.json()
    if body.get("errors"):
        raise RuntimeError(json.dumps(body["errors"], ensure_ascii=False))
    return body["data"]


async def create_users(api_base: str, n: int, prefix: str) -> list[tuple[str, str]]:
    """createUser + loginUser through GraphQL, one at a time (Argon2 is meant to be slow).

    Returns [(user_id, access_token)].
    """
    users: list[tuple[str, str]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
        for i in range(n):
            email = f"{prefix}{i}@bench.example.com"
            created = await graphql(
                s, api_base,
                "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
                {"i": {"email": email, "password": "benchpassword123", "name": f"벤치{i}"}},
            )
            login = await graphql(
                s, api_base,
                "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }",
                {"e": email, "p": "benchpassword123"},
            )
            users.append((created["createUser"]["_id"], login["loginUser"]["accessToken"]))
    return users


async def create_floor_users(floor_base: str, user_ids: list[str]) -> None:
    async with aiohttp.ClientSession() as s:
        for uid in user_ids:
            async with s.post(floor_base + "/users", json={"user_id": uid}) as r:
                r.raise_for_status()
