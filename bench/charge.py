"""The charge benchmark: pointcharge's createPointTransactionOfLoading against the floor, same run.

For each database (SQLite, PostgreSQL) and worker count: a fresh database, the API
(``pointcharge serve --workers N``) and the floor (``bench/floor.py``, same workers) against one
standalone sandbox; then for each concurrency, paid payments are created through the sandbox's
control API and a closed-loop load generator (separate process) claims each one once. After the
1-worker sweep, the realistic-latency scenario: the sandbox answers every PortOne request 150 ms
late, and 32 clients charge through the stack floor and pointcharge (``concurrency_bound``).
Then the Bootpay scenario (bench/bootpay.py): pointcharge claims Bootpay receipts at a few clients.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import bootpay, procs

ROOT = procs.ROOT


# The floor's GraphQL route (bench/floor.py): the prescribed libraries without pointcharge's own code.
STACK = "stack"

@dataclass
class Point:
    backend: str
    workers: int
    target: str  # pointcharge | floor | stack (the floor behind Strawberry + httpx)
    concurrency: int
    ok: int
    errors: int
    seconds: float
    charges_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    portone_gets_per_charge: float | None
    portone_requests_per_charge: float | None
    peak_rss_mb: float  # the largest worker, during this point
    loadgen_cpu_pct: float
    server_cpu_ms_per_charge: float  # CPU of the server's processes / requests it served
    server_cpu_pct: float  # of one core, over the measured seconds (warm-up included: a bound)
    sandbox_cpu_pct: float
    foreign_cpu_pct: float  # CPU used by processes that are not part of this benchmark (noise)
    error_samples: dict = field(default_factory=dict)
    requests_sent: int = 0  # warm-up included: the denominator of the PortOne ratios
    portone_stats: dict = field(default_factory=dict)
    latency_ms: int = 0  # the sandbox's injected latency on every PortOne API request (0: none)
    gateway: str = "portone"  # whose payments were claimed: portone (V1) | bootpay (receipts)
    bootpay_gets_per_charge: float | None = None
    bootpay_requests_per_charge: float | None = None
    bootpay_stats: dict = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_loadgen(spec: dict, procs_n: int, workdir: Path) -> dict:
    """Splits jobs and clients over ``procs_n`` load-generator processes started together."""
    jobs, warmup, conc = spec["jobs"], spec["warmup"], spec["concurrency"]
    procs_n = max(1, min(procs_n, conc))
    start_at = time.time() + 1.0 + 0.3 * procs_n
    running = []
    for i in range(procs_n):
        part = {
            **spec,
            "jobs": jobs[i::procs_n],
            "warmup": warmup // procs_n,
            "concurrency": conc // procs_n + (1 if i < conc % procs_n else 0),
            "start_at": start_at,
        }
        spec_path = workdir / f"loadgen-{i}.json"
        out_path = workdir / f"loadgen-{i}.out.json"
        spec_path.write_text(json.dumps(part))
        running.append(
            (subprocess.Popen([sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)], cwd=ROOT), out_path)
        )
    results = []
    for p, out in running:
        if p.wait(timeout=float(spec.get("max_seconds", 60)) + 120) != 0:
            raise RuntimeError("load generator failed")
        results.append(json.loads(out.read_text()))
    started = min(r["started"] for r in results)
    ended = max(r["ended"] for r in results)
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["error_samples"].items():
            errors[k] = errors.get(k, 0) + v
    return {
        "ok": sum(r["ok"] for r in results),
        "warmup_sent": sum(r["warmup_sent"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "error_samples": errors,
        "seconds": ended - started,
        "latencies_ms": [x for r in results for x in r["latencies_ms"]],
        "loadgen_cpu_pct": 100 * max(r["cpu_s"] / max(r["ended"] - r["started"], 1e-9) for r in results),
        "loadgen_cpu_s": sum(r["cpu_s"] for r in results),
    }


@dataclass
class Config:
    backends: list[str]
    workers: list[int]
    concurrency: list[int]  # swept with 1 worker
    n_workers_concurrency: list[int]  # swept with N workers
    seconds: float = 6.0
    count: int = 3000
    warmup: int = 60
    loadgen_procs: int = 1
    users: int = 32
    targets: tuple[str, ...] = ("floor", "stack", "pointcharge")
    # The realistic-latency scenario: PortOne answering in latency_ms (the sandbox's latency fault),
    # latency_clients clients, 1 worker, the stack floor and pointcharge. 0 leaves it out.
    latency_ms: int = 150
    latency_clients: int = 32
    latency_targets: tuple[str, ...] = (STACK, "pointcharge")
    latency_only: bool = False  # only the latency scenario (no sweep)
    # portone: the sweep and the latency scenario; bootpay: pointcharge claiming Bootpay receipts
    # at bootpay_concurrency clients, 1 worker (compared with the sweep's PortOne points).
    gateways: tuple[str, ...] = ("portone", "bootpay")
    bootpay_concurrency: list[int] = field(default_factory=lambda: [16, 32])


def concurrency_bound(clients: int, latency_ms: float) -> float:
    """The most a closed loop of ``clients`` can do when each request waits ``latency_ms`` for
    PortOne: every client has one request in flight, each lasting at least the latency."""
    return clients / (latency_ms / 1000.0)


def measure(
    *, backend: str, workers: int, target: str, conc: int, base: str, sandbox: str, users: list[tuple[str, str]],
    cfg: Config, monitor: procs.RssMonitor, workdir: Path, server: procs.Proc, sandbox_proc: procs.Proc,
    expected_rate: float | None = None, latency_ms: int = 0, gateway: str = "portone",
) -> Point:
    count = cfg.count if conc > 1 else max(300, cfg.count // 3)
    if expected_rate:
        # Enough payments for the time box at the rate seen at the previous concurrency, not more:
        # creating them through the control API is most of a point's setup time.
        count = max(300, min(count, math.ceil(expected_rate * cfg.seconds * 1.5)))
    if gateway == "bootpay":
        tokens = [token for _, token in users]  # the order of each receipt is its claimant's (jobs below)
        imp_uids = asyncio.run(
            bootpay.create_receipts(bootpay.emulator(sandbox), base + "/graphql", tokens, count + cfg.warmup)
        )
    else:
        imp_uids = asyncio.run(procs.create_payments(sandbox, count + cfg.warmup))
    if target == "pointcharge":
        jobs = [[users[i % len(users)][1], uid] for i, uid in enumerate(imp_uids)]
        url, kind = base + "/graphql", "bootpay" if gateway == "bootpay" else "graphql"
    elif target == STACK:
        # The floor's process, its GraphQL route: the same mutation; the bearer is the user id.
        jobs = [[users[i % len(users)][0], uid] for i, uid in enumerate(imp_uids)]
        url, kind = base + "/graphql", "graphql"
    else:
        jobs = [[users[i % len(users)][0], uid] for i, uid in enumerate(imp_uids)]
        url, kind = base + "/charge", "floor"
    spec = {
        "url": url, "kind": kind, "concurrency": conc, "jobs": jobs, "warmup": cfg.warmup,
        "max_seconds": cfg.seconds, "timeout_s": 30,
    }
    # Stats and RSS count from after the warm-up's own requests: reset once the generator starts
    # measuring would be better still, but the warm-up is 60 requests; we subtract it instead.
    asyncio.run(procs.sandbox_stats(sandbox, reset=True))
    bootpay_requests = bootpay.Requests(sandbox) if gateway == "bootpay" else None
    monitor.reset()
    cpu0 = (server.cpu_s(), sandbox_proc.cpu_s(), procs.postgres_cpu_s(), procs.machine_busy_s(), time.time())
    result = run_loadgen(spec, cfg.loadgen_procs, workdir)
    cpu1 = (server.cpu_s(), sandbox_proc.cpu_s(), procs.postgres_cpu_s(), procs.machine_busy_s(), time.time())
    stats = asyncio.run(procs.sandbox_stats(sandbox))
    wall = cpu1[4] - cpu0[4]
    server_cpu, sandbox_cpu, pg_cpu, busy = (cpu1[i] - cpu0[i] for i in range(4))
    loadgen_cpu = result["loadgen_cpu_s"]
    foreign = max(0.0, busy - server_cpu - sandbox_cpu - pg_cpu - loadgen_cpu)
    lat = result["latencies_ms"]
    ok = result["ok"]
    charged = ok + result["errors"] + result["warmup_sent"]  # requests sent, warm-up included
    gets = stats.get(procs.PAYMENT_TEMPLATE, 0)
    total = sum(v for k, v in stats.items())
    bootpay_fields = bootpay_requests.point_fields(charged) if bootpay_requests else {}
    return Point(
        backend=backend, workers=workers, target=target, concurrency=conc, ok=ok, errors=result["errors"],
        seconds=round(result["seconds"], 2),
        charges_per_s=round(ok / result["seconds"], 1) if result["seconds"] > 0 else 0.0,
        p50_ms=round(percentile(lat, 0.50), 2), p90_ms=round(percentile(lat, 0.90), 2),
        p99_ms=round(percentile(lat, 0.99), 2), mean_ms=round(statistics.fmean(lat), 2) if lat else float("nan"),
        portone_gets_per_charge=round(gets / charged, 3) if charged else None,
        portone_requests_per_charge=round(total / charged, 3) if charged else None,
        peak_rss_mb=monitor.peak_mb(), loadgen_cpu_pct=round(result["loadgen_cpu_pct"], 1),
        server_cpu_ms_per_charge=round(1000 * server_cpu / charged, 2) if charged else 0.0,
        server_cpu_pct=round(100 * server_cpu / wall, 1), sandbox_cpu_pct=round(100 * sandbox_cpu / wall, 1),
        foreign_cpu_pct=round(100 * foreign / wall, 1),
        error_samples=result["error_samples"], requests_sent=charged, portone_stats=stats,
        latency_ms=latency_ms, gateway=gateway, **bootpay_fields,
    )


def run(cfg: Config, *, out: Path | None = None, log=print) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="pointcharge-bench-"))
    log(f"work dir: {workdir}")
    points: list[Point] = []
    setup: dict = {}
    sandbox, sandbox_base = procs.start_sandbox(workdir)
    t_start = time.time()
    try:
        for backend in cfg.backends:
            if backend == "postgres":
                api_dsn = asyncio.run(procs.recreate_pg_database("bench"))
                floor_dsn = asyncio.run(procs.recreate_pg_database("bench_floor"))
            else:
                api_dsn = f"sqlite:///{workdir / 'bench.db'}"
                floor_dsn = f"sqlite:///{workdir / 'floor.db'}"
            env = {**procs.api_env(api_dsn, sandbox_base), **bootpay.api_env(sandbox_base)}
            if backend == "postgres":
                procs.migrate(env, workdir)
            users: list[tuple[str, str]] = []
            for workers in cfg.workers:
                tag = f"{backend}-w{workers}"
                api, api_base = procs.start_api(env, workers, workdir, tag)
                floor, floor_base = procs.start_floor(floor_dsn, sandbox_base, workers, workdir, tag)
                api_mon = procs.RssMonitor(api).start()
                floor_mon = procs.RssMonitor(floor).start()
                try:
                    if not users:
                        t0 = time.time()
                        users = asyncio.run(procs.create_users(api_base, cfg.users, prefix=f"{backend}-"))
                        setup[f"{backend} users"] = round(time.time() - t0, 1)
                        asyncio.run(procs.create_floor_users(floor_base, [u for u, _ in users]))
                        setup[f"{backend} setup peak rss mb (argon2 logins)"] = api_mon.peak_mb()
                    sweep = cfg.concurrency if workers == 1 else cfg.n_workers_concurrency
                    rates: dict[str, float] = {}

                    def one(target: str, conc: int, *, expected: float | None, latency_ms: int = 0,
                            gateway: str = "portone") -> Point:
                        base, mon = (api_base, api_mon) if target == "pointcharge" else (floor_base, floor_mon)
                        point = measure(
                            backend=backend, workers=workers, target=target, conc=conc, base=base,
                            sandbox=sandbox_base, users=users, cfg=cfg, monitor=mon, workdir=workdir,
                            server=api if target == "pointcharge" else floor, sandbox_proc=sandbox,
                            expected_rate=expected, latency_ms=latency_ms, gateway=gateway,
                        )
                        points.append(point)
                        log(
                            f"{backend:8} w={workers} c={conc:<3} {target:11} {'Bootpay ' if gateway == 'bootpay' else ''}"
                            f"{f'PortOne +{latency_ms} ms ' if latency_ms else ''}{point.charges_per_s:8.1f}/s "
                            f"p50 {point.p50_ms:7.2f} p99 {point.p99_ms:7.2f} ms  err {point.errors}  gets/charge "
                            f"{point.bootpay_gets_per_charge if gateway == 'bootpay' else point.portone_gets_per_charge}  "
                            f"rss {point.peak_rss_mb} MB  "
                            f"cpu/charge {point.server_cpu_ms_per_charge} ms (server {point.server_cpu_pct}%, "
                            f"sandbox {point.sandbox_cpu_pct}%, loadgen {point.loadgen_cpu_pct}%, "
                            f"foreign {point.foreign_cpu_pct}%)"
                        )
                        if point.error_samples:
                            log(f"    errors: {point.error_samples}")
                        return point

                    portone = "portone" in cfg.gateways
                    for conc in [] if cfg.latency_only or not portone else sweep:
                        for target in cfg.targets:
                            rates[target] = one(target, conc, expected=rates.get(target)).charges_per_s
                    if cfg.latency_ms and workers == 1 and portone:
                        # What a production user sees: PortOne is tens to hundreds of milliseconds
                        # away, so at a fixed number of clients the ceiling is clients / latency.
                        bound = concurrency_bound(cfg.latency_clients, cfg.latency_ms)
                        asyncio.run(procs.sandbox_faults(sandbox_base, latency_ms=cfg.latency_ms))
                        try:
                            for target in (t for t in cfg.latency_targets if t in cfg.targets):
                                one(target, cfg.latency_clients, expected=bound, latency_ms=cfg.latency_ms)
                        finally:
                            asyncio.run(procs.sandbox_faults(sandbox_base))
                    if "bootpay" in cfg.gateways and workers == 1 and not cfg.latency_only and "pointcharge" in cfg.targets:
                        expected = rates.get("pointcharge")
                        for conc in cfg.bootpay_concurrency:
                            expected = one("pointcharge", conc, expected=expected, gateway="bootpay").charges_per_s
                finally:
                    api_mon.stop()
                    floor_mon.stop()
                    api.stop()
                    floor.stop()
    finally:
        sandbox.stop()
    result = {
        "kind": "charge",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "git": git_head(),
        "config": {k: v for k, v in asdict(cfg).items()},
        "setup_s": setup,
        "wall_s": round(time.time() - t_start, 1),
        "points": [asdict(p) for p in points],
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if any(p.errors for p in points):
        log(f"errors: server logs kept in {workdir}")
        result["logs"] = str(workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except OSError:
        return "?"


def machine() -> dict:
    import platform

    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
