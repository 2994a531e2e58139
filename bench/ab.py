"""Interleaved A/B of two checkouts' charge paths: is B's PortOne throughput A's, within noise?

    git worktree add /tmp/bench-base <commit> && (cd /tmp/bench-base && make .venv/.installed-stamp)
    python -m bench.ab /tmp/bench-base . --conc 16,32 --rounds 6 --seconds 4

Each checkout's API (its own ``.venv/bin/pointcharge serve``, 1 worker, its own SQLite file) against
one PortOne sandbox; rounds of a few seconds per side and concurrency, the order alternating, so
that the foreign load of a shared machine, which drifts over minutes, falls on both alike (two
separate ``bench run`` minutes apart differed by ±20 % on the same code). Reports the per-side
medians and the per-round B/A ratios of charges/s and server CPU ms per charge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench import charge, procs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("roots", nargs=2, type=Path)
    ap.add_argument("--conc", default="16,32")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--out", type=Path, default=procs.ROOT / "bench" / "results" / "ab-latest.json")
    args = ap.parse_args()
    conc_list = [int(c) for c in args.conc.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="ab-"))
    sandbox, sandbox_base = procs.start_sandbox(workdir)
    sides: dict[str, dict] = {}
    try:
        for name, root in zip(("base", "now"), args.roots):
            d = workdir / name
            d.mkdir()
            env = procs.api_env(f"sqlite:///{d / 'api.db'}", sandbox_base)
            port = procs.free_port()
            proc = procs.Proc(name, [str(root / ".venv/bin/pointcharge"), "serve", "--port", str(port), "--workers", "1",
                                     "--log-level", procs.API_LOG_LEVEL], env=env, cwd=d, log=d / "api.log")
            base = f"http://127.0.0.1:{port}"
            proc.wait_http(base + "/readyz", timeout_s=120)
            users = asyncio.run(procs.create_users(base, args.users, prefix=f"{name}-"))
            sides[name] = {"proc": proc, "base": base, "users": users, "rate": 400.0}
        rows = []
        cfg_warmup = 30  # per side and round: the pool and caches are warm after the first round
        for r in range(args.rounds):
            for conc in conc_list:
                order = ["base", "now"] if r % 2 == 0 else ["now", "base"]
                for name in order:
                    s = sides[name]
                    n = max(300, int(s["rate"] * args.seconds * 1.5))
                    uids = asyncio.run(procs.create_payments(sandbox_base, n + cfg_warmup))
                    jobs = [[s["users"][i % len(s["users"])][1], u] for i, u in enumerate(uids)]
                    spec = {"url": s["base"] + "/graphql", "kind": "graphql", "concurrency": conc, "jobs": jobs,
                            "warmup": cfg_warmup, "max_seconds": args.seconds, "timeout_s": 30}
                    cpu0, busy0 = s["proc"].cpu_s(), procs.machine_busy_s()
                    res = charge.run_loadgen(spec, 1, workdir)
                    cpu1, busy1 = s["proc"].cpu_s(), procs.machine_busy_s()
                    sent = res["ok"] + res["errors"] + res["warmup_sent"]
                    rate = res["ok"] / res["seconds"]
                    s["rate"] = rate
                    lat = res["latencies_ms"]
                    row = {"round": r, "side": name, "conc": conc, "per_s": round(rate, 1),
                           "p50": round(charge.percentile(lat, 0.5), 2), "p99": round(charge.percentile(lat, 0.99), 2),
                           "cpu_ms": round(1000 * (cpu1 - cpu0) / sent, 3), "errors": res["errors"],
                           "machine_busy_pct": round(100 * (busy1 - busy0) / max(res["seconds"], 1e-9), 0)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        summary = {}
        for conc in conc_list:
            for name in ("base", "now"):
                rs = [x for x in rows if x["conc"] == conc and x["side"] == name]
                summary[f"{name} c={conc}"] = {k: round(statistics.median(x[k] for x in rs), 2)
                                               for k in ("per_s", "p50", "p99", "cpu_ms")}
            pairs = [(a, b) for a in rows for b in rows if a["conc"] == b["conc"] == conc and a["round"] == b["round"]
                     and a["side"] == "now" and b["side"] == "base"]
            summary[f"now/base c={conc}"] = {
                "per_s ratios": [round(a["per_s"] / b["per_s"], 2) for a, b in pairs],
                "cpu_ms ratios": [round(a["cpu_ms"] / b["cpu_ms"], 2) for a, b in pairs],
            }
        print(json.dumps(summary, indent=1))
        args.out.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    finally:
        for s in sides.values():
            s["proc"].stop()
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
