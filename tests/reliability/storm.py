"""Duplicate storm across processes: ``pointcharge serve --workers N`` behind one standalone sandbox.

Many users charge at once while every payment is also submitted ``repeats`` times by the mutation,
by webhooks (the sandbox's own, duplicated and delayed, plus forged/out-of-order ones: ``ready``,
``paid``, ``cancelled``, JSON and form) and by the mobile redirect (``GET /payments/complete``), all
interleaved. Optionally PortOne misbehaves (sandbox fault knobs) and workers are SIGKILLed at
random moments. Afterwards the invariants are checked against PostgreSQL and the sandbox:

* every paid payment credited exactly once, nothing credited for unpaid ones;
* ``UserPoint.amount == sum(ledger)`` for every user, and each user's balance is what they paid;
* ledger charge entries == paid payments; every mutation for one payment returned the same entry;
* no HTTP 5xx.

Run (PostgreSQL; the database is dropped and recreated)::

    .venv/bin/python -m tests.reliability.storm --payments 10000 --users 500 --workers 4
    .venv/bin/python -m tests.reliability.storm --payments 300 --crash-every 2        # SIGKILL storm
    .venv/bin/python -m tests.reliability.storm --payments 300 --faults '{"error_rate": 0.1}'

With ``--buying`` the users also list items (``createUseditem``) and, after each payment flow, buy
one: the same purchase sent ``buy_repeats`` times by its buyer plus once by another user racing for
it (``createPointTransactionOfBuyingAndSelling``); sellers now and then try their own items. Then
also: no item sold twice, every purchase a client saw succeed is in the database (and nothing else
is), sum(구매) == -sum(판매), no negative balance, and each balance == what the user paid - what they
bought + what they sold::

    .venv/bin/python -m tests.reliability.storm --payments 300 --buying

The pytest variants are in ``tests/reliability/test_storm.py`` (small by default;
``POINTCHARGE_STORM_PAYMENTS`` scales them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
STORM_DB = "pointcharge_storm"
PACKAGES = (1000, 5000, 10000, 30000, 50000, 100000)
CHARGE_STATUS = "충전"
TOKEN_RENEW_S = 20 * 60  # access tokens live 30 minutes

SIGNUP = "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }"
LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid amount } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
HISTORY = "{ fetchPointTransactionsOfLoading(page: 1) { _id amount } }"
CREATE_ITEM = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id price } }"
BUY = "mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { _id price buyer { _id } } }"
BUY_HISTORY = "{ fetchPointTransactionsOfBuying { _id amount useditem { _id } } fetchUseditems { _id price } }"
ITEM_PRICES = (1000, 2000, 3000, 5000, 10000, 30000)


@dataclass
class StormConfig:
    payments: int = 200
    users: int = 20
    repeats: int = 10  # per channel: mutation, webhook, redirect
    workers: int = 4
    concurrency: int = 8  # payment flows in flight (x 3*repeats requests each)
    unprepared_share: float = 0.2  # codecamp flow: no preparePointCharge, credited to the claimant
    failed_share: float = 0.1  # failed at PortOne; forged "paid" webhooks must change nothing
    crash_every_s: float = 0.0  # > 0: SIGKILL a random worker this often
    faults: dict = field(default_factory=dict)  # PortOne API fault knobs during the storm
    webhook_faults: dict = field(default_factory=lambda: {"webhook_duplicate": 1.0, "webhook_delay_ms": 100})
    seed: int = 1
    database_url: str = ""  # the storm database (created); derived from the admin URL when empty
    admin_url: str = DEFAULT_PG  # any database on the same server, to CREATE DATABASE from
    db_name: str = STORM_DB
    # Per worker: 4 workers x 10 = 40 connections at most, well under PostgreSQL's default 100
    # (the suite's own connections and a second storm must fit beside them).
    db_pool_size: int = 4
    db_max_overflow: int = 6
    request_timeout_s: float = 60.0
    verbose: bool = True
    # The buying mix (off by default: the storms above are charges only).
    buying: bool = False
    items_per_user: int = 10
    buy_repeats: int = 3  # the buyer sends each purchase this many times at once


@dataclass
class PaymentRecord:
    index: int
    kind: str  # prepared | unprepared | failed
    user: int
    amount: int
    merchant_uid: str | None = None
    imp_uid: str | None = None
    mutation_ids: set = field(default_factory=set)
    mutation_codes: Counter = field(default_factory=Counter)


@dataclass
class Report:
    config: dict
    duration_s: float = 0.0
    requests: int = 0
    requests_per_s: float = 0.0
    status: dict = field(default_factory=dict)
    http_5xx: int = 0
    transport_errors: int = 0
    mutation_codes: dict = field(default_factory=dict)
    latency_ms: dict = field(default_factory=dict)
    kills: int = 0
    sandbox_webhooks: int = 0
    live: dict = field(default_factory=dict)  # invariants right after the storm
    settled: dict = field(default_factory=dict)  # after replay + reconcile + client retries
    settle: dict = field(default_factory=dict)
    payments_paid: int = 0
    payments_unpaid: int = 0
    ledger_charges: int = 0
    buying: dict = field(default_factory=dict)  # the buying mix: answers and sales
    server_log_tail: list = field(default_factory=list)  # the API's last stderr lines (warnings and up)

    @property
    def violations(self) -> dict:
        final = self.settled or self.live
        out = {k: v for k, v in final.items() if v}
        if self.http_5xx:
            out["http_5xx"] = self.http_5xx
        # A masked internal error is a bug even when the money came out right.
        internal = sum(n for code, n in self.mutation_codes.items() if code.endswith(("INTERNAL_SERVER_ERROR", "NO_CODE")))
        if internal:
            out["internal_errors"] = internal
        return out


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def recreate_database(admin_url: str, name: str) -> str:
    """DROP + CREATE ``name`` on the server of ``admin_url``; returns its SQLAlchemy URL."""
    import asyncpg

    parts = urlsplit(admin_url.replace("+asyncpg", ""))
    conn = await asyncpg.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, database=(parts.path or "/postgres").lstrip("/") or "postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


def sandbox_defaults() -> object:
    from sandbox.portone.config import SandboxConfig

    return SandboxConfig()


def api_env(database_url: str, sandbox_url: str, cfg: StormConfig) -> dict[str, str]:
    sb = sandbox_defaults()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTCHARGE_")}
    env.update(
        POINTCHARGE_DATABASE_URL=database_url,
        POINTCHARGE_MODE="sandbox",
        POINTCHARGE_JWT_SECRET="storm-test-jwt-secret-0123456789abcdef",
        POINTCHARGE_SANDBOX_STATE=":memory:",  # no sandbox state file left in the checkout
        POINTCHARGE_ARGON2_TIME_COST="1",
        POINTCHARGE_ARGON2_MEMORY_KIB="1024",
        POINTCHARGE_ARGON2_PARALLELISM="1",
        POINTCHARGE_PORTONE_V1_BASE_URL=f"{sandbox_url}/v1",
        POINTCHARGE_PORTONE_IMP_KEY=sb.imp_key,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_IMP_SECRET=sb.imp_secret,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_V2_BASE_URL=f"{sandbox_url}/v2",
        POINTCHARGE_PORTONE_V2_SECRET=sb.v2_api_secret,  # type: ignore[attr-defined]
        POINTCHARGE_BOOTPAY_ENABLED="false",  # PortOne storms; N workers refuse a mounted Bootpay sandbox
        POINTCHARGE_PORTONE_STORE_ID=sb.store_id,  # type: ignore[attr-defined]
        POINTCHARGE_PORTONE_TIMEOUT_S="5",
        POINTCHARGE_DB_POOL_SIZE=str(cfg.db_pool_size),
        POINTCHARGE_DB_MAX_OVERFLOW=str(cfg.db_max_overflow),
        # A handful of users send thousands of charges in minutes: this is a load test, not abuse.
        POINTCHARGE_RATE_LIMIT_CHARGE="off",
        POINTCHARGE_RATE_LIMIT_PREPARE="off",
        POINTCHARGE_RATE_LIMIT_ITEM="off",
        # Every user signs up, and every webhook and redirect comes, from 127.0.0.1: raised, not
        # off, so the per-address counting stays in the path (issue 18's limits).
        POINTCHARGE_RATE_LIMIT_SIGNUP="1000000/minute",
        POINTCHARGE_RATE_LIMIT_WEBHOOK="1000000/minute",
        POINTCHARGE_RATE_LIMIT_CANCEL="1000000/minute",
        POINTCHARGE_LOG_LEVEL="warning",
    )
    return env


# Four workers took 54 s to answer on the shared 2-core machine at load 16 (2026-12-02): 30 s was not
# enough there; a healthy start is a few seconds and is not slowed by the longer bound.
def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode()[-3000:] if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"{url} did not come up (exit {proc.poll()}): {err}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def running(cmd: list[str], env: dict[str, str], ready_url: str) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_http(ready_url, proc)
        # Drain stderr in the background so a chatty process never blocks on a full pipe.
        import threading

        tail: list[bytes] = []

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                tail.append(line)
                del tail[:-200]

        threading.Thread(target=drain, daemon=True).start()
        proc.stderr_tail = tail  # type: ignore[attr-defined]
        yield proc
    finally:
        stop(proc)


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes (children of the supervisor)."""
    pids: list[int] = []
    try:
        for task in Path(f"/proc/{parent}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(c) for c in children)
    except OSError:
        pass
    # uvicorn may also keep a resource tracker child around; keep those that run our app.
    workers = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            workers.append(pid)
    return workers


def cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


# --- the storm ---------------------------------------------------------------------------------


def client(base_url: str, timeout: float) -> httpx.AsyncClient:
    """httpx's API on aiohttp's connection pool: httpx's own pool serialises hundreds of concurrent
    requests (docs/PERFORMANCE.md), which would make the load generator the bottleneck."""
    # Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive timeout: reusing one
    # the server is closing at that very moment fails the request (a client-side race, not ours).
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=128, keepalive_expiry=2.0)
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=AiohttpTransport(limits=limits))


class Driver:
    def __init__(self, cfg: StormConfig, api: str, sandbox: str) -> None:
        self.cfg = cfg
        self.api = api
        self.sandbox = sandbox
        self.rng = random.Random(cfg.seed)
        self.http = client(api, cfg.request_timeout_s)
        self.sb = client(sandbox, cfg.request_timeout_s)
        self.status: Counter = Counter()
        self.transport_errors = 0
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.tokens: list[str] = []
        self.token_at: list[float] = []
        self.token_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.user_ids: list[str] = []
        # the buying mix
        self.items: list[dict] = []  # {"id", "price", "seller": user index}
        self.buy_codes: Counter = Counter()
        self.bought_ok: dict[str, set[int]] = defaultdict(set)  # item id -> users a purchase told OK
        self.buy_unknown: set[tuple[str, int]] = set()  # (item, user): transport error or 5xx

    async def close(self) -> None:
        await self.http.aclose()
        await self.sb.aclose()

    async def request(self, kind: str, method: str, url: str, **kw: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.TransportError:
            self.transport_errors += 1  # a worker was killed under this request (crash mode)
            return None
        self.latency[kind].append((time.perf_counter() - started) * 1000)
        self.status[(kind, response.status_code)] += 1
        return response

    async def gql(self, kind: str, query: str, variables: dict, token: str | None = None) -> dict | None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.request(kind, "POST", "/graphql", json={"query": query, "variables": variables}, headers=headers)
        if response is None or response.status_code >= 500:
            return None
        return response.json()

    async def login_users(self) -> None:
        async def one(i: int) -> str:
            email, password = f"storm{i}@example.com", "password123"
            for _ in range(5):
                await self.gql("signup", SIGNUP, {"i": {"email": email, "password": password, "name": f"폭풍{i}"}})
                login = await self.gql("login", LOGIN, {"e": email, "p": password})
                if login and login.get("data"):
                    return login["data"]["loginUser"]["accessToken"]
                await asyncio.sleep(0.5)
            raise RuntimeError(f"user {i} could not log in: {login}")

        async def me(token: str) -> str:
            result = await self.gql("me", "{ fetchUserLoggedIn { _id } }", {}, token)
            assert result and result.get("data"), result
            return result["data"]["fetchUserLoggedIn"]["_id"]

        sem = asyncio.Semaphore(8)

        async def bounded(i: int) -> str:
            async with sem:
                return await one(i)

        self.tokens = list(await asyncio.gather(*(bounded(i) for i in range(self.cfg.users))))
        self.token_at = [time.monotonic()] * len(self.tokens)
        if self.cfg.buying:
            self.user_ids = list(await asyncio.gather(*(me(t) for t in self.tokens)))

    async def list_items(self) -> None:
        """Every user puts ``items_per_user`` items up for sale (prices the server will charge)."""
        sem = asyncio.Semaphore(8)

        async def one(user: int, n: int) -> None:
            price = self.rng.choice(ITEM_PRICES)
            item = {"name": f"폭풍 상품 {user}-{n}", "remarks": "storm", "contents": "storm", "price": price}
            async with sem:
                for _ in range(5):
                    result = await self.gql("create_item", CREATE_ITEM, {"i": item}, await self.token(user))
                    if result and result.get("data"):
                        self.items.append({"id": result["data"]["createUseditem"]["_id"], "price": price, "seller": user})
                        return
                    await asyncio.sleep(0.3)
            raise RuntimeError(f"user {user} could not list an item: {result}")

        await asyncio.gather(*(one(u, n) for u in range(self.cfg.users) for n in range(self.cfg.items_per_user)))

    async def buy(self, item: dict, user: int) -> None:
        await asyncio.sleep(self.rng.random() * 0.05)
        result = await self.gql("buy", BUY, {"id": item["id"]}, await self.token(user))
        if result is None:
            self.buy_codes["transport_or_5xx"] += 1
            self.buy_unknown.add((item["id"], user))
            return
        if result.get("errors"):
            self.buy_codes[(result["errors"][0].get("extensions") or {}).get("code", "NO_CODE")] += 1
            return
        sold = result["data"]["createPointTransactionOfBuyingAndSelling"]
        if sold["price"] != item["price"] or sold["buyer"]["_id"] != self.user_ids[user]:
            self.buy_codes["WRONG_ANSWER"] += 1
        self.buy_codes["OK"] += 1
        self.bought_ok[item["id"]].add(user)

    async def buy_round(self, user: int) -> None:
        """One purchase: the buyer sends it ``buy_repeats`` times at once and another user races for
        the same item; one round in ten, the seller tries its own item too."""
        item = self.rng.choice(self.items)
        rival = self.rng.randrange(self.cfg.users)
        buyers = [user] * self.cfg.buy_repeats + [rival]
        if self.rng.random() < 0.1:
            buyers.append(item["seller"])
        await asyncio.gather(*(self.buy(item, b) for b in buyers))
        await self.gql("history", BUY_HISTORY, {}, await self.token(user))

    async def token(self, user: int) -> str:
        """The user's access token, renewed by logging in again before its 30 minutes run out (as a
        frontend's restoreAccessToken would): a long storm outlives the first tokens."""
        if time.monotonic() - self.token_at[user] > TOKEN_RENEW_S:
            async with self.token_locks[user]:
                if time.monotonic() - self.token_at[user] > TOKEN_RENEW_S:
                    login = await self.gql("login", LOGIN, {"e": f"storm{user}@example.com", "p": "password123"})
                    if login and login.get("data"):
                        self.tokens[user] = login["data"]["loginUser"]["accessToken"]
                        self.token_at[user] = time.monotonic()
        return self.tokens[user]

    def plan(self) -> list[PaymentRecord]:
        records = []
        for i in range(self.cfg.payments):
            r = self.rng.random()
            kind = "failed" if r < self.cfg.failed_share else (
                "unprepared" if r < self.cfg.failed_share + self.cfg.unprepared_share else "prepared")
            amount = self.rng.choice(PACKAGES) if kind != "unprepared" else 100 * self.rng.randint(1, 500)
            records.append(PaymentRecord(index=i, kind=kind, user=i % self.cfg.users, amount=amount))
        return records

    async def pay(self, rec: PaymentRecord) -> bool:
        token = await self.token(rec.user)
        if rec.kind != "unprepared":
            for _ in range(5):
                order = await self.gql("prepare", PREPARE, {"a": rec.amount}, token)
                if order and order.get("data"):
                    rec.merchant_uid = order["data"]["preparePointCharge"]["merchantUid"]
                    break
                await asyncio.sleep(0.3)
            else:
                return False
        body: dict = {"amount": rec.amount, "webhook": True, "outcome": "failed" if rec.kind == "failed" else "paid"}
        if rec.merchant_uid:
            body["merchant_uid"] = rec.merchant_uid
        response = await self.sb.post("/_control/payments", json=body)
        response.raise_for_status()
        paid = response.json()
        rec.imp_uid, rec.merchant_uid = paid["imp_uid"], paid["merchant_uid"]
        return True

    def actions(self, rec: PaymentRecord, token: str) -> list:
        out = []
        for i in range(self.cfg.repeats):
            out.append(self.mutation(rec, token))
            status = self.rng.choice(["paid", "paid", "ready", "cancelled"])
            out.append(self.webhook(rec, status, form=i % 2 == 1))
            out.append(self.redirect(rec))
        self.rng.shuffle(out)
        return out

    async def mutation(self, rec: PaymentRecord, token: str) -> None:
        await asyncio.sleep(self.rng.random() * 0.05)
        result = await self.gql("mutation", CHARGE, {"i": rec.imp_uid}, token)
        if result is None:
            rec.mutation_codes["transport_or_5xx"] += 1
            return
        if result.get("errors"):
            rec.mutation_codes[(result["errors"][0].get("extensions") or {}).get("code", "NO_CODE")] += 1
        else:
            rec.mutation_ids.add(result["data"]["createPointTransactionOfLoading"]["_id"])
            rec.mutation_codes["OK"] += 1

    async def webhook(self, rec: PaymentRecord, status: str, *, form: bool) -> None:
        await asyncio.sleep(self.rng.random() * 0.05)
        body = {"imp_uid": rec.imp_uid, "merchant_uid": rec.merchant_uid, "status": status}
        await self.request("webhook", "POST", "/webhooks/portone", **({"data": body} if form else {"json": body}))

    async def redirect(self, rec: PaymentRecord) -> None:
        await asyncio.sleep(self.rng.random() * 0.05)
        await self.request(
            "redirect", "GET", "/payments/complete",
            params={"imp_uid": rec.imp_uid, "merchant_uid": rec.merchant_uid, "imp_success": "true"},
        )

    async def storm(self, records: list[PaymentRecord]) -> None:
        sem = asyncio.Semaphore(self.cfg.concurrency)
        done = 0
        started = time.monotonic()

        async def flow(rec: PaymentRecord) -> None:
            nonlocal done
            async with sem:
                if await self.pay(rec):
                    await asyncio.gather(*self.actions(rec, await self.token(rec.user)))
                    if self.cfg.buying and self.items:
                        await self.buy_round(rec.user)
                    # and the user looks at their history meanwhile
                    await self.gql("history", HISTORY, {}, await self.token(rec.user))
            done += 1
            if self.cfg.verbose and done % max(1, len(records) // 10) == 0:
                rate = done / max(time.monotonic() - started, 1e-6)
                print(f"  storm: {done}/{len(records)} payments ({rate:.1f}/s)", flush=True)

        await asyncio.gather(*(flow(r) for r in records))


async def killer(serve: subprocess.Popen, every_s: float, stop_event: asyncio.Event, rng: random.Random) -> int:
    kills = 0
    while not stop_event.is_set():
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=every_s * (0.5 + rng.random()))
        except TimeoutError:
            pass
        if stop_event.is_set():
            break
        pids = worker_pids(serve.pid)
        if pids:
            victim = rng.choice(pids)
            try:
                os.kill(victim, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    return kills


# --- invariants --------------------------------------------------------------------------------


async def wait_quiet(database_url: str, sandbox: str, timeout: float = 120.0, orphan_after_s: int = 30) -> None:
    """Until the sandbox has no webhook left to send and no delivery is still being processed
    (a delivery ``received`` longer than ``orphan_after_s`` ago lost its worker: replay's job)."""
    engine = create_async_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        async with httpx.AsyncClient(base_url=sandbox, timeout=10) as sb:
            while time.monotonic() < deadline:
                pending = (await sb.get("/_control/webhooks")).json()["pending"]
                async with engine.connect() as conn:
                    received = (await conn.execute(text(
                        "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'received' "
                        "AND received_at > now() - make_interval(secs => :s)"), {"s": orphan_after_s})).scalar_one()
                if not pending and not received:
                    return
                await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def check(database_url: str, records: list[PaymentRecord], driver: Driver | None = None) -> dict[str, int]:
    buying = driver is not None and driver.cfg.buying
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            charges = dict((await conn.execute(
                text("SELECT payment_key, COUNT(*) FROM point_transactions WHERE status = :s GROUP BY payment_key"),
                {"s": CHARGE_STATUS})).all())
            balances = (await conn.execute(text(
                "SELECT p.user_id, u.email, p.amount, COALESCE((SELECT SUM(t.amount) FROM point_transactions t "
                "WHERE t.user_id = p.user_id), 0) FROM user_points p JOIN users u ON u.id = p.user_id"))).all()
            sales = (await conn.execute(text(
                "SELECT i.id, i.price, b.email, s.email FROM useditems i JOIN users b ON b.id = i.buyer_id "
                "JOIN users s ON s.id = i.seller_id"))).all() if buying else []
            sums = (await conn.execute(text(
                "SELECT status, COALESCE(SUM(amount), 0), COUNT(*) FROM point_transactions "
                "WHERE status IN ('구매', '판매') GROUP BY status"))).all() if buying else []
            wrong_entries = (await conn.execute(text(
                "SELECT COUNT(*) FROM useditems i WHERE (i.buyer_id IS NOT NULL AND ("
                " (SELECT COALESCE(SUM(t.amount), 0) FROM point_transactions t WHERE t.useditem_id = i.id"
                "   AND t.status = '구매' AND t.user_id = i.buyer_id) <> -i.price OR"
                " (SELECT COALESCE(SUM(t.amount), 0) FROM point_transactions t WHERE t.useditem_id = i.id"
                "   AND t.status = '판매' AND t.user_id = i.seller_id) <> i.price OR"
                " (SELECT COUNT(*) FROM point_transactions t WHERE t.useditem_id = i.id) <> 2))"
                " OR (i.buyer_id IS NULL AND EXISTS (SELECT 1 FROM point_transactions t WHERE t.useditem_id = i.id))"
            ))).scalar_one() if buying else 0
    finally:
        await engine.dispose()
    paid = [r for r in records if r.imp_uid and r.kind != "failed"]
    unpaid = {r.imp_uid for r in records if r.imp_uid and r.kind == "failed"}
    expected: Counter = Counter()
    for r in paid:
        expected[f"storm{r.user}@example.com"] += r.amount
    buying_out: dict[str, int] = {}
    if buying:
        assert driver is not None
        email = lambda user: f"storm{user}@example.com"  # noqa: E731
        db_buyer = {item_id: buyer for item_id, _, buyer, _ in sales}
        for item_id, price, buyer, seller in sales:
            expected[buyer] -= price
            expected[seller] += price
        by_status = {status: (int(total), int(n)) for status, total, n in sums}
        buy_sum, buy_n = by_status.get("구매", (0, 0))
        sell_sum, sell_n = by_status.get("판매", (0, 0))
        buying_out = {
            # two different users were told the same item is theirs
            "items_sold_twice": sum(1 for users in driver.bought_ok.values() if len(users) > 1),
            # a client was told OK and the database says otherwise
            "acknowledged_sales_missing": sum(
                1 for item_id, users in driver.bought_ok.items() if any(db_buyer.get(item_id) != email(u) for u in users)
            ),
            # the database has a sale no client was told about, and none lost its answer
            "unexplained_sales": sum(
                1 for item_id, _, buyer, _ in sales
                if not any(email(u) == buyer for u in driver.bought_ok.get(item_id, ()))
                and not any(i == item_id and email(u) == buyer for i, u in driver.buy_unknown)
            ),
            "buy_sum_ne_minus_sell_sum": int(buy_sum + sell_sum != 0),
            "sale_entries_ne_sold_items": abs(buy_n - len(sales)) + abs(sell_n - len(sales)),
            "sale_entries_wrong": int(wrong_entries),
            "negative_balances": sum(1 for _, _, cached, _ in balances if cached < 0),
            "wrong_buy_answers": driver.buy_codes.get("WRONG_ANSWER", 0),
        }
    out = {
        "double_credits": sum(1 for r in paid if charges.get(r.imp_uid, 0) > 1),
        "lost_payments": sum(1 for r in paid if charges.get(r.imp_uid, 0) == 0),
        "credits_for_unpaid": sum(1 for k in charges if k in unpaid),
        "unknown_credits": sum(1 for k in charges if k not in {r.imp_uid for r in records}),
        "ledger_entries_minus_paid": sum(charges.values()) - len(paid),
        "balance_ne_ledger": sum(1 for _, _, cached, summed in balances if cached != summed),
        "wrong_user_balance": sum(1 for _, email, cached, _ in balances if cached != expected.get(email, 0)),
        "mutation_ids_disagree": sum(1 for r in records if len(r.mutation_ids) > 1),
        **buying_out,
    }
    return out


async def settle(env: dict[str, str], driver: Driver, records: list[PaymentRecord]) -> dict:
    """What happens after an incident: replay stored webhooks, reconcile, and users retry once."""
    out: dict = {}
    replay = await asyncio.to_thread(cli, env, "webhooks", "replay")
    out["replay"] = replay.stdout.strip().splitlines()[-1:] if replay.stdout else replay.stderr[-300:]
    rec = await asyncio.to_thread(cli, env, "reconcile", "--days", "1", "--apply", "--json")
    try:
        report = json.loads(rec.stdout)
        out["reconcile_fixed"] = Counter(d["kind"] for d in report["differences"] if d["fixed"])
        out["reconcile_remaining"] = Counter(d["kind"] for d in report["differences"] if not d["fixed"])
    except (json.JSONDecodeError, KeyError):
        out["reconcile_error"] = (rec.stdout + rec.stderr)[-500:]
    retried = 0
    sem = asyncio.Semaphore(16)

    async def retry(r: PaymentRecord) -> None:
        nonlocal retried
        if r.imp_uid and r.kind != "failed" and not r.mutation_ids:
            async with sem:
                retried += 1
                await driver.mutation(r, await driver.token(r.user))

    await asyncio.gather(*(retry(r) for r in records))
    out["client_retries"] = retried
    final = await asyncio.to_thread(cli, env, "reconcile", "--days", "1", "--json")
    try:
        out["final_reconcile_remaining"] = Counter(
            d["kind"] for d in json.loads(final.stdout)["differences"] if not d["fixed"])
    except (json.JSONDecodeError, KeyError):
        out["final_reconcile_error"] = (final.stdout + final.stderr)[-500:]
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)
    q = lambda p: values[min(len(values) - 1, int(p * len(values)))]  # noqa: E731
    return {"p50": round(q(0.5), 1), "p95": round(q(0.95), 1), "p99": round(q(0.99), 1),
            "max": round(values[-1], 1), "mean": round(statistics.fmean(values), 1)}


async def run_storm(cfg: StormConfig) -> Report:
    report = Report(config=asdict(cfg))
    database_url = cfg.database_url or await recreate_database(cfg.admin_url, cfg.db_name)
    api_port, sandbox_port = free_port(), free_port()
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    env = api_env(database_url, sandbox_url, cfg)
    migrated = cli(env, "migrate", timeout=120)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stderr[-2000:])
    sandbox_cmd = [sys.executable, "-m", "api.cli", "sandbox", "--port", str(sandbox_port),
                   "--webhook-url", f"{api_url}/webhooks/portone", "--log-level", "warning"]
    serve_cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(api_port),
                 "--workers", str(cfg.workers), "--log-level", "warning"]
    with running(sandbox_cmd, env, sandbox_url + "/_control/stats"), running(serve_cmd, env, api_url + "/healthz") as serve:
        # every worker up before the clock starts
        deadline = time.monotonic() + 30
        while len(worker_pids(serve.pid)) < cfg.workers and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        driver = Driver(cfg, api_url, sandbox_url)
        try:
            await driver.sb.put("/_control/faults", json={**cfg.webhook_faults, **cfg.faults, "seed": cfg.seed})
            await driver.login_users()
            if cfg.buying:
                await driver.list_items()
            records = driver.plan()
            stop_event = asyncio.Event()
            kill_task = (asyncio.create_task(killer(serve, cfg.crash_every_s, stop_event, random.Random(cfg.seed)))
                         if cfg.crash_every_s > 0 else None)
            started = time.monotonic()
            await driver.storm(records)
            report.duration_s = round(time.monotonic() - started, 1)
            stop_event.set()
            if kill_task is not None:
                report.kills = await kill_task
            await driver.sb.delete("/_control/faults")  # PortOne is fine again
            await wait_quiet(database_url, sandbox_url, orphan_after_s=5 if cfg.crash_every_s else 30)
            report.live = await check(database_url, records, driver)
            report.sandbox_webhooks = len((await driver.sb.get("/_control/webhooks")).json()["deliveries"])
            needs_settle = bool(cfg.crash_every_s or cfg.faults or any(report.live.values()))
            if needs_settle:
                # workers restarted by uvicorn's supervisor by now; make sure they are up
                deadline = time.monotonic() + 30
                while len(worker_pids(serve.pid)) < cfg.workers and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                wait_http(api_url + "/healthz", serve)
                report.settle = await settle(env, driver, records)
                report.settled = await check(database_url, records, driver)
        finally:
            await driver.close()
            tail = getattr(serve, "stderr_tail", [])
            report.server_log_tail = [line.decode(errors="replace").rstrip()[:300] for line in tail[-15:]]
    report.requests = sum(driver.status.values())
    report.requests_per_s = round(report.requests / max(report.duration_s, 1e-6), 1)
    report.status = {f"{k} {s}": n for (k, s), n in sorted(driver.status.items())}
    report.http_5xx = sum(n for (_, s), n in driver.status.items() if s >= 500)
    report.transport_errors = driver.transport_errors
    codes: Counter = Counter()
    for r in records:
        for code, n in r.mutation_codes.items():
            codes[f"{r.kind}:{code}"] += n
    report.mutation_codes = dict(sorted(codes.items()))
    report.latency_ms = {k: percentiles(v) for k, v in driver.latency.items()}
    if cfg.buying:
        report.buying = {
            "items": len(driver.items),
            "answers": dict(sorted(driver.buy_codes.items())),
            "items_sold": sum(1 for users in driver.bought_ok.values() if users),
        }
    report.payments_paid = sum(1 for r in records if r.imp_uid and r.kind != "failed")
    report.payments_unpaid = sum(1 for r in records if r.imp_uid and r.kind == "failed")
    report.ledger_charges = report.payments_paid - (report.settled or report.live).get("lost_payments", 0) + (
        report.settled or report.live).get("double_credits", 0)
    return report


def plain(value: object) -> object:
    """JSON-safe: dict keys as strings, all the way down."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.reliability.storm", description=__doc__.split("\n\n")[0])
    p.add_argument("--payments", type=int, default=200)
    p.add_argument("--users", type=int, default=None, help="default: payments/10, at least 5")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--crash-every", type=float, default=0.0, help="SIGKILL a random worker every ~N seconds")
    p.add_argument("--faults", default="{}", help='PortOne fault knobs, JSON (e.g. {"error_rate": 0.1})')
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--admin-url", default=os.environ.get("POINTCHARGE_TEST_DATABASE_URL", DEFAULT_PG))
    p.add_argument("--db-name", default=STORM_DB, help="database to (re)create for the run (default: %(default)s)")
    p.add_argument("--buying", action="store_true", help="add the buying mix (items listed and bought)")
    p.add_argument("--items-per-user", type=int, default=10)
    p.add_argument("--json", dest="json_out", help="write the report here")
    args = p.parse_args(argv)
    cfg = StormConfig(
        payments=args.payments, users=args.users or max(5, args.payments // 10), repeats=args.repeats,
        workers=args.workers, concurrency=args.concurrency, crash_every_s=args.crash_every,
        faults=json.loads(args.faults), seed=args.seed, admin_url=args.admin_url, db_name=args.db_name,
        buying=args.buying, items_per_user=args.items_per_user,
    )
    report = asyncio.run(run_storm(cfg))
    data = plain({**asdict(report), "violations": report.violations})
    text_out = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    print(text_out)
    if args.json_out:
        Path(args.json_out).write_text(text_out + "\n", encoding="utf-8")
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
