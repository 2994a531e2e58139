"""Setup and checks of the billing bench (bench/billing.py): keys at the sandbox, due subscriptions in
the database (written in the shapes services/models.py defines, not through the API: seeding is not
what the bench measures), and what must hold after the run."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import procs
from services.billing import subscription_claims as claims
from services.models import (
    PaymentCard, PointSubscription, PointSubscriptionAttempt, PointTransaction, User, UserPoint, new_id,
    new_subscription_id,
)

BATCH = 1000
# The first cycle was charged this long before the run: cycle 2 (one month after it) is due.
FIRST_CHARGE_AGO = timedelta(days=35)


async def recreate_pg(name: str) -> str:
    return await procs.recreate_pg_database(name)


async def issue_keys(sandbox_base: str, n: int, tag: str, *, concurrency: int = 32) -> list[str]:
    """N V1 billing keys, issued as a buyer in the checkout would (``POST /_control/billing-keys``);
    their customer_uids, in order."""
    run = secrets.token_hex(3)
    uids = [f"pcu_bench_{tag}_{run}_{i:06d}" for i in range(n)]
    url = sandbox_base + "/_control/billing-keys"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def worker(start: int) -> None:
            for i in range(start, n, concurrency):
                async with s.post(url, json={"version": "v1", "customer_uid": uids[i]}) as r:
                    if r.status != 200:
                        raise RuntimeError(f"billing key {uids[i]}: {r.status} {await r.text()}")

        await asyncio.gather(*(worker(k) for k in range(min(concurrency, n))))
    return uids


def _rows(uids: list[str], amount: int, at: datetime) -> tuple[list[dict], ...]:
    users, points, cards, subs = [], [], [], []
    for i, uid in enumerate(uids):
        user_id, card_id = new_id(), new_id()
        anchor = at - FIRST_CHARGE_AGO - timedelta(seconds=i)  # distinct due times, oldest first
        day = claims.billing_day_of(anchor)
        users.append({"id": user_id, "email": f"{uid}@bench.example.com", "name": f"정기{i}",
                      "password_hash": "!bench-no-login", "created_at": anchor, "updated_at": anchor})
        points.append({"id": new_id(), "user_id": user_id, "amount": 0, "created_at": anchor, "updated_at": anchor})
        cards.append({"id": card_id, "user_id": user_id, "provider": "portone_v1", "customer_uid": uid,
                      "customer_id": user_id, "status": "active", "card_name": "벤치카드",
                      "card_number": "1234-****-****-5678", "pg_provider": "html5_inicis", "created_at": anchor,
                      "registered_at": anchor, "updated_at": anchor})
        subs.append({"id": new_subscription_id(), "user_id": user_id, "card_id": card_id, "amount": amount,
                     "billing_day": day, "anchor_at": anchor, "status": claims.ACTIVE, "cycle": 2, "attempt": 0,
                     "next_charge_at": claims.due_at(anchor, day, 2), "last_charged_at": anchor,
                     "created_at": anchor, "updated_at": anchor})
    return users, points, cards, subs


async def seed_rows(url: str, uids: list[str], amount: int, at: datetime) -> None:
    """Users with a zero balance, their active V1 cards (one key each), and an ACTIVE subscription
    each whose cycle 2 is due at ``at``."""
    tables = (User, UserPoint, PaymentCard, PointSubscription)
    engine = create_async_engine(url)
    try:
        for model, rows in zip(tables, _rows(uids, amount, at), strict=True):
            for start in range(0, len(rows), BATCH):
                async with engine.begin() as conn:
                    await conn.execute(insert(model.__table__), rows[start:start + BATCH])  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def sandbox_charges(sandbox_base: str) -> list[dict]:
    """The V1 payments the sandbox holds for subscription orders (merchant_uid ``ps_…``)."""
    async with aiohttp.ClientSession() as s:
        async with s.get(sandbox_base + "/_control/payments") as r:
            r.raise_for_status()
            every = await r.json()
    return [p["payment"] for p in every
            if p["version"] == "v1" and str(p["payment"].get("merchant_uid") or "").startswith("ps_")]


async def verify(url: str, sandbox_base: str, n: int, amount: int, at: datetime) -> dict:
    """What must hold after the run: N charges paid at the sandbox, one per order; N paid attempts of
    cycle 2; N ledger credits of ``amount``; every subscription ACTIVE on cycle 3, unclaimed, due later."""
    remote = await sandbox_charges(sandbox_base)
    paid = [p for p in remote if p.get("status") == "paid"]
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            async def scalar(stmt):  # type: ignore[no-untyped-def]
                return (await conn.execute(stmt)).scalar_one()

            S, A, T = PointSubscription, PointSubscriptionAttempt, PointTransaction
            got = {
                "sandbox_paid": len(paid),
                "sandbox_not_paid": len(remote) - len(paid),
                "sandbox_paid_orders": len({p["merchant_uid"] for p in paid}),
                "attempts_paid": await scalar(
                    select(func.count()).select_from(A).where(A.state == claims.PAID, A.cycle == 2)),
                "attempts_total": await scalar(select(func.count()).select_from(A)),
                "credits": await scalar(select(func.count()).select_from(T).where(
                    T.status == "충전", T.amount == amount, T.payment_id.is_not(None))),
                "ledger_entries": await scalar(select(func.count()).select_from(T)),
                "balance_total": int(await scalar(select(func.coalesce(func.sum(UserPoint.amount), 0)))),
                "advanced": await scalar(select(func.count()).select_from(S).where(
                    S.status == claims.ACTIVE, S.cycle == 3, S.attempt == 0, S.lease_token.is_(None),
                    S.next_charge_at > at)),
                "subscriptions": await scalar(select(func.count()).select_from(S)),
            }
    finally:
        await engine.dispose()
    want = {"sandbox_paid": n, "sandbox_not_paid": 0, "sandbox_paid_orders": n, "attempts_paid": n,
            "attempts_total": n, "credits": n, "ledger_entries": n, "balance_total": n * amount, "advanced": n,
            "subscriptions": n}
    got["ok"] = all(got[k] == v for k, v in want.items())
    if not got["ok"]:
        got["expected"] = want
    return got
