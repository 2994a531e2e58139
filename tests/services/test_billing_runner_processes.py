"""Two ``pointcharge billing run`` processes at once on one PostgreSQL database, 1,000 subscriptions
due, against the PortOne V1 sandbox over HTTP: every cycle is charged once at PortOne and credited
once, whichever process claimed it. (SQLite has one writer: the claims' SKIP LOCKED race needs
PostgreSQL; the SQLite runs are covered by tests/api/test_point_subscriptions.py.)"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from services.billing.subscription_claims import billing_day_of, due_at
from services.models import PaymentCard, PointSubscription, User, UserPoint, new_id, new_subscription_id, utcnow
from tests.api.test_crash import ROOT, server_env
from tests.conftest import SandboxControl, count_rows, ledger_invariants

N = 1000


async def seed(database_url: str, sandbox: SandboxControl, n: int) -> list[str]:
    """n users, each with a card (a key issued at the sandbox) and a subscription whose month 2 is due."""
    now = utcnow()
    anchor = now - timedelta(days=40)
    users, points, cards, subs = [], [], [], []
    for i in range(n):
        user_id, card_id = new_id(), new_id()
        users.append(dict(id=user_id, email=f"sub{i}@example.com", name="구독자", password_hash="x",
                          created_at=now, updated_at=now))
        points.append(dict(id=new_id(), user_id=user_id, amount=0, created_at=now, updated_at=now))
        cards.append(dict(id=card_id, user_id=user_id, provider="portone_v1", customer_uid=f"pcu_bench_{card_id}",
                          customer_id=user_id, status="active", card_name="신한카드", created_at=now,
                          registered_at=now, updated_at=now))
        subs.append(dict(id=new_subscription_id(), user_id=user_id, card_id=card_id, amount=10000,
                         billing_day=billing_day_of(anchor), anchor_at=anchor, status="ACTIVE", cycle=2, attempt=0,
                         next_charge_at=due_at(anchor, billing_day_of(anchor), 2), last_charged_at=anchor,
                         created_at=anchor, updated_at=anchor))
    gate = asyncio.Semaphore(16)

    async def issue(card: dict) -> None:
        async with gate:
            r = await sandbox.http.post("/_control/billing-keys", json={"version": "v1", "customer_uid": card["customer_uid"]})
            assert r.status_code == 200, r.text

    await asyncio.gather(*(issue(c) for c in cards))
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(User.__table__), users)
            await conn.execute(insert(UserPoint.__table__), points)
            await conn.execute(insert(PaymentCard.__table__), cards)
            await conn.execute(insert(PointSubscription.__table__), subs)
    finally:
        await engine.dispose()
    return [s["id"] for s in subs]


async def test_two_runner_processes_charge_each_of_1000_due_cycles_once(
    sandbox: SandboxControl, clean_db: str
) -> None:
    if not clean_db.startswith("postgresql"):
        pytest.skip("N runner processes on one database: PostgreSQL only")
    # given 1,000 subscriptions whose month 2 is due
    ids = await seed(clean_db, sandbox, N)
    at = (utcnow() + timedelta(minutes=1)).isoformat()
    env = server_env(clean_db, sandbox, POINTCHARGE_BILLING_CONCURRENCY="8", POINTCHARGE_LOG_LEVEL="warning")
    # when two `pointcharge billing run` processes start at once
    started = time.monotonic()
    procs = [
        subprocess.Popen([sys.executable, "-m", "api.cli", "billing", "run", "--at", at, "--json"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = await asyncio.gather(*(asyncio.to_thread(p.communicate, timeout=120) for p in procs))
    elapsed = time.monotonic() - started
    reports = []
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err.decode()[-3000:]
        reports.append(json.loads(out.decode().strip().splitlines()[-1])["subscriptions"])
    # then between them they claimed each subscription once and charged each once
    assert sum(r.get("claimed", 0) for r in reports) == N, reports
    assert sum(r.get("paid", 0) for r in reports) == N, reports
    listed = (await sandbox.http.get("/_control/payments")).json()
    month2 = [p["payment"] for p in listed if str(p["payment"].get("merchant_uid", "")).startswith("ps_")]
    assert len(month2) == N and {p["status"] for p in month2} == {"paid"}
    assert len({p["merchant_uid"] for p in month2}) == N
    assert {p["merchant_uid"] for p in month2} == {f"ps_{i}_c2_a1" for i in ids}
    # and credited once each: 1,000 ledger entries, balances consistent, every subscription moved on
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status = '충전'") == N
    assert set((await ledger_invariants(clean_db)).values()) == {10000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions WHERE cycle = 3 AND status = 'ACTIVE'") == N
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'paid' AND cycle = 2"
    ) == N
    # (both processes took part)
    print(f"two runners, {N} cycles: {elapsed:.1f} s; per process {reports}")
