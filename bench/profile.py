"""Where a charge's time goes.

1. Phase timers (wall time, one client, in-process): the API app is driven through ASGI (no
   socket on our side; PortOne is the standalone sandbox over real HTTP) with timing wrappers
   around the charge path's methods and SQLAlchemy cursor events (statements per charge).
2. Micro-benchmarks of the alternatives the proposals rely on: the same ledger transaction through
   the ORM, through SQLAlchemy Core and through the raw driver; Strawberry's per-operation cost with
   and without a working ValidationCache; httpx (default transport / aiohttp transport) vs aiohttp
   for the PortOne GET at 1 and 32 concurrent requests.
3. Optionally (``--py-spy``): py-spy samples the API worker while the load generator drives 32
   clients; samples are bucketed by library.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from bench import procs

PHASES: dict[str, list[float]] = defaultdict(list)


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    if asyncio.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                PHASES[label].append((time.perf_counter() - t0) * 1000)

    else:

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                PHASES[label].append((time.perf_counter() - t0) * 1000)

    return wrapper


def _instrument() -> list[tuple[object, str, object]]:
    """Wraps the charge path's steps; returns what to restore. Missing names are skipped (the
    charge path is being reworked concurrently)."""
    from services import charging, ledger, sync
    from services.auth import AuthService
    from services.charging import ChargeService
    from services.gateways.portone.v1 import PortOneV1Client
    import schema.point_types as point_types

    targets = [
        (ChargeService, "claim", "claim (total)"),
        (ChargeService, "_known_credit", "  _known_credit: one driver SELECT, with the login revocation check (ORM only when recorded)"),
        (PortOneV1Client, "get_payment", "  PortOne GET /payments (httpx)"),
        (ChargeService, "sync_payment", "  sync_payment: the write transaction (total)"),
        (ChargeService, "_credit_lean", "    _credit_lean: driver transaction, 5 statements + BEGIN/COMMIT"),
        (sync, "upsert_and_lock", "    (general path) sync.upsert_and_lock: SELECT…FOR UPDATE/SELECT order/INSERT"),
        (sync, "record_remote", "    sync.record_remote (python, no I/O)"),
        (sync, "credit_payment", "    sync.credit_payment: UPDATE payment + ledger"),
        (ledger, "append_entry", "      ledger.append_entry: UPDATE balance RETURNING + INSERT entry (flush)"),
        (sync, "follow_cancellations", "    sync.follow_cancellations"),
        (AuthService, "decode_access_token", "JWT verify (once per request)"),
        (AuthService, "ensure_login_alive", "login revocation check on its own (other mutations; not the charge)"),
    ]
    try:
        from services.ratelimit import RateLimiter

        targets.append((RateLimiter, "hit_user", "per-user charge rate limit (limits, in memory)"))
    except ImportError:
        pass
    restore = []
    for owner, name, label in targets:
        fn = getattr(owner, name, None)
        if fn is None:
            continue
        restore.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else fn))
        if isinstance(owner, type) and isinstance(owner.__dict__.get(name), staticmethod):
            setattr(owner, name, staticmethod(_timed(label, fn)))
        else:
            setattr(owner, name, _timed(label, fn))
    del charging, point_types
    return restore


async def _phase_run(backend: str, db_url: str, sandbox: str, charges: int) -> dict:
    from contextlib import AsyncExitStack

    import httpx
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from bench.statements import record_statements
    from services.settings import Settings

    env = procs.api_env(db_url, sandbox)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{k.removeprefix("POINTCHARGE_").lower(): v for k, v in env.items()},
    )
    restore = _instrument()
    stmts: list[int] = []
    sql_ms: list[float] = []
    try:
        app = create_app(settings)
        async with LifespanManager(app) as manager, AsyncExitStack() as stack:
            # The guard's instrument (tests/services/test_statement_counts.py): ORM statements and
            # their BEGIN/COMMIT/ROLLBACK, and the driver statements of the lean path.
            log = stack.enter_context(record_statements(app.state.db.engine.sync_engine))
            import services.db as db_module

            # SQLite's lean transaction runs in aiosqlite's thread (services.db._run_in_driver_thread),
            # BEGIN IMMEDIATE to COMMIT in one hand-off: its whole time, next to its statements'.
            whole: list[float] = []
            in_thread = getattr(db_module, "_run_in_driver_thread", None)
            if in_thread is not None:
                def _whole(*args):  # type: ignore[no-untyped-def]
                    t0 = time.perf_counter()
                    try:
                        return in_thread(*args)
                    finally:
                        whole.append((time.perf_counter() - t0) * 1000)
                restore.append((db_module, "_run_in_driver_thread", in_thread))
                db_module._run_in_driver_thread = _whole

            transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                email = f"profile-{uuid.uuid4().hex[:8]}@bench.example.com"
                await client.post("/graphql", json={
                    "query": "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
                    "variables": {"i": {"email": email, "password": "benchpassword123", "name": "프로필"}}})
                login = await client.post("/graphql", json={
                    "query": "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }",
                    "variables": {"e": email, "p": "benchpassword123"}})
                token = login.json()["data"]["loginUser"]["accessToken"]
                from bench.loadgen import CHARGE_MUTATION

                imp_uids = await procs.create_payments(sandbox, charges + 20)
                request_ms: list[float] = []
                for i, uid in enumerate(imp_uids):
                    if i == 20:  # warm-up done: compiled-statement caches, token, connections
                        PHASES.clear()
                        stmts.clear()
                        sql_ms.clear()
                    log.clear()
                    whole.clear()
                    t0 = time.perf_counter()
                    r = await client.post(
                        "/graphql", json={"query": CHARGE_MUTATION, "variables": {"impUid": uid}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    elapsed = (time.perf_counter() - t0) * 1000
                    body = r.json()
                    assert not body.get("errors"), body
                    if i >= 20:
                        request_ms.append(elapsed)
                        stmts.append(len(log))
                        sql_ms.append(log.driver_ms)
                last = log.lines()
                if whole:
                    at = next((k for k, line in enumerate(last) if "BEGIN IMMEDIATE" in line), 0)
                    last.insert(at, f"{whole[-1]:6.3f} ms  [aiosqlite's thread] the whole transaction in one hand-off:")
    finally:
        for owner, name, fn in restore:
            setattr(owner, name, fn)
    total = statistics.fmean(request_ms)
    claim = statistics.fmean(PHASES.get("claim (total)", [0.0]))
    phases = {"request through ASGI (total)": total}
    phases["  Starlette + Strawberry + JSON outside claim()"] = total - claim
    for label, values in PHASES.items():
        phases[label] = sum(values) / len(request_ms)
    phases["(whole request: time in the DB driver, SQLAlchemy and direct)"] = statistics.fmean(sql_ms)
    out = {
        label: {"ms_per_charge": round(v, 3), "share_pct": round(100 * v / claim, 1) if claim else None}
        for label, v in phases.items()
    }
    return {
        "backend": backend, "charges": len(request_ms), "phases": out, "statements_of_one_charge": list(last),
        "sql_statements_per_charge": statistics.fmean(stmts),
        "request_p50_ms": round(statistics.median(request_ms), 3),
    }


# --- micro-benchmarks --------------------------------------------------------------------------


async def _micro_db(db_url: str, n: int = 300) -> dict[str, float]:
    """One credit transaction (UPDATE balance RETURNING + INSERT entry), three ways."""
    from sqlalchemy import insert, select, update

    from services import ledger
    from services.db import Database
    from services.models import PointTransaction, User, UserPoint, utcnow

    db = Database.from_url(procs.sqlalchemy_url(db_url))
    uid = uuid.uuid4().hex
    async with db.transaction() as s:
        s.add(User(id=uid, email=f"{uid}@micro.example.com", name="m", password_hash="x"))
        await s.flush()
        s.add(UserPoint(user_id=uid, amount=0))
    out: dict[str, float] = {}

    async def orm() -> None:
        async with db.transaction() as s:
            await ledger.append_entry(s, user_id=uid, amount=1, status=ledger.CHARGE,
                                      entry_key=uuid.uuid4().hex, detail="micro")

    async def core() -> None:
        async with db._write() as s, s.begin():  # same session factory, statements only
            now = utcnow()
            balance = (await s.execute(
                update(UserPoint).where(UserPoint.user_id == uid)
                .values(amount=UserPoint.amount + 1, updated_at=now).returning(UserPoint.amount)
            )).scalar_one()
            await s.execute(insert(PointTransaction).values(
                id=uuid.uuid4().hex, user_id=uid, entry_key=uuid.uuid4().hex, status=ledger.CHARGE,
                amount=1, balance=balance, detail="micro", created_at=now))

    async def core_conn() -> None:
        writer = db._write.kw["bind"]
        async with writer.begin() as conn:
            now = utcnow()
            balance = (await conn.execute(
                update(UserPoint).where(UserPoint.user_id == uid)
                .values(amount=UserPoint.amount + 1, updated_at=now).returning(UserPoint.amount)
            )).scalar_one()
            await conn.execute(insert(PointTransaction).values(
                id=uuid.uuid4().hex, user_id=uid, entry_key=uuid.uuid4().hex, status=ledger.CHARGE,
                amount=1, balance=balance, detail="micro", created_at=now))

    async def empty() -> None:
        async with db.transaction():
            pass

    async def read_one() -> None:
        async with db.session() as s:
            (await s.execute(select(UserPoint).where(UserPoint.user_id == uid))).scalar_one()

    for name, fn in (("empty write transaction: db.transaction() with no statement", empty),
                     ("read session + one ORM SELECT by key: db.session()", read_one),
                     ("ORM session: ledger.append_entry in db.transaction()", orm),
                     ("Core statements in an AsyncSession", core),
                     ("Core statements on an AsyncConnection", core_conn)):
        for _ in range(20):
            await fn()
        t0 = time.perf_counter()
        for _ in range(n):
            await fn()
        out[name] = round((time.perf_counter() - t0) / n * 1000, 3)
    await db.dispose()

    # The raw driver, as in bench/floor.py.
    if db_url.startswith("sqlite:///"):
        import aiosqlite

        conn = await aiosqlite.connect(db_url[len("sqlite:///"):], isolation_level=None)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")

        async def raw() -> None:
            await conn.execute("BEGIN IMMEDIATE")
            cur = await conn.execute(
                "UPDATE user_points SET amount = amount + 1, updated_at = ? WHERE user_id = ? RETURNING amount",
                ("2026-01-01 00:00:00", uid))
            (balance,) = await cur.fetchone()
            await conn.execute(
                "INSERT INTO point_transactions (id, user_id, entry_key, status, amount, balance, detail, created_at) "
                "VALUES (?, ?, ?, ?, 1, ?, 'micro', '2026-01-01 00:00:00')",
                (uuid.uuid4().hex, uid, uuid.uuid4().hex, ledger.CHARGE, balance))
            await conn.execute("COMMIT")
    else:
        import asyncpg
        from datetime import UTC, datetime

        conn = await asyncpg.connect(db_url)

        async def raw() -> None:
            async with conn.transaction():
                balance = await conn.fetchval(
                    "UPDATE user_points SET amount = amount + 1, updated_at = $1 WHERE user_id = $2 RETURNING amount",
                    datetime.now(UTC), uid)
                await conn.execute(
                    "INSERT INTO point_transactions (id, user_id, entry_key, status, amount, balance, detail, created_at) "
                    "VALUES ($1, $2, $3, $4, 1, $5, 'micro', $6)",
                    uuid.uuid4().hex, uid, uuid.uuid4().hex, ledger.CHARGE, balance, datetime.now(UTC))
    for _ in range(20):
        await raw()
    t0 = time.perf_counter()
    for _ in range(n):
        await raw()
    out["raw driver (aiosqlite / asyncpg)"] = round((time.perf_counter() - t0) / n * 1000, 3)
    await conn.close()
    return out


async def _micro_graphql(n: int = 2000) -> dict[str, float]:
    """Strawberry's cost per charge mutation with the resolver stubbed out (no I/O)."""
    from functools import partial

    from strawberry.extensions import (
        MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache,
    )

    import schema as schema_pkg
    from bench.loadgen import CHARGE_MUTATION
    from schema.errors import Schema
    from services.auth import AccessClaims
    from services.charging import Outcome, SyncResult
    from services.models import Payment, PointTransaction
    from services.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    entry = PointTransaction(user_id="u", entry_key="k", status="충전", amount=1000, balance=1000, payment_key="imp_1", detail="d")
    result = SyncResult(Outcome.ALREADY_CREDITED, Payment(provider="portone_v1", order_key="m", status="paid"), entry)

    class Auth:
        def decode_access_token(self, token: str) -> AccessClaims:
            return AccessClaims("u", "f")

        async def ensure_login_alive(self, claims: AccessClaims) -> None:
            return None

    class Charging:
        async def claim(self, user_id: str, key: str, **kw: object) -> SyncResult:
            return result

    class Services:
        auth = Auth()
        charging = Charging()
        settings = None
        ratelimit = None

    from starlette.requests import Request
    from starlette.responses import Response

    from schema.context import Context

    scope = {"type": "http", "method": "POST", "path": "/graphql", "query_string": b"", "root_path": "",
             "headers": [(b"authorization", b"Bearer x")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
             "scheme": "http", "state": {}}

    def ctx() -> Context:
        return Context(request=Request(dict(scope)), response=Response(), services=Services())  # type: ignore[arg-type]

    variables = {"impUid": "imp_1"}
    out: dict[str, float] = {}
    current = schema_pkg.build_schema(settings)
    size = settings.graphql_cache_size
    old_style = Schema(
        query=schema_pkg.Query, mutation=schema_pkg.Mutation,
        extensions=[
            partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
            partial(ParserCache, maxsize=size),
            partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
            partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
            partial(ValidationCache, maxsize=size),
        ],
    )
    no_cache = Schema(query=schema_pkg.Query, mutation=schema_pkg.Mutation, extensions=[])
    for name, sch in (("strawberry execute: our schema (shared validation rules, caches hit)", current),
                      ("strawberry execute: per-operation QueryDepthLimiter/MaxAliasesLimiter (ValidationCache misses)", old_style),
                      ("strawberry execute: no extensions at all (parse + validate every time)", no_cache)):
        for _ in range(50):
            r = await sch.execute(CHARGE_MUTATION, variable_values=variables, context_value=ctx())
            assert not r.errors, r.errors
        t0 = time.perf_counter()
        for _ in range(n):
            await sch.execute(CHARGE_MUTATION, variable_values=variables, context_value=ctx())
        out[name] = round((time.perf_counter() - t0) / n * 1000, 3)
    return out


async def _micro_http(sandbox: str, n: int = 2000) -> dict[str, float]:
    """GET /v1/payments/{imp_uid} against the standalone sandbox, requests per second."""
    import aiohttp
    import httpx

    imp_uid = (await procs.create_payments(sandbox, 1))[0]
    async with aiohttp.ClientSession() as s:
        async with s.post(sandbox + "/v1/users/getToken",
                          json={"imp_key": procs.IMP_KEY, "imp_secret": procs.IMP_SECRET}) as r:
            token = (await r.json())["response"]["access_token"]
    url = f"{sandbox}/v1/payments/{imp_uid}"
    headers = {"Authorization": token}
    out: dict[str, float] = {}

    async def drive(get, conc: int) -> float:  # type: ignore[no-untyped-def]
        count = n if conc > 1 else n // 4
        it = iter(range(count))

        async def client() -> None:
            for _ in it:
                await get()

        for _ in range(50):
            await get()
        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(conc)))
        return round(count / (time.perf_counter() - t0), 0)

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    for conc in (1, 32):
        async with httpx.AsyncClient(limits=limits) as c:
            out[f"httpx.AsyncClient (default transport), {conc} concurrent: req/s"] = await drive(
                lambda: c.get(url, headers=headers), conc)
        try:
            from httpx_aiohttp import AiohttpTransport

            async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits)) as c:
                out[f"httpx.AsyncClient + httpx-aiohttp transport, {conc} concurrent: req/s"] = await drive(
                    lambda: c.get(url, headers=headers), conc)
        except ImportError:
            pass
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as s:

            async def aget() -> None:
                async with s.get(url, headers=headers) as r:
                    await r.read()

            out[f"aiohttp.ClientSession, {conc} concurrent: req/s"] = await drive(aget, conc)
    return out


# --- py-spy ------------------------------------------------------------------------------------

BUCKETS = [
    ("sqlalchemy/orm", "sqlalchemy ORM (session, flush, unit of work, loading)"),
    ("sqlalchemy/engine", "sqlalchemy engine/Core (compile cache, execute, results)"),
    ("sqlalchemy/sql", "sqlalchemy SQL construction/compilation"),
    ("sqlalchemy/dialects", "sqlalchemy dialect adapters (aiosqlite/asyncpg)"),
    ("sqlalchemy/pool", "sqlalchemy pool"),
    ("sqlalchemy/util", "sqlalchemy util (greenlet bridge)"),
    ("sqlalchemy/ext", "sqlalchemy asyncio ext"),
    ("greenlet", "greenlet"),
    ("aiosqlite", "aiosqlite (thread hand-off)"),
    ("asyncpg", "asyncpg"),
    ("sqlmodel", "sqlmodel"),
    ("strawberry", "strawberry"),
    ("graphql/", "graphql-core"),
    ("httpx_aiohttp", "httpx-aiohttp transport"),
    ("httpcore", "httpcore (httpx default transport)"),
    ("httpx", "httpx"),
    ("aiohttp", "aiohttp"),
    ("anyio", "anyio"),
    ("jwt", "pyjwt"),
    ("pydantic", "pydantic"),
    ("starlette", "starlette"),
    ("uvicorn", "uvicorn + httptools"),
    ("json", "json"),
    ("services/", "pointcharge services (own code)"),
    ("schema/", "pointcharge schema (own code)"),
    ("api/", "pointcharge api (own code)"),
    ("asyncio", "asyncio/uvloop machinery"),
    ("uvloop", "asyncio/uvloop machinery"),
    ("logging", "logging"),
]


def _bucket(stack: str) -> str:
    """The innermost library frame of a collapsed stack wins."""
    frames = stack.split(";")
    for frame in reversed(frames):
        for needle, label in BUCKETS:
            if needle in frame:
                return label
    return "other (interpreter, idle)"


def spy_under_load(backend: str, db_dsn: str, sandbox: str, workdir: Path, charges: int, concurrency: int) -> dict:
    """Samples the single API worker with py-spy while 32 clients charge."""
    from bench import charge

    spy_bin = Path(sys.executable).parent / "py-spy"
    env = procs.api_env(db_dsn, sandbox)
    if backend == "postgres":
        procs.migrate(env, workdir)
    api, base = procs.start_api(env, 1, workdir, f"spy-{backend}")
    try:
        users = asyncio.run(procs.create_users(base, 8, prefix=f"spy-{backend}-"))
        imp_uids = asyncio.run(procs.create_payments(sandbox, charges + 40))
        raw = workdir / f"spy-{backend}.txt"
        spy = subprocess.Popen(
            [str(spy_bin), "record", "--pid", str(api.pid), "--format", "raw", "--output", str(raw),
             "--rate", "250", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
        spec = {"url": base + "/graphql", "kind": "graphql", "concurrency": concurrency,
                "jobs": [[users[i % len(users)][1], u] for i, u in enumerate(imp_uids)], "warmup": 40,
                "max_seconds": 30}
        result = charge.run_loadgen(spec, 1, workdir)
        spy.send_signal(2)
        spy.wait(timeout=30)
    finally:
        api.stop()
    buckets: dict[str, int] = defaultdict(int)
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        buckets[_bucket(stack)] += int(count)
        total += int(count)
    ranked = dict(sorted(((k, round(100 * v / total, 1)) for k, v in buckets.items()), key=lambda kv: -kv[1]))
    return {"samples": total, "buckets": ranked, "charges_per_s": round(result["ok"] / result["seconds"], 1),
            "raw": str(raw)}


def run(backends: list[str], charges: int, concurrency: int, *, py_spy: bool = False, out: Path | None = None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="pointcharge-profile-"))
    sandbox, sandbox_base = procs.start_sandbox(workdir)
    result: dict = {"kind": "profile", "when": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": [], "py_spy": {}}
    try:
        for backend in backends:
            if backend == "postgres":
                dsn = asyncio.run(procs.recreate_pg_database("bench_profile"))
            else:
                dsn = f"sqlite:///{workdir / 'profile.db'}"
            from api.migrate import upgrade_head

            upgrade_head(procs.sqlalchemy_url(dsn))
            result["runs"].append(asyncio.run(_phase_run(backend, dsn, sandbox_base, charges)))
            micro = asyncio.run(_micro_db(dsn))
            result.setdefault("micro", {}).update({f"{backend}: {k}": v for k, v in micro.items()})
            if py_spy:
                if backend == "postgres":
                    dsn = asyncio.run(procs.recreate_pg_database("bench_profile"))
                else:
                    dsn = f"sqlite:///{workdir / 'spy.db'}"
                result["py_spy"][f"{backend}, 1 worker, {concurrency} clients"] = spy_under_load(
                    backend, dsn, sandbox_base, workdir, charges * 4, concurrency)
        result.setdefault("micro", {}).update(asyncio.run(_micro_graphql()))
        result["micro"].update(asyncio.run(_micro_http(sandbox_base)))
    finally:
        sandbox.stop()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if not py_spy:
        shutil.rmtree(workdir, ignore_errors=True)
    return result

