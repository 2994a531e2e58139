"""The billing run of ``python -m bench billing`` (issue 25): ``pointcharge billing run`` charging N
due monthly subscriptions against the standalone sandbox with PortOne latency, at a configured
concurrency, against the bound that concurrency allows.

Per point (database × concurrency), all fresh: a sandbox (``pointcharge sandbox``, in memory), a
database migrated by ``pointcharge migrate``, N billing keys issued at the sandbox as a browser would
(``POST /_control/billing-keys``, concurrently) and N users, active V1 cards and ACTIVE subscriptions
written straight into the database (bench/billing_seed.py): each subscription's first cycle was
charged 35 days ago, so its cycle 2 is due. Seeding is setup, not measured. Then the sandbox's
latency fault is set on every PortOne route (as the realistic-latency scenario of ``bench run``),
its request counts cleared, and ``pointcharge billing run --at <now> --json`` runs as a subprocess
with ``POINTCHARGE_BILLING_CONCURRENCY=C``. While it runs, its RSS and the sandbox's count of charges
are sampled every ``sample_s``.

The bound: C workers, each with one charge in flight, each charge waiting ``latency`` for every
PortOne call it makes: ``C / (latency × calls per charge)``. Calls per charge are counted at the
sandbox (its ``/_control/stats``), not assumed. After the run the point is checked: N paid charges at
the sandbox (one per merchant_uid), N paid attempts, N ledger credits, every subscription one cycle on.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import billing_seed as seed
from bench import procs

CHARGE_TEMPLATE = "POST /v1/subscribe/payments/again"
RUN_TIME = re.compile(r"billing run at [^:]+:.*\((\d+(?:\.\d+)?) s\)")


@dataclass
class Config:
    backends: list[str]
    n: int = 10_000
    concurrency: list[int] = field(default_factory=lambda: [32, 8, 64])
    latency_ms: int = 150
    amount: int = 10_000
    seed_concurrency: int = 32
    sample_s: float = 0.5
    pg_database: str = "bench_billing"
    migrate: bool = True  # False: the database is migrated already (a test's)
    cprofile: bool = False  # run it under cProfile: <workdir>/billing-<db>-c<C>.prof (slower; not for figures)
    # Extra environment of the run (e.g. POINTCHARGE_LOG_LEVEL); the tests shorten nothing else.
    env: dict[str, str] = field(default_factory=dict)


def bound(concurrency: int, latency_ms: float, calls_per_charge: float = 1.0) -> float:
    """Charges per second C workers can reach when each charge waits ``latency_ms`` for each of its
    PortOne calls, and nothing else costs time."""
    return concurrency / (latency_ms / 1000.0 * calls_per_charge)


# --- RSS without psutil (the bench extra): /proc/<pid>/status ------------------------------------


def rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stats(sandbox_base: str) -> dict[str, int]:
    with urllib.request.urlopen(sandbox_base + "/_control/stats", timeout=5) as r:
        return json.loads(r.read())


class Sampler:
    """Every ``interval_s``: seconds since start, the run's RSS, and the charges the sandbox has seen."""

    def __init__(self, pid: int, sandbox_base: str, interval_s: float) -> None:
        self.pid, self.sandbox_base, self.interval_s = pid, sandbox_base, interval_s
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu = rss_bytes(self.pid), cpu_s(self.pid)
            try:
                charges = _stats(self.sandbox_base).get(CHARGE_TEMPLATE, 0)
            except OSError:
                charges = -1
            if rss is not None:
                self.samples.append({"t_s": round(time.monotonic() - self._t0, 2),
                                     "rss_mb": round(rss / 2**20, 1), "charges": charges, "cpu_s": cpu})
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def rss_at_progress(samples: list[dict[str, float]], n: int) -> dict[str, float | None]:
    """RSS (MB) at the first sample with ≥ 10 % and ≥ 50 % of the charges made, at the last sample
    (100 %), the peak, and the growth from 10 % to 100 %."""
    def first(fraction: float) -> float | None:
        for s in samples:
            if s["charges"] >= fraction * n:
                return s["rss_mb"]
        return None

    at10, at50 = first(0.10), first(0.50)
    at100 = samples[-1]["rss_mb"] if samples else None
    peak = max((s["rss_mb"] for s in samples), default=None)
    # Start-up (imports, the schema) peaks before the first charge; the charging peak is what N moves.
    charging_peak = max((s["rss_mb"] for s in samples if s["charges"] > 0), default=None)
    growth = None if at10 is None or at100 is None else round(at100 - at10, 1)
    return {"rss_mb_10pct": at10, "rss_mb_50pct": at50, "rss_mb_100pct": at100, "rss_mb_peak": peak,
            "rss_mb_peak_charging": charging_peak, "rss_growth_mb_10_to_100pct": growth}


def cpu_ms_per_charge(samples: list[dict[str, float]]) -> float | None:
    """The run's CPU per charge while it charged (start-up excluded): from the first sample with a
    charge to the last sample."""
    charging = [s for s in samples if s["charges"] > 0 and s.get("cpu_s") is not None]
    if len(charging) < 2 or charging[-1]["charges"] == charging[0]["charges"]:
        return None
    first, last = charging[0], charging[-1]
    return round(1000 * (last["cpu_s"] - first["cpu_s"]) / (last["charges"] - first["charges"]), 2)


# --- one point ---------------------------------------------------------------------------------


def run_billing(env: dict[str, str], at: datetime, workdir: Path, sandbox_base: str, sample_s: float,
                tag: str, *, cprofile: bool = False) -> dict:
    """``pointcharge billing run --at <at> --json``: its report, wall time, logged run time, samples."""
    log_path = workdir / f"billing-{tag}.log"
    cmd = [str(procs.BIN / "pointcharge"), "billing", "run", "--at", at.isoformat(), "--json"]
    if cprofile:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(workdir / f"billing-{tag}.prof"), *cmd]
    with open(log_path, "wb") as err:
        began = time.monotonic()
        popen = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=workdir, stdout=subprocess.PIPE, stderr=err)
        sampler = Sampler(popen.pid, sandbox_base, sample_s).start()
        out, _ = popen.communicate()
        wall_s = time.monotonic() - began
        sampler.stop()
    text = log_path.read_text(errors="replace")
    if popen.returncode != 0:
        raise RuntimeError(f"billing run exited {popen.returncode}; see {log_path}:\n{text[-2000:]}")
    lines = [ln for ln in out.decode().splitlines() if ln.strip().startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    logged = RUN_TIME.findall(text)
    return {"report": report, "wall_s": round(wall_s, 2),
            "run_s": float(logged[-1]) if logged else None, "samples": sampler.samples, "log": str(log_path)}


def run_point(cfg: Config, backend: str, concurrency: int, workdir: Path, log=print,
              database_url: str | None = None) -> dict:
    """One run on a fresh database: ``database_url`` (SQLAlchemy's form, empty or migrated, e.g. a
    test's), else one made here (a SQLite file in ``workdir``; PostgreSQL ``cfg.pg_database``, dropped
    and created)."""
    tag = f"{backend}-c{concurrency}"
    sandbox, sandbox_base = procs.start_sandbox(workdir)
    try:
        if database_url is not None:
            url = database_url
        elif backend == "postgres":
            url = procs.sqlalchemy_url(asyncio.run(seed.recreate_pg(cfg.pg_database)))
        else:
            db_file = workdir / f"billing-{tag}.db"
            db_file.unlink(missing_ok=True)
            url = procs.sqlalchemy_url(f"sqlite:///{db_file}")
        env = {**procs.api_env("sqlite:///unused", sandbox_base), "POINTCHARGE_DATABASE_URL": url,
               "POINTCHARGE_BILLING_CONCURRENCY": str(concurrency), **cfg.env}
        if cfg.migrate:
            procs.migrate(env, workdir)
        t0 = time.monotonic()
        uids = asyncio.run(seed.issue_keys(sandbox_base, cfg.n, tag, concurrency=cfg.seed_concurrency))
        keys_s = time.monotonic() - t0
        at = datetime.now(UTC)
        asyncio.run(seed.seed_rows(url, uids, cfg.amount, at))
        log(f"{tag}: seeded {cfg.n} keys ({keys_s:.1f} s) and {cfg.n} users/cards/subscriptions "
            f"({time.monotonic() - t0 - keys_s:.1f} s)")
        if cfg.latency_ms:
            asyncio.run(procs.sandbox_faults(sandbox_base, latency_ms=cfg.latency_ms))
        asyncio.run(procs.sandbox_stats(sandbox_base, reset=True))
        load_before, sandbox_cpu = os.getloadavg(), cpu_s(sandbox.pid)
        run = run_billing(env, at, workdir, sandbox_base, cfg.sample_s, tag, cprofile=cfg.cprofile)
        load_after = os.getloadavg()
        # The sandbox shares the machine's cores with the run: its CPU is part of what the run waits on.
        sandbox_cpu = (cpu_s(sandbox.pid) or 0.0) - (sandbox_cpu or 0.0)
        asyncio.run(procs.sandbox_faults(sandbox_base))
        calls = {k: v for k, v in asyncio.run(procs.sandbox_stats(sandbox_base)).items() if v}
        checks = asyncio.run(seed.verify(url, sandbox_base, cfg.n, cfg.amount, at))
    finally:
        sandbox.stop()
    charges = calls.get(CHARGE_TEMPLATE, 0)
    calls_total = sum(calls.values())
    per_charge = calls_total / charges if charges else None
    run_s = run["run_s"] or run["wall_s"]
    rate = cfg.n / run_s
    point: dict = {
        "db": backend, "n": cfg.n, "concurrency": concurrency, "latency_ms": cfg.latency_ms,
        "run_s": run_s, "process_wall_s": run["wall_s"],
        "charges_per_s": round(rate, 1), "charges_per_s_wall": round(cfg.n / run["wall_s"], 1),
        "portone_calls": calls, "portone_calls_per_charge": round(per_charge, 4) if per_charge else None,
        "report": run["report"], "checks": checks,
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
        "cpu_ms_per_charge": cpu_ms_per_charge(run["samples"]),
        "sandbox_cpu_ms_per_charge": round(1000 * sandbox_cpu / charges, 2) if charges else None,
        **rss_at_progress(run["samples"], cfg.n),
        "samples": run["samples"],
    }
    if cfg.latency_ms:
        b1 = bound(concurrency, cfg.latency_ms)
        point["bound_per_s"] = round(b1, 1)
        point["ratio"] = round(rate / b1, 3)
        point["ratio_wall"] = round(cfg.n / run["wall_s"] / b1, 3)
        if per_charge:
            bc = bound(concurrency, cfg.latency_ms, per_charge)
            point["bound_per_s_per_call"] = round(bc, 1)
            point["ratio_per_call"] = round(rate / bc, 3)
    log(f"{tag}: {cfg.n} charges in {run_s:.1f} s (process {run['wall_s']:.1f} s) = {rate:.1f}/s"
        + (f", bound {point['bound_per_s']}/s, ratio {point['ratio']}" if cfg.latency_ms else "")
        + f"; PortOne calls/charge {point['portone_calls_per_charge']}; RSS 10/50/100 % "
          f"{point['rss_mb_10pct']}/{point['rss_mb_50pct']}/{point['rss_mb_100pct']} MB; "
          f"CPU {point['cpu_ms_per_charge']} ms/charge (sandbox {point['sandbox_cpu_ms_per_charge']}); "
          f"checks ok={checks['ok']}")
    return point


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}


def run(cfg: Config, *, out: Path | None = None, log=print, workdir: Path | None = None) -> dict:
    workdir = workdir or Path(tempfile.mkdtemp(prefix="pointcharge-bench-billing-"))
    log(f"work dir: {workdir}")
    started = datetime.now(UTC)
    points = [run_point(cfg, backend, c, workdir, log) for backend in cfg.backends for c in cfg.concurrency]
    result = {
        "kind": "billing", "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "config": {k: v for k, v in asdict(cfg).items() if k != "env"}, "commit": _commit(),
        "points": points, "workdir": str(workdir),
    }
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    return result


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=procs.ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def table(result: dict) -> str:
    """The Markdown table of docs/PERFORMANCE.md's "Billing run (issue 25)"."""
    head = ("| db | N | C | latency ms | bound /s (C / latency) | run s | charges/s | ratio | process s | "
            "PortOne calls/charge | runner CPU ms/charge | sandbox CPU ms/charge | "
            "RSS MB at 10 % / 50 % / 100 % | load avg before | checks |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
    rows = []
    for p in result["points"]:
        rows.append(
            f"| {p['db']} | {p['n']:,} | {p['concurrency']} | {p['latency_ms']} | {p.get('bound_per_s', '–')} | "
            f"{p['run_s']:.1f} | {p['charges_per_s']:.1f} | {p.get('ratio', '–')} | {p['process_wall_s']:.1f} | "
            f"{p['portone_calls_per_charge']} | {p['cpu_ms_per_charge']} | {p['sandbox_cpu_ms_per_charge']} | "
            f"{p['rss_mb_10pct']} / {p['rss_mb_50pct']} / {p['rss_mb_100pct']} | {p['loadavg_before'][0]} | "
            f"{'ok' if p['checks']['ok'] else 'FAILED'} |"
        )
    return "\n".join([head, *rows])
