"""The bare I/O floor: the least a charge can cost with the same I/O as pointcharge.

Starlette + one aiohttp GET to the (fake) PortOne + one raw-driver transaction that updates the
balance and inserts the ledger entry (unique entry key: a payment credits once). No GraphQL, no
ORM, no JWT. pointcharge is measured against this in the same run (``python -m bench run``).

    FLOOR_DATABASE=sqlite:///path.db | postgresql://user@host/db
    FLOOR_PORTONE_V1=http://127.0.0.1:8099/v1  FLOOR_IMP_KEY=...  FLOOR_IMP_SECRET=...
    uvicorn --factory bench.floor:app_factory --port 8200 [--workers N]

``POST /users {"user_id"}`` opens a balance; ``POST /charge {"user_id", "imp_uid"}`` credits.

``POST /graphql`` is the *stack floor* (bench/stack.py): the same charge behind Strawberry and
httpx, the libraries pointcharge is built on, without pointcharge's own code.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from contextlib import asynccontextmanager

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SQLITE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS floor_balances (user_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_ledger (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "entry_key TEXT NOT NULL UNIQUE, imp_uid TEXT, amount INTEGER NOT NULL, balance INTEGER NOT NULL, "
    "created_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_floor_ledger_user ON floor_ledger (user_id, created_at, id)",
]
PG_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS floor_balances (user_id TEXT PRIMARY KEY, amount BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_ledger (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
    "entry_key TEXT NOT NULL UNIQUE, imp_uid TEXT, amount BIGINT NOT NULL, balance BIGINT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_floor_ledger_user ON floor_ledger (user_id, created_at, id)",
]
UPDATE_BALANCE = "UPDATE floor_balances SET amount = amount + {p1} WHERE user_id = {p2} RETURNING amount"
INSERT_ENTRY = (
    "INSERT INTO floor_ledger (id, user_id, entry_key, imp_uid, amount, balance, created_at) "
    "VALUES ({p1}, {p2}, {p3}, {p4}, {p5}, {p6}, {p7})"
)


class Duplicate(Exception):
    pass


class SQLiteStore:
    """One aiosqlite connection per worker; writers serialise on it (SQLite has one writer anyway)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(self.path, timeout=15, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=15000", "synchronous=NORMAL"):
            await self.conn.execute(f"PRAGMA {pragma}")
        for ddl in SQLITE_SCHEMA:
            try:
                await self.conn.execute(ddl)
            except sqlite3.OperationalError:
                pass  # another worker is creating it
        self.update = UPDATE_BALANCE.format(p1="?", p2="?")
        self.insert = INSERT_ENTRY.format(**{f"p{i}": "?" for i in range(1, 8)})

    async def close(self) -> None:
        await self.conn.close()

    async def add_user(self, user_id: str) -> None:
        async with self.lock:
            await self.conn.execute(
                "INSERT INTO floor_balances (user_id, amount) VALUES (?, 0) ON CONFLICT DO NOTHING", (user_id,)
            )

    async def credit(self, user_id: str, imp_uid: str, amount: int) -> int:
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                cur = await self.conn.execute(self.update, (amount, user_id))
                row = await cur.fetchone()
                if row is None:
                    raise KeyError(user_id)
                await self.conn.execute(
                    self.insert,
                    (uuid.uuid4().hex, user_id, f"charge:{imp_uid}", imp_uid, amount, row[0],
                     time.strftime("%Y-%m-%dT%H:%M:%S")),
                )
                await self.conn.execute("COMMIT")
                return row[0]
            except sqlite3.IntegrityError:
                await self.conn.execute("ROLLBACK")
                raise Duplicate(imp_uid) from None
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise


class PostgresStore:
    def __init__(self, dsn: str, pool_size: int = 10) -> None:
        self.dsn = dsn
        self.pool_size = pool_size

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=self.pool_size)
        async with self.pool.acquire() as c:
            # Workers start together; one DDL at a time.
            await c.execute("SELECT pg_advisory_lock(4242)")
            try:
                for ddl in PG_SCHEMA:
                    await c.execute(ddl)
            finally:
                await c.execute("SELECT pg_advisory_unlock(4242)")
        self.update = UPDATE_BALANCE.format(p1="$1", p2="$2")
        self.insert = INSERT_ENTRY.format(**{f"p{i}": f"${i}" for i in range(1, 8)})

    async def close(self) -> None:
        await self.pool.close()

    async def add_user(self, user_id: str) -> None:
        await self.pool.execute(
            "INSERT INTO floor_balances (user_id, amount) VALUES ($1, 0) ON CONFLICT DO NOTHING", user_id
        )

    async def credit(self, user_id: str, imp_uid: str, amount: int) -> int:
        import asyncpg
        from datetime import UTC, datetime

        async with self.pool.acquire() as c:
            try:
                async with c.transaction():
                    balance = await c.fetchval(self.update, amount, user_id)
                    if balance is None:
                        raise KeyError(user_id)
                    await c.execute(
                        self.insert, uuid.uuid4().hex, user_id, f"charge:{imp_uid}", imp_uid, amount, balance,
                        datetime.now(UTC),
                    )
                    return balance
            except asyncpg.UniqueViolationError:
                raise Duplicate(imp_uid) from None


class PortOne:
    """GET /payments/{imp_uid} with a cached token, on one aiohttp session."""

    def __init__(self, base: str, key: str, secret: str) -> None:
        self.base = base.rstrip("/")
        self.key, self.secret = key, secret
        self.token: str | None = None
        self.lock = asyncio.Lock()

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), timeout=aiohttp.ClientTimeout(total=10)
        )

    async def close(self) -> None:
        await self.session.close()

    async def _post(self, url: str, body: dict) -> dict:
        async with self.session.post(url, json=body) as r:
            return await r.json()

    async def _get(self, url: str, headers: dict[str, str]) -> tuple[int, dict]:
        async with self.session.get(url, headers=headers) as r:
            return r.status, await r.json()

    async def _token(self) -> str:
        if self.token is None:
            async with self.lock:
                if self.token is None:
                    body = await self._post(self.base + "/users/getToken", {"imp_key": self.key, "imp_secret": self.secret})
                    self.token = body["response"]["access_token"]
        return self.token  # type: ignore[return-value]

    async def payment(self, imp_uid: str) -> dict:
        token = await self._token()
        status, body = await self._get(f"{self.base}/payments/{imp_uid}", {"Authorization": token})
        if status != 200 or body.get("code") != 0:
            raise LookupError(imp_uid)
        return body["response"]


def create_app() -> Starlette:
    database = os.environ["FLOOR_DATABASE"]
    if database.startswith("sqlite:///"):
        store: SQLiteStore | PostgresStore = SQLiteStore(database[len("sqlite:///"):])
    else:
        store = PostgresStore(database, pool_size=int(os.environ.get("FLOOR_PG_POOL", "10")))
    portone_args = (
        os.environ["FLOOR_PORTONE_V1"],
        os.environ.get("FLOOR_IMP_KEY", "sandbox_imp_key"),
        os.environ.get("FLOOR_IMP_SECRET", "sandbox_imp_secret"),
    )
    portone = PortOne(*portone_args)
    from bench.stack import HttpxPortOne, StackGraphQL

    stack_portone = HttpxPortOne(*portone_args)

    async def charge(request: Request) -> JSONResponse:
        body = await request.json()
        user_id, imp_uid = body["user_id"], body["imp_uid"]
        try:
            payment = await portone.payment(imp_uid)
        except LookupError:
            return JSONResponse({"error": "not found"}, status_code=404)
        if payment["status"] != "paid" or payment.get("currency", "KRW") != "KRW":
            return JSONResponse({"error": "not paid"}, status_code=409)
        amount = int(payment["amount"])
        try:
            balance = await store.credit(user_id, imp_uid, amount)
        except Duplicate:
            return JSONResponse({"error": "already credited"}, status_code=409)
        return JSONResponse({"imp_uid": imp_uid, "amount": amount, "balance": balance})

    async def add_user(request: Request) -> JSONResponse:
        await store.add_user((await request.json())["user_id"])
        return JSONResponse({"ok": True})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette):
        await store.open()
        await portone.open()
        await stack_portone.open()
        try:
            yield
        finally:
            await stack_portone.close()
            await portone.close()
            await store.close()

    return Starlette(
        routes=[
            Route("/charge", charge, methods=["POST"]),
            Route("/graphql", StackGraphQL(store, stack_portone), methods=["POST"]),
            Route("/users", add_user, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def app_factory() -> Starlette:
    return create_app()


def main(argv: list[str] | None = None) -> int:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    uvicorn.run(
        "bench.floor:app_factory", factory=True, host=args.host, port=args.port, workers=args.workers,
        log_level=args.log_level, access_log=False, server_header=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
