"""The billing bench (``python -m bench billing``, bench/billing.py) wired end to end at a tiny count:
the standalone sandbox, keys issued at it, due subscriptions seeded, ``pointcharge billing run`` as a
subprocess, its RSS sampled, PortOne's requests counted and the result checked. No latency, no bound:
what is proved is that the bench measures the run it means to (psutil not needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench import billing
from tests.conftest import wipe_tables

N = 20


def test_the_billing_bench_charges_each_due_subscription_once(database_url: str, tmp_path: Path) -> None:
    # given an empty migrated database (this suite's: SQLite, or PostgreSQL under the env)
    asyncio.run(wipe_tables(database_url))
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    cfg = billing.Config(backends=[backend], n=N, concurrency=[4], latency_ms=0, migrate=False,
                         sample_s=0.2, env={"POINTCHARGE_LOG_LEVEL": "warning"})
    # when the bench seeds 20 due subscriptions and times `pointcharge billing run` over them
    point = billing.run_point(cfg, backend, 4, tmp_path, log=lambda *_: None, database_url=database_url)
    # then the run charged each once: its own report, the sandbox's requests (one charge each, one
    # token) and the database (paid attempts, credits, cycles moved on) all say 20
    assert point["report"]["subscriptions"] == {"claimed": N, "paid": N}  # (the other jobs: nothing due)
    assert point["portone_calls"] == {"POST /v1/users/getToken": 1, billing.CHARGE_TEMPLATE: N}
    assert point["portone_calls_per_charge"] == 1.05
    assert point["checks"]["ok"], point["checks"]
    assert point["checks"]["balance_total"] == N * cfg.amount
    # and it was measured: a run time, samples of the run's RSS, no bound without latency
    assert 0 < point["run_s"] <= point["process_wall_s"]
    assert point["samples"] and point["rss_mb_100pct"] and point["rss_mb_100pct"] > 20
    assert "bound_per_s" not in point
