"""Duplicate storms across processes on PostgreSQL (the driver: tests/reliability/storm.py).

Small by default so that CI runs them on every PostgreSQL pass; ``POINTCHARGE_STORM_PAYMENTS`` and
``POINTCHARGE_STORM_CRASH_PAYMENTS`` scale them (docs/RELIABILITY.md has the big runs' figures).
They use their own database (``<suite database>_storm``, e.g. ``test_storm``, dropped and
recreated) on the server of ``POINTCHARGE_TEST_DATABASE_URL``, so the suite's database is untouched.
"""

from __future__ import annotations

import json
import os

from urllib.parse import urlsplit

import pytest

from tests.reliability.storm import StormConfig, plain, run_storm

PG_URL = os.environ.get("POINTCHARGE_TEST_DATABASE_URL", "")
# Named after the suite's database (test → test_storm), so that two suites running at once against
# one server (a developer's and CI's) never drop each other's storm database.
STORM_DB = (urlsplit(PG_URL).path.lstrip("/") or "pointcharge") + "_storm"

pytestmark = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="multi-process storms need PostgreSQL (set POINTCHARGE_TEST_DATABASE_URL)",
)

ACCEPTED_CODES = {"prepared:OK", "unprepared:OK", "failed:PAYMENT_NOT_PAID"}


def _print(name: str, report: object) -> None:
    from dataclasses import asdict

    data = plain(asdict(report))  # type: ignore[call-overload]
    data.pop("config", None)
    print(f"\n{name}: " + json.dumps(data, ensure_ascii=False, default=str))


async def test_duplicate_storm_across_four_workers() -> None:
    # given 4 workers behind one sandbox; every payment sent 10x by mutation, webhook and redirect,
    # the sandbox's own webhooks duplicated and delayed
    payments = int(os.environ.get("POINTCHARGE_STORM_PAYMENTS", "80"))
    cfg = StormConfig(payments=payments, users=max(5, payments // 10), workers=4, admin_url=PG_URL,
                      db_name=STORM_DB, verbose=False)
    report = await run_storm(cfg)
    _print("storm", report)
    # then every paid payment is credited exactly once, balances equal their ledgers, no 5xx
    assert report.violations == {}, report.violations
    assert not any(report.live.values()), report.live  # without any help from reconciliation
    assert report.transport_errors == 0
    assert set(report.mutation_codes) <= ACCEPTED_CODES, report.mutation_codes
    assert report.payments_paid > 0 and report.payments_unpaid > 0


async def test_crash_storm_sigkills_workers_then_replay_and_reconcile() -> None:
    # given the same storm while a random worker is SIGKILLed every ~1.5 s (uvicorn restarts it)
    payments = int(os.environ.get("POINTCHARGE_STORM_CRASH_PAYMENTS", "40"))
    cfg = StormConfig(payments=payments, users=max(5, payments // 10), workers=4, crash_every_s=1.5,
                      admin_url=PG_URL, db_name=STORM_DB, verbose=False)
    report = await run_storm(cfg)
    _print("crash storm", report)
    assert report.kills >= 1
    # then after webhook replay, reconcile --apply and one client retry, the invariants hold
    assert report.settled, "the settle phase ran"
    assert report.violations == {}, report.violations
    assert not report.settle.get("final_reconcile_remaining"), report.settle
    # requests cut by a kill are connection errors, never a 5xx
    assert report.http_5xx == 0


async def test_buying_storm_across_four_workers() -> None:
    # given the duplicate storm plus the buying mix: every user lists items; after each payment its
    # user buys one (3 copies of the purchase at once) while another user races for the same item
    payments = int(os.environ.get("POINTCHARGE_STORM_BUYING_PAYMENTS", "60"))
    cfg = StormConfig(payments=payments, users=max(5, payments // 10), workers=4, admin_url=PG_URL,
                      db_name=STORM_DB, verbose=False, buying=True)
    report = await run_storm(cfg)
    _print("buying storm", report)
    # then no item sold twice, every acknowledged sale recorded, 구매 == -판매, balances exact, no 5xx
    assert report.violations == {}, report.violations
    assert not any(report.live.values()), report.live
    answers = report.buying["answers"]
    assert answers.get("OK", 0) > 0 and answers.get("ITEM_SOLD_OUT", 0) + answers.get("INSUFFICIENT_POINTS", 0) > 0
    assert set(answers) <= {"OK", "ITEM_SOLD_OUT", "INSUFFICIENT_POINTS", "CANNOT_BUY_OWN_ITEM"}, answers
