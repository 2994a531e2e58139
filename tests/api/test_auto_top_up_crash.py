"""An auto top-up whose process dies (SIGKILL) mid-charge, in the background task a purchase started:
after PortOne charged the card and before our commit (``card_charge_after_gateway``), or after the
claim was committed and before PortOne heard of it (``card_charge_before_gateway``). The purchase
stands; the billing runner's job (``run_due``) finds the payment at PortOne, or charges once."""

from __future__ import annotations

import signal
from datetime import timedelta

import httpx
import pytest

from services.models import utcnow
from tests.api.topup_shop import BUY, PENDING, auto, balance_of, runner, shop, topup_payments, topup_settings
from tests.api.test_crash import serve, server_env
from tests.conftest import GQL, SandboxControl, count_rows

FAST = {"POINTCHARGE_PORTONE_TIMEOUT_S": "1", "POINTCHARGE_BILLING_CHARGE_LEASE_S": "1"}


@pytest.mark.parametrize(
    ("crash_at", "at_portone"),
    [("card_charge_after_gateway", ["paid"]), ("card_charge_before_gateway", [])],
)
async def test_killed_mid_top_up_then_the_runner_charges_and_credits_once(
    sandbox: SandboxControl, clean_db: str, crash_at: str, at_portone: list[str]
) -> None:
    # given auto top-up of 10,000 under 5,000, a balance of 10,000, on a server that dies mid-charge
    env = server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT=crash_at, POINTCHARGE_AUTO_TOPUP_ENABLED="true", **FAST)
    with serve(env) as (proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            s = await shop(GQL(http), sandbox)
            await auto(s)
            item = await s.item(6_000)
            # when a purchase leaves 4,000 (the process may die before its answer is out)
            try:
                await http.post("/graphql", json={"query": BUY, "variables": {"id": item}},
                                headers={"Authorization": f"Bearer {s.buyer.token}"})
            except httpx.TransportError:
                pass
            assert proc.wait(10) == -signal.SIGKILL
    # then the purchase stands, the top-up is left pending, and nothing of the charge is ours
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status = '구매'") == 1
    assert [p["status"] for p in await topup_payments(sandbox)] == at_portone
    assert await count_rows(clean_db, PENDING) == 1
    assert await balance_of(clean_db, s.buyer_id) == 4_000

    # when the billing runner runs (its own process), twice
    settings = topup_settings(clean_db, sandbox, portone_timeout_s=1.0, billing_charge_lease_s=1.0)
    async with runner(settings) as services:
        taken = await services.auto_topups.run_due(utcnow() + timedelta(minutes=2))  # type: ignore[union-attr]
        again = await services.auto_topups.run_due(utcnow() + timedelta(hours=3))  # type: ignore[union-attr]
    # then the card is charged once in all, and credited once
    assert (taken, again) == (1, 0)
    assert [p["status"] for p in await topup_payments(sandbox)] == ["paid"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'paid'") == 1
    assert await balance_of(clean_db, s.buyer_id) == 14_000
