"""Reconciliation against the sandbox: nothing PortOne says is paid is lost, nothing is credited twice."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from api.runtime import runtime
from services.reconcile import Reconciler
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, ledger_invariants

PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def reconcile(clean_db: str, sandbox: SandboxControl, *, apply: bool, **kw):  # type: ignore[no-untyped-def]
    async with runtime(api_settings(clean_db, sandbox)) as (services, db):
        reconciler = Reconciler(db, services.charging, services.webhooks, **kw)
        return await reconciler.run(since=datetime.now(UTC) - timedelta(days=1), apply=apply)


async def test_clean_system_reports_nothing(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    report = await reconcile(clean_db, sandbox, apply=False)
    assert report.checked_remote == 1
    assert report.differences == [] and report.clean


async def test_dropped_webhook_is_credited_to_the_order_owner(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a prepared order paid at PortOne whose webhook was dropped and the browser closed
    user_id = await api.signup_and_login()
    order = (await api(PREPARE, {"a": 10000}))["data"]["preparePointCharge"]
    await sandbox.pay(10000, merchant_uid=order["merchantUid"], webhook=False)
    # when reconcile runs without --apply it only reports
    report = await reconcile(clean_db, sandbox, apply=False)
    assert [d.kind for d in report.differences] == ["paid_not_credited"]
    assert await balance(api) == 0
    # then with --apply it credits the order's owner, once
    report = await reconcile(clean_db, sandbox, apply=True)
    assert [(d.kind, d.fixed, d.user_id) for d in report.differences] == [("paid_not_credited", True, user_id)]
    assert report.clean
    assert await balance(api) == 10000
    again = await reconcile(clean_db, sandbox, apply=True)
    assert again.differences == []
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_console_cancel_with_dropped_webhook_is_clawed_back(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(7000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    await sandbox.console_cancel(paid["imp_uid"], amount=2000, webhook=False)
    report = await reconcile(clean_db, sandbox, apply=True)
    assert [(d.kind, d.fixed) for d in report.differences] == [("cancelled_not_clawed_back", True)]
    assert await balance(api) == 5000
    assert await ledger_invariants(clean_db) == {user_id: 5000}


async def test_expired_virtual_account_is_marked_expired(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 30000}))["data"]["preparePointCharge"]
    issued = await sandbox.pay(30000, merchant_uid=order["merchantUid"], pay_method="vbank", outcome="ready",
                               vbank_due=int(time.time()) + 2)
    await api(CHARGE, {"i": issued["imp_uid"]})  # PAYMENT_PENDING, and now we know the owner
    await asyncio.sleep(2.5)
    report = await reconcile(clean_db, sandbox, apply=True)
    assert [(d.kind, d.fixed) for d in report.differences] == [("vbank_expired", True)]
    orders = (await api("{ fetchPointChargeOrders { status } }"))["data"]["fetchPointChargeOrders"]
    assert orders == [{"status": "expired"}]
    assert (await reconcile(clean_db, sandbox, apply=True)).differences == []


async def test_unclaimed_payment_is_reported_not_guessed(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # a payment nobody prepared or claimed: we cannot know whose it is
    paid = await sandbox.pay(3000)
    report = await reconcile(clean_db, sandbox, apply=True)
    assert [(d.kind, d.fixed, d.payment_key) for d in report.differences] == [("unclaimed_paid", False, paid["imp_uid"])]
    assert not report.clean
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0


async def test_two_reconcilers_at_once_credit_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    user_id = await api.signup_and_login()
    for amount in (1000, 5000, 10000):
        order = (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]
        await sandbox.pay(amount, merchant_uid=order["merchantUid"])
    reports = await asyncio.gather(*(reconcile(clean_db, sandbox, apply=True) for _ in range(3)))
    assert all(r.clean for r in reports), [d.detail for r in reports for d in r.remaining]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 3
    assert await ledger_invariants(clean_db) == {user_id: 16000}


async def test_failed_webhook_is_replayed(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a webhook that arrived while PortOne could not answer our re-fetch
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"])
    await sandbox.faults(error_rate=1.0, endpoints=["GET /v1/payments/{imp_uid}"])
    await api.client.post("/webhooks/portone", json={"imp_uid": paid["imp_uid"], "merchant_uid": order["merchantUid"], "status": "paid"})
    for _ in range(100):
        if await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'failed'") == 1:
            break
        await asyncio.sleep(0.05)
    assert await balance(api) == 0
    await sandbox.clear_faults()
    # when the stored deliveries are replayed
    async with runtime(api_settings(clean_db, sandbox)) as (services, _db):
        ids = await services.webhooks.pending_ids(failed_only=True)
        assert len(ids) == 1
        assert await services.webhooks.process(ids[0]) == "processed"
    # then it is credited
    assert await balance(api) == 5000


@pytest.mark.skipif("postgresql" not in (__import__("os").environ.get("POINTCHARGE_TEST_DATABASE_URL") or ""),
                    reason="advisory locks are PostgreSQL's")
async def test_periodic_rounds_take_turns_on_postgres(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    from api.periodic import LOCK_KEY, reconcile_once
    from sqlalchemy import text

    async with runtime(api_settings(clean_db, sandbox)) as (services, db):
        reconciler = Reconciler(db, services.charging, services.webhooks)
        async with db.engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            assert await reconcile_once(reconciler, db, timedelta(days=1)) is False
            await holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        assert await reconcile_once(reconciler, db, timedelta(days=1)) is True


@pytest.mark.parametrize("reached_portone", [False, True])
async def test_cancel_left_in_flight_is_settled(
    api: GQL, sandbox: SandboxControl, clean_db: str, reached_portone: bool
) -> None:
    # given a 5,000 charge whose cancel got no answer from PortOne (either never processed, or
    # processed with the answer lost): the request stays "requested" and holds the points
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(5000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    await sandbox.faults(error_rate=1.0, process_before_fault=reached_portone, endpoints=["POST /v1/payments/cancel"])
    cancel = await api("mutation($i: ID!) { cancelPointTransaction(impUid: $i) { amount } }", {"i": paid["imp_uid"]})
    assert cancel["errors"][0]["extensions"]["code"] == "PORTONE_UNAVAILABLE"
    await sandbox.clear_faults()
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests WHERE status = 'requested'") == 1
    # when reconcile runs once the request is older than the staleness limit
    report = await reconcile(clean_db, sandbox, apply=True, stale_after=timedelta(0))
    # then the request is settled by what PortOne says: refunded → points taken once (the listing
    # shows the refund); not refunded → the request fails and its hold is released
    kind = "cancelled_not_clawed_back" if reached_portone else "cancel_in_flight"
    assert [(d.kind, d.fixed) for d in report.differences] == [(kind, True)]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests WHERE status = 'requested'") == 0
    expected = 0 if reached_portone else 5000
    assert await ledger_invariants(clean_db) == {user_id: expected}
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 5000 - expected
