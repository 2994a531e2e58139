"""``serve`` runs due subscription cycles by itself every ``POINTCHARGE_BILLING_EVERY`` seconds."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from services.models import utcnow
from tests.api.test_point_subscriptions import CREATE, LIST, card_of, paid_at_portone
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, ledger_invariants
from tests.servers import run_server


async def test_serve_charges_a_due_cycle_on_its_own(sandbox: SandboxControl, clean_db: str) -> None:
    # given a server running the billing task every half second, and an active subscription
    with run_server(create_app(api_settings(clean_db, sandbox, billing_every=0.5))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _uid = await card_of(api, sandbox)
            sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
            # (nothing is due yet: the task leaves it alone)
            await asyncio.sleep(1.5)
            assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts") == 1
            # when month 2 falls due (its time moved into the past)
            engine = create_async_engine(clean_db)
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE point_subscriptions SET next_charge_at = :t"),
                                   {"t": utcnow() - timedelta(minutes=1)})
            await engine.dispose()
            # then the server charges it within a few rounds, once
            deadline = time.monotonic() + 15
            while await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'paid'") < 2:
                assert time.monotonic() < deadline, "the periodic billing task did not charge the due cycle"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)  # a few more rounds charge nothing more
            [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "ACTIVE" and state["lastChargedAt"] > sub["lastChargedAt"]
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    assert len(await paid_at_portone(sandbox, f"ps_{sub['_id']}_c2_")) == 1
