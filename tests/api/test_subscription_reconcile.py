"""``pointcharge reconcile`` over subscription attempts (services/billing/attempt_reconcile.py): an
attempt left open by a run that died, on a subscription that ended since (its card deleted), is
settled by what PortOne holds for its merchant_uid — paid: credited once; nothing: closed."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta

import pytest

from api.runtime import runtime
from services.reconcile import Reconciler
from tests.api.test_crash import server_env
from tests.api.test_payment_cards import DELETE
from tests.api.test_point_subscriptions import CREATE, card_of, paid_at_portone
from tests.api.test_subscription_crash import FAST, billing_run
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, ledger_invariants


@pytest.mark.parametrize(
    ("crash_at", "closed_as", "balance"),
    [("card_charge_after_gateway", "paid", 20000), ("card_charge_before_gateway", "refused", 10000)],
)
async def test_reconcile_settles_the_open_attempt_of_a_subscription_that_ended(
    api: GQL, sandbox: SandboxControl, clean_db: str, crash_at: str, closed_as: str, balance: int
) -> None:
    # given a run killed mid-cycle (after PortOne charged, or before it heard anything), then the
    # user deleting the card: the subscription is cancelled, the runner will not come back to it
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = datetime.fromisoformat(sub["nextChargeAt"])
    killed = billing_run(server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT=crash_at, **FAST), due)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (await api(DELETE, {"c": card_id}))["data"]["deletePaymentCard"] == card_id
    # when reconcile runs (twice) over attempts left open
    async with runtime(api_settings(clean_db, sandbox)) as (services, db):
        for _ in range(2):
            await Reconciler(db, services.charging, services.webhooks, stale_after=timedelta(0),
                             extra_checks=services.reconcile_checks()).run(since=due - timedelta(days=40), apply=True)
    # then the attempt is settled by what PortOne holds: paid → credited once; nothing → closed
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE cycle = 2 AND state = :s", s=closed_as
    ) == 1
    assert list((await ledger_invariants(clean_db)).values()) == [balance]
    assert len(await paid_at_portone(sandbox, f"ps_{sub['_id']}_c2_")) == (1 if closed_as == "paid" else 0)
