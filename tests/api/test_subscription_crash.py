"""A ``pointcharge billing run`` process SIGKILLed mid-cycle, then run again: the cycle is charged
once at PortOne and credited once.

- ``card_charge_after_gateway``: PortOne charged month 2, nothing of it is ours (attempt and order
  claim left ``charging``). The next run, once the dead run's claim has lapsed, finds the attempt,
  asks PortOne for its merchant_uid and credits what it finds, charging nothing.
- ``billing_after_charge``: credited, the subscription not moved on. The next run answers the
  attempt from its credit and moves on.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from services.billing import subscription_claims as claims
from services.db import Database
from services.models import utcnow

from tests.api.test_crash import ROOT, server_env
from tests.api.test_point_subscriptions import CREATE, LIST, card_of, paid_at_portone
from tests.conftest import GQL, SandboxControl, count_rows, ledger_invariants

# A charge's claim lasts max(lease, 3 × PortOne timeout) = 3 s, a run's claim on a subscription 10 s
# (long enough to look at it while it holds on a busy machine, short enough to wait out).
FAST = {
    "POINTCHARGE_PORTONE_TIMEOUT_S": "1", "POINTCHARGE_BILLING_CHARGE_LEASE_S": "1",
    "POINTCHARGE_BILLING_RUN_LEASE_S": "10", "POINTCHARGE_LOG_LEVEL": "warning",
}


def billing_run(env: dict[str, str], at: datetime) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "billing", "run", "--at", at.isoformat(), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("crash_at", ["card_charge_after_gateway", "billing_after_charge"])
async def test_runner_killed_mid_cycle_then_run_again_charges_and_credits_once(
    api: GQL, sandbox: SandboxControl, clean_db: str, crash_at: str
) -> None:
    # given an active subscription whose month 2 is due
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = datetime.fromisoformat(sub["nextChargeAt"])
    month2 = f"ps_{sub['_id']}_c2_"
    # when a runner is killed at the crash point
    killed = billing_run(server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT=crash_at, **FAST), due)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # then PortOne charged month 2 once; the attempt was recorded before PortOne was asked
    assert [p["status"] for p in await paid_at_portone(sandbox, month2)] == ["paid"]
    credited_by_then = 20000 if crash_at == "billing_after_charge" else 10000
    assert list((await ledger_invariants(clean_db)).values()) == [credited_by_then]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE cycle = 2") == 1
    # when another runner looks while the dead run's claim holds: it cannot claim the subscription
    db = Database.from_url(clean_db)
    try:
        held = await claims.claim_due(db, at=due, started=utcnow(), lease_s=10, limit=10, token=claims.new_token())
        lease_until = (await claims.get(db, sub["_id"])).lease_until  # type: ignore[union-attr]
    finally:
        await db.dispose()
    assert held == [] and lease_until is not None and lease_until > utcnow()
    # and once the claim has lapsed, a run resumes the attempt
    await asyncio.sleep(max(0.0, (lease_until - utcnow()).total_seconds() + 0.2))
    env = server_env(clean_db, sandbox, **FAST)
    resumed = billing_run(env, due)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert '"paid": 1' in resumed.stdout, resumed.stdout
    # then month 2 was charged once in all and credited once; month 3 is next
    payments = await paid_at_portone(sandbox, month2)
    assert [(p["merchant_uid"], p["status"]) for p in payments] == [(f"{month2}a1", "paid")]
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'paid'") == 2
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "ACTIVE" and datetime.fromisoformat(state["nextChargeAt"]) > due + timedelta(days=27)
    # and a further run at the same time charges nothing
    assert '"claimed"' not in billing_run(env, due).stdout

