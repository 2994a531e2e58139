"""Reconciliation of Bootpay payments: Bootpay has no listing API, so the reconciler walks our own
open Bootpay payments and re-fetches each receipt (services/reconcile.py). The API and the Bootpay
emulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.runtime import runtime
from services.reconcile import Reconciler
from tests.conftest import SandboxControl, api_settings, error_code, ledger_invariants
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session, bootpay_settings  # noqa: F401


async def reconcile(clean_db: str, sandbox: SandboxControl, api: BootpayAPI, *, apply: bool):  # type: ignore[no-untyped-def]
    async with runtime(api_settings(clean_db, sandbox, **bootpay_settings(api.bootpay))) as (services, db):
        return await Reconciler(db, services.charging, services.webhooks).run(
            since=datetime.now(UTC) - timedelta(days=1), apply=apply
        )


async def test_bootpay_payments_are_reconciled_without_a_listing(
    bootpay_api: BootpayAPI, sandbox: SandboxControl, clean_db: str
) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    # given a card charge that is all in order
    card_order = await api.prepare(5000)
    card = api.bootpay.pay(price=5000, order_id=card_order["merchantUid"], webhook=False)
    await api.charge(card["receipt_id"])
    report = await reconcile(clean_db, sandbox, api, apply=False)
    assert report.checked_remote == 1 and report.clean, report.as_dict()

    # given a virtual account claimed while pending, then deposited with the webhook lost
    vbank_order = await api.prepare(30000)
    vbank = api.bootpay.pay(price=30000, order_id=vbank_order["merchantUid"], method="vbank", webhook=False)
    assert error_code(await api.charge(vbank["receipt_id"])) == "PAYMENT_PENDING"
    api.bootpay.deposit(vbank["receipt_id"])
    # given a held payment whose confirm failed (Bootpay unreachable at that moment)
    held_order = await api.prepare(10000)
    held = api.bootpay.pay(price=10000, order_id=held_order["merchantUid"], separately_confirmed=True, webhook=False)
    api.bootpay.control("PUT", "/faults", json={"error_rate": 1.0, "endpoints": ["POST /v2/confirm"]})
    assert error_code(await api.charge(held["receipt_id"])) == "BOOTPAY_UNAVAILABLE"
    api.bootpay.control("DELETE", "/faults")
    # given a console cancel of the card charge whose webhook was lost
    assert api.bootpay.rest("POST", "/cancel", json={"receipt_id": card["receipt_id"], "cancel_price": 2000}).status_code == 200
    assert await api.balance() == 5000

    # when reconcile reports
    report = await reconcile(clean_db, sandbox, api, apply=False)
    # then it found all three by re-fetching our own open receipts, and fixed nothing
    kinds = {d.payment_key: d.kind for d in report.differences}
    assert kinds == {vbank["receipt_id"]: "paid_not_credited", held["receipt_id"]: "authorized_not_confirmed",
                     card["receipt_id"]: "cancelled_not_clawed_back"}, report.as_dict()
    assert api.bootpay.control("GET", f"/receipts/{held['receipt_id']}").json()["status"] == 2
    assert await api.balance() == 5000

    # when it applies: the deposit is credited, the held payment confirmed and credited, the cancel clawed back
    report = await reconcile(clean_db, sandbox, api, apply=True)
    assert all(d.fixed for d in report.differences) and report.clean, report.as_dict()
    assert api.bootpay.control("GET", f"/receipts/{held['receipt_id']}").json()["status"] == 1
    assert await api.balance() == 5000 - 2000 + 30000 + 10000
    assert await ledger_invariants(clean_db) == {user_id: 43000}
    # and a second run finds nothing
    assert (await reconcile(clean_db, sandbox, api, apply=True)).differences == []


async def test_a_tampered_held_payment_is_not_confirmed_by_reconcile(
    bootpay_api: BootpayAPI, sandbox: SandboxControl, clean_db: str
) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(10000)
    held = api.bootpay.pay(price=1000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    assert error_code(await api.charge(held["receipt_id"])) == "AMOUNT_MISMATCH"
    report = await reconcile(clean_db, sandbox, api, apply=True)
    assert report.differences == [], report.as_dict()
    assert api.bootpay.control("GET", f"/receipts/{held['receipt_id']}").json()["status"] == 2
    assert await api.balance() == 0
