"""History at scale: page 1, a deep page and the cursor at 1k / 100k / 1M ledger entries.

The ledger is seeded in bulk with direct SQL (executemany on SQLite, COPY on PostgreSQL): half of
the entries belong to the measured user (created through GraphQL, so it can log in), the other half
to 99 other users; every user's ``user_points.amount`` equals the sum of their entries and every
entry's ``balance`` is the running balance, as the ledger's invariant requires. The sizes are
reached incrementally (1k, then +99k, then +900k) and the API (1 worker) is queried over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psutil

from bench import procs
from bench.charge import percentile

OTHER_USERS = 99
CHARGE, BUY = "충전", "구매"
FIELDS = "_id impUid amount balance status statusDetail createdAt"
PAGE_QUERY = "query($p: Int){ fetchPointTransactionsOfLoading(page: $p){ " + FIELDS + " } }"
CURSOR_QUERY = (
    "query($a: String){ fetchPointTransactionsByCursor(first: 10, after: $a){ items { " + FIELDS + " } "
    "nextCursor hasNextPage } }"
)
COLUMNS = ["id", "user_id", "payment_id", "entry_key", "status", "amount", "balance", "payment_key", "detail", "created_at"]
MAX_PAGE = 10_000  # services/history.py


class Seeder:
    """Appends entries forward in time; keeps every user's running balance."""

    def __init__(self, target_user: str, other_users: list[str]) -> None:
        self.target = target_user
        self.others = other_users
        self.balances: dict[str, int] = {u: 0 for u in [target_user, *other_users]}
        self.counts: dict[str, int] = {u: 0 for u in self.balances}
        self.loading: dict[str, int] = {u: 0 for u in self.balances}
        self.n = 0
        self.t0 = datetime.now(UTC) - timedelta(days=40)  # 1M entries at 1 s apart: ~12 days
        self.rng = random.Random(42)

    def rows(self, count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            self.n += 1
            user = self.target if self.n % 2 == 0 else self.others[self.n % len(self.others)]
            k = self.counts[user]
            # Three charges, then a purchase of half a charge: the balance never goes below zero.
            status, amount = (BUY, -500) if k % 4 == 3 else (CHARGE, 1000)
            self.balances[user] += amount
            self.counts[user] += 1
            if status == CHARGE:
                self.loading[user] += 1
            payment_key = f"imp_seed{self.n:010d}" if status == CHARGE else None
            created = self.t0 + timedelta(seconds=self.n)
            yield (uuid.uuid4().hex, user, None, f"seed:{self.n}", status, amount, self.balances[user],
                   payment_key, "시드 충전" if status == CHARGE else "시드 구매", created)


def _sqlite_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME storage format


def seed_sqlite(path: str, seeder: Seeder, count: int, *, new_users: list[str]) -> None:
    conn = sqlite3.connect(path, timeout=60)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture, rebuilt on every run
        conn.execute("BEGIN IMMEDIATE")
        now = _sqlite_ts(datetime.now(UTC))
        for u in new_users:
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (u, f"{u}@seed.example.com", "시드", "!", now, now))
            conn.execute(
                "INSERT INTO user_points (id, user_id, amount, created_at, updated_at) VALUES (?, ?, 0, ?, ?)",
                (uuid.uuid4().hex, u, now, now))
        batch: list[tuple] = []
        sql = f"INSERT INTO point_transactions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        for row in seeder.rows(count):
            batch.append((*row[:-1], _sqlite_ts(row[-1])))
            if len(batch) >= 50_000:
                conn.executemany(sql, batch)
                batch.clear()
        if batch:
            conn.executemany(sql, batch)
        conn.executemany("UPDATE user_points SET amount = ? WHERE user_id = ?",
                         [(b, u) for u, b in seeder.balances.items()])
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def seed_postgres(dsn: str, seeder: Seeder, count: int, *, new_users: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            now = datetime.now(UTC)
            if new_users:
                await conn.copy_records_to_table(
                    "users", columns=["id", "email", "name", "password_hash", "created_at", "updated_at"],
                    records=[(u, f"{u}@seed.example.com", "시드", "!", now, now) for u in new_users])
                await conn.copy_records_to_table(
                    "user_points", columns=["id", "user_id", "amount", "created_at", "updated_at"],
                    records=[(uuid.uuid4().hex, u, 0, now, now) for u in new_users])
            rows = seeder.rows(count)
            while True:
                batch = [r for _, r in zip(range(100_000), rows)]
                if not batch:
                    break
                await conn.copy_records_to_table("point_transactions", columns=COLUMNS, records=batch)
            await conn.executemany("UPDATE user_points SET amount = $1 WHERE user_id = $2",
                                   [(b, u) for u, b in seeder.balances.items()])
        await conn.execute("ANALYZE point_transactions")
        await conn.execute("ANALYZE user_points")
    finally:
        await conn.close()


async def check_invariant(dsn: str) -> bool:
    """user_points.amount == sum(entries) for every user (the ledger's invariant)."""
    sql = ("SELECT COUNT(*) FROM user_points p LEFT JOIN (SELECT user_id, SUM(amount) s FROM point_transactions "
           "GROUP BY user_id) t ON t.user_id = p.user_id WHERE p.amount <> COALESCE(t.s, 0)")
    if dsn.startswith("sqlite:///"):
        conn = sqlite3.connect(dsn[len("sqlite:///"):])
        try:
            return conn.execute(sql).fetchone()[0] == 0
        finally:
            conn.close()
    import asyncpg

    c = await asyncpg.connect(dsn)
    try:
        return await c.fetchval(sql) == 0
    finally:
        await c.close()


async def measure(targets: list[tuple[str, str, str, list[tuple[str, str, dict]]]], n: int) -> dict[str, dict]:
    """Rounds over every (target, query) pair, sequentially, in a new random order each round:
    drift of the machine and noise from other processes hit them alike, and no request always
    follows the same one (a request right after the deep page — a long OFFSET scan that empties
    the CPU caches — or right after the other process ran was ~0.9 ms slower: in a fixed order
    that penalty landed on the same query every time). ``targets``: (label, api, token, queries);
    results are keyed ``"label/query"``."""
    rng = random.Random(20261130)
    bodies = {
        f"{label}/{name}": (api, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                            json.dumps({"query": q, "variables": v}).encode())
        for label, api, token, queries in targets
        for name, q, v in queries
    }
    lat: dict[str, list[float]] = {key: [] for key in bodies}
    async with aiohttp.ClientSession() as s:
        for i in range(n + 10):
            order = list(bodies.items())
            rng.shuffle(order)
            for key, (api, headers, body) in order:
                t0 = time.perf_counter()
                async with s.post(api + "/graphql", data=body, headers=headers) as r:
                    data = await r.json()
                elapsed = (time.perf_counter() - t0) * 1000
                if data.get("errors"):
                    raise RuntimeError(json.dumps(data["errors"], ensure_ascii=False))
                if i >= 10:
                    lat[key].append(elapsed)
    return {
        key: {"p50_ms": round(percentile(v, 0.5), 2), "p99_ms": round(percentile(v, 0.99), 2),
              "mean_ms": round(statistics.fmean(v), 2)}
        for key, v in lat.items()
    }


async def first_cursor(api: str, token: str) -> str | None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as s:
        async with s.post(api + "/graphql", json={"query": CURSOR_QUERY, "variables": {"a": None}}) as r:
            return (await r.json())["data"]["fetchPointTransactionsByCursor"]["nextCursor"]


def run(backends: list[str], sizes: list[int], requests: int, *, out: Path | None = None, log=print) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="pointcharge-history-"))
    sandbox, sandbox_base = procs.start_sandbox(workdir)
    rows: list[dict] = []
    seeding: dict[str, float] = {}
    try:
        for backend in backends:
            if backend == "postgres":
                dsn = asyncio.run(procs.recreate_pg_database("bench_history"))
                ref_dsn = asyncio.run(procs.recreate_pg_database("bench_history_ref"))
            else:
                dsn = f"sqlite:///{workdir / 'history.db'}"
                ref_dsn = f"sqlite:///{workdir / 'history-ref.db'}"
            env = procs.api_env(dsn, sandbox_base)
            if backend == "postgres":
                procs.migrate(env, workdir)
            api, base = procs.start_api(env, 1, workdir, f"history-{backend}")
            # The reference: a second API on its own database holding the smallest ledger, measured
            # in the same round-robin as every size. "vs 1k" is the ratio within one window, so
            # the machine's drift between the steps (±30 % over minutes) does not enter it.
            ref_api: procs.Proc | None = None
            try:
                ref_env = procs.api_env(ref_dsn, sandbox_base)
                if backend == "postgres":
                    procs.migrate(ref_env, workdir)
                ref_api, ref_base = procs.start_api(ref_env, 1, workdir, f"history-ref-{backend}")
                ((user_id, token),) = asyncio.run(procs.create_users(base, 1, prefix=f"history-{backend}-"))
                ((ref_user, ref_token),) = asyncio.run(procs.create_users(ref_base, 1, prefix=f"history-ref-{backend}-"))
                others = [uuid.uuid4().hex for _ in range(OTHER_USERS)]
                seeder = Seeder(user_id, others)
                ref_others = [uuid.uuid4().hex for _ in range(OTHER_USERS)]
                ref_seeder = Seeder(ref_user, ref_others)
                smallest = min(sizes)
                if backend == "postgres":
                    asyncio.run(seed_postgres(ref_dsn, ref_seeder, smallest, new_users=ref_others))
                else:
                    seed_sqlite(ref_dsn[len("sqlite:///"):], ref_seeder, smallest, new_users=ref_others)
                assert asyncio.run(check_invariant(ref_dsn)), "seeded ledger breaks user_points == sum(entries)"
                ref_after = asyncio.run(first_cursor(ref_base, ref_token))
                ref_deep = max(1, min(MAX_PAGE, ref_seeder.loading[ref_user] // 10))
                ref_queries = [
                    ("page 1", PAGE_QUERY, {"p": 1}),
                    ("deep page", PAGE_QUERY, {"p": ref_deep}),
                    ("cursor first:10", CURSOR_QUERY, {"a": None}),
                    ("cursor second page", CURSOR_QUERY, {"a": ref_after}),
                ]
                have = 0
                for size in sorted(sizes):
                    t0 = time.time()
                    new_users = others if have == 0 else []
                    if backend == "postgres":
                        asyncio.run(seed_postgres(dsn, seeder, size - have, new_users=new_users))
                    else:
                        seed_sqlite(dsn[len("sqlite:///"):], seeder, size - have, new_users=new_users)
                    seeding[f"{backend} {have:,} → {size:,}"] = round(time.time() - t0, 1)
                    have = size
                    assert asyncio.run(check_invariant(dsn)), "seeded ledger breaks user_points == sum(entries)"
                    user_loading = seeder.loading[user_id]
                    deep = max(1, min(MAX_PAGE, user_loading // 10))
                    after = asyncio.run(first_cursor(base, token))
                    queries = [
                        ("page 1", PAGE_QUERY, {"p": 1}, 1),
                        ("deep page", PAGE_QUERY, {"p": deep}, deep),
                        ("cursor first:10", CURSOR_QUERY, {"a": None}, None),
                        ("cursor second page", CURSOR_QUERY, {"a": after}, None),
                    ]
                    me = psutil.Process()
                    apis = (api, ref_api)
                    cpu = lambda: (procs.machine_busy_s(), sum(a.cpu_s() for a in apis), procs.postgres_cpu_s(),  # noqa: E731
                                   sum(me.cpu_times()[:2]), time.time())
                    c0 = cpu()
                    measured = asyncio.run(measure(
                        [("size", base, token, [(n, q, v) for n, q, v, _ in queries]),
                         ("ref", ref_base, ref_token, ref_queries)],
                        requests,
                    ))
                    c1 = cpu()
                    foreign = (c1[0] - c0[0]) - sum(c1[i] - c0[i] for i in (1, 2, 3))
                    foreign_pct = round(100 * max(0.0, foreign) / (c1[4] - c0[4]), 1)
                    for name, _query, _variables, page in queries:
                        m, ref = measured[f"size/{name}"], measured[f"ref/{name}"]
                        row = {"backend": backend, "entries": size, "user_entries": seeder.counts[user_id],
                               "user_loading_entries": user_loading, "query": name, "page": page,
                               "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"], "mean_ms": m["mean_ms"],
                               "ref_p50_ms": ref["p50_ms"], "foreign_cpu_pct": foreign_pct,
                               "growth_vs_1k": round(m["p50_ms"] / ref["p50_ms"], 2) if ref["p50_ms"] else None}
                        rows.append(row)
                        log(f"{backend:8} {size:>9,} entries ({seeder.counts[user_id]:,} this user's) {name:18} "
                            f"page {page or '-':>6}  p50 {m['p50_ms']:7.2f}  p99 {m['p99_ms']:7.2f} ms  "
                            f"(1k reference alongside: {ref['p50_ms']:.2f} ms, x{row['growth_vs_1k']})  "
                            f"(foreign cpu {foreign_pct}%)")
            finally:
                api.stop()
                if ref_api is not None:
                    ref_api.stop()
    finally:
        sandbox.stop()
    result = {"kind": "history", "when": time.strftime("%Y-%m-%d %H:%M:%S"), "seeding_s": seeding,
              "requests": requests, "rows": rows}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    shutil.rmtree(workdir, ignore_errors=True)
    return result
