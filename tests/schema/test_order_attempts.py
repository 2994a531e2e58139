"""Orders with several payment attempts (issue 17): every attempt PortOne reports paid is credited
exactly once to the order's owner — by the mutation, by a webhook alone, or by reconciliation —
and reconciliation is clean afterwards. The API and the PortOne sandbox, both over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api.runtime import runtime
from services.reconcile import Reconciler
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants

PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id impUid amount balance } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"
ORDERS = "{ fetchPointChargeOrders { merchantUid impUid status paidAmount } }"


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def credits(db: str) -> int:
    return await count_rows(db, "SELECT COUNT(*) FROM point_transactions WHERE status = '충전'")


async def webhook(api: GQL, db: str, imp_uid: str, merchant_uid: str, status: str = "paid") -> None:
    """PortOne's V1 notification, as it arrives; waits until the background sync has run."""
    before = await count_rows(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome <> 'received'")
    response = await api.client.post(
        "/webhooks/portone", json={"imp_uid": imp_uid, "merchant_uid": merchant_uid, "status": status}
    )
    assert response.status_code == 200, response.text
    for _ in range(200):
        if await count_rows(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome <> 'received'") > before:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("webhook not processed")


async def reconcile(db: str, sandbox: SandboxControl, *, apply: bool):  # type: ignore[no-untyped-def]
    async with runtime(api_settings(db, sandbox)) as (services, database):
        reconciler = Reconciler(database, services.charging, services.webhooks)
        return await reconciler.run(since=datetime.now(UTC) - timedelta(days=1), apply=apply)


async def vbank_then_card(api: GQL, sandbox: SandboxControl, amount: int = 10000) -> tuple[str, str, str]:
    """A prepared order; a virtual account issued for it (not paid); then the same order paid by card."""
    order = (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]
    vbank = await sandbox.pay(amount, merchant_uid=order, pay_method="vbank", outcome="ready")
    card = await sandbox.pay(amount, merchant_uid=order)
    assert card["status"] == "paid"
    return order, vbank["imp_uid"], card["imp_uid"]


async def test_vbank_issued_then_card_paid_is_credited_once_by_the_mutation(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an order whose virtual account was issued and claimed (the buyer saw the account)
    user_id = await api.signup_and_login()
    order = (await api(PREPARE, {"a": 10000}))["data"]["preparePointCharge"]["merchantUid"]
    vbank = await sandbox.pay(10000, merchant_uid=order, pay_method="vbank", outcome="ready")
    assert error_code(await api(CHARGE, {"i": vbank["imp_uid"]})) == "PAYMENT_PENDING"
    # when the buyer pays the same order by card instead, and the frontend claims it (twice)
    card = await sandbox.pay(10000, merchant_uid=order)
    first = await api(CHARGE, {"i": card["imp_uid"]})
    again = await api(CHARGE, {"i": card["imp_uid"]})
    # then the card attempt is credited, once, to the order's owner
    assert "errors" not in first, first
    tx = first["data"]["createPointTransactionOfLoading"]
    assert (tx["impUid"], tx["amount"], tx["balance"]) == (card["imp_uid"], 10000, 10000)
    assert again["data"]["createPointTransactionOfLoading"]["_id"] == tx["_id"]
    assert await credits(clean_db) == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}
    # and both attempts are on record, neither overwriting the other
    orders = (await api(ORDERS))["data"]["fetchPointChargeOrders"]
    assert sorted((o["impUid"], o["status"]) for o in orders) == sorted(
        [(vbank["imp_uid"], "ready"), (card["imp_uid"], "paid")]
    )
    assert (await reconcile(clean_db, sandbox, apply=False)).clean


async def test_vbank_issued_then_card_paid_is_credited_by_the_webhook_alone(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an order with a virtual account issued (its webhook came) and then paid by card
    user_id = await api.signup_and_login()
    order, vbank, card = await vbank_then_card(api, sandbox)
    await webhook(api, clean_db, vbank, order, "ready")
    # when only PortOne's webhook for the card tells us (the browser was closed)
    await webhook(api, clean_db, card, order)
    # then the owner is credited once, and the delivery is processed, not failed
    assert await balance(api) == 10000
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'failed'") == 0
    await webhook(api, clean_db, card, order)  # PortOne retries: nothing more
    assert await credits(clean_db) == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_vbank_deposited_after_the_card_paid_is_credited_too(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an order paid by card after its virtual account was issued, credited
    user_id = await api.signup_and_login()
    order, vbank, card = await vbank_then_card(api, sandbox)
    await api(CHARGE, {"i": card})
    # when the buyer also deposits into the virtual account (PortOne sends the webhook)
    await sandbox.deposit(vbank, webhook=False)
    await webhook(api, clean_db, vbank, order)
    # then both attempts are credited: two entries, the balance their sum
    assert await credits(clean_db) == 2
    assert await ledger_invariants(clean_db) == {user_id: 20000}
    # and reconciliation finds nothing to fix
    report = await reconcile(clean_db, sandbox, apply=True)
    assert report.differences == [], [(d.kind, d.detail) for d in report.differences]


async def test_failed_attempt_that_turns_paid_after_a_retry_is_credited_too(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an order whose first card attempt failed (claimed: PAYMENT_NOT_PAID) and whose retry was paid
    user_id = await api.signup_and_login()
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]["merchantUid"]
    failed = await sandbox.pay(5000, merchant_uid=order, outcome="failed")
    assert error_code(await api(CHARGE, {"i": failed["imp_uid"]})) == "PAYMENT_NOT_PAID"
    retry = await sandbox.pay(5000, merchant_uid=order)
    await api(CHARGE, {"i": retry["imp_uid"]})
    assert await balance(api) == 5000
    # when the PG approves the first attempt after all and PortOne notifies us
    response = await sandbox.http.post(f"/_control/payments/{failed['imp_uid']}/approve-late", json={"webhook": False})
    assert response.status_code == 200, response.text
    await webhook(api, clean_db, failed["imp_uid"], order)
    # then both are credited to the order's owner
    assert await credits(clean_db) == 2
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_reconcile_credits_every_uncredited_attempt_then_stays_clean(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given each state above with every notification lost (no claim, no webhook after issuing):
    user_id = await api.signup_and_login()
    # a vbank issued, then the card paid, then the vbank deposited (two paid attempts),
    _, vbank, _ = await vbank_then_card(api, sandbox, 10000)
    await sandbox.deposit(vbank, webhook=False)
    # a vbank issued and a card paid on another order,
    await vbank_then_card(api, sandbox, 30000)
    # and a failed attempt, retried and paid, that later turned paid itself
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]["merchantUid"]
    failed = await sandbox.pay(5000, merchant_uid=order, outcome="failed")
    await sandbox.pay(5000, merchant_uid=order)
    await sandbox.http.post(f"/_control/payments/{failed['imp_uid']}/approve-late", json={"webhook": False})

    # when reconcile reports, then applies
    report = await reconcile(clean_db, sandbox, apply=False)
    kinds = sorted(d.kind for d in report.differences)
    assert kinds.count("paid_not_credited") == 5, kinds
    applied = await reconcile(clean_db, sandbox, apply=True)

    # then every paid attempt is credited to the owner, and nothing remains
    assert applied.clean, [(d.kind, d.detail) for d in applied.remaining]
    assert await credits(clean_db) == 5
    assert await ledger_invariants(clean_db) == {user_id: 10000 * 2 + 30000 + 5000 * 2}
    # and a second run changes nothing
    again = await reconcile(clean_db, sandbox, apply=True)
    assert again.differences == [], [(d.kind, d.detail) for d in again.differences]
    assert await credits(clean_db) == 5
