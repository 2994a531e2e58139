"""Payment lifecycle beyond the happy path, end to end over real HTTP: webhooks, the mobile
redirect, virtual accounts and cancellations (ours and PortOne console's)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urljoin, urlparse

import pytest

from services.db import Database
from services.ledger import spend_points
from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount balance status } }"
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { _id amount balance status impUid } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest.fixture
def hooks(api: GQL, sandbox: SandboxControl) -> str:
    """Points the sandbox's webhooks at the API (as a merchant does in PortOne's console)."""
    url = str(api.client.base_url).rstrip("/") + "/webhooks/portone"
    sandbox.config.webhook_url = url  # type: ignore[attr-defined]
    return url


async def deliveries(db: str, outcome: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM webhook_deliveries" + (" WHERE outcome = :o" if outcome else "")
    return await count_rows(db, sql, **({"o": outcome} if outcome else {}))


async def post_webhook(api: GQL, body: dict, *, form: bool = False):  # type: ignore[no-untyped-def]
    if form:
        return await api.client.post("/webhooks/portone", data=body)
    return await api.client.post("/webhooks/portone", json=body)


async def test_webhook_alone_credits_a_prepared_order(api: GQL, sandbox: SandboxControl, hooks: str, clean_db: str) -> None:
    # given a prepared order; the user pays and closes the browser (the client never calls us)
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    await sandbox.pay(5000, merchant_uid=order["merchantUid"], webhook=True)
    # then PortOne's webhook alone credits the order's owner
    await eventually(lambda: _balance_is(api, 5000))
    assert await deliveries(clean_db, "processed") == 1


async def _balance_is(api: GQL, expected: int) -> bool:
    return await balance(api) == expected


async def test_webhook_before_the_mutation_for_an_unclaimed_payment(
    api: GQL, sandbox: SandboxControl, hooks: str, clean_db: str
) -> None:
    # given a codecamp-style payment (no prepared order) whose webhook arrives first
    await api.signup_and_login()
    paid = await sandbox.pay(3000, webhook=True)
    await eventually(lambda: _deliveries_are(clean_db, "processed", 1))
    # it is stored but nobody is credited yet (we do not know whose it is)
    assert await balance(api) == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE user_id IS NULL AND status = 'paid'") == 1
    # when its owner claims it, it is credited once
    tx = (await api(CHARGE, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    assert tx["amount"] == 3000
    assert await balance(api) == 3000


async def _deliveries_are(db: str, outcome: str, n: int) -> bool:
    return await deliveries(db, outcome) == n


async def _settled(db: str, n: int) -> bool:
    """n deliveries done: processed, or "duplicate" — the same payment and status fetched by another
    delivery within the de-duplication window (services/webhooks.py), PortOne not asked again."""
    done = await count_rows(db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome IN ('processed', 'duplicate')")
    return done == n and await deliveries(db, "processed") >= 1


async def test_webhook_after_the_mutation_and_duplicates_out_of_order(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a payment credited by the mutation
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    first = (await api(CHARGE, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    # when webhooks arrive late, duplicated, out of order, as JSON and as a form
    bodies = [
        ({"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}, False),
        ({"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "ready"}, True),
        ({"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}, True),
        ({"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}, False),
    ]
    for body, form in bodies:
        response = await post_webhook(api, body, form=form)
        assert response.status_code == 200, response.text
    await eventually(lambda: _settled(clean_db, 4))
    # then there is still exactly one credit
    assert await balance(api) == 5000
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    again = (await api(CHARGE, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    assert again["_id"] == first["_id"]


async def test_forged_webhook_for_an_unpaid_payment_credits_nothing(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a prepared order whose payment failed at PortOne
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    failed = await sandbox.pay(5000, merchant_uid=order["merchantUid"], outcome="failed")
    # when someone posts a webhook claiming it was paid
    forged = {"imp_uid": failed["imp_uid"], "merchant_uid": order["merchantUid"], "status": "paid"}
    assert (await post_webhook(api, forged)).status_code == 200
    await eventually(lambda: _deliveries_are(clean_db, "processed", 1))
    # then PortOne's answer (failed) wins
    assert await balance(api) == 0
    orders = (await api("{ fetchPointChargeOrders { status } }"))["data"]["fetchPointChargeOrders"]
    assert orders == [{"status": "failed"}]


async def test_bad_webhook_bodies(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    not_portone = await api.client.post("/webhooks/portone", json={"hello": "world"})
    garbage = await api.client.post("/webhooks/portone", content=b"\x00\xff{", headers={"content-type": "application/json"})
    ignored = await post_webhook(api, {"imp_uid": "imp_1", "merchant_uid": "m", "status": "something_new"})
    assert not_portone.status_code == 400 and garbage.status_code == 400
    assert ignored.status_code == 200 and ignored.json()["status"] == "ignored"
    # every delivery was stored as received, with its outcome
    assert await deliveries(clean_db) == 3
    assert await deliveries(clean_db, "rejected") == 2
    assert await deliveries(clean_db, "ignored") == 1


async def test_virtual_account_pending_then_deposit_credits(
    api: GQL, sandbox: SandboxControl, hooks: str
) -> None:
    # given a virtual account issued for a prepared 30,000 order
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 30000}))["data"]["preparePointCharge"]
    issued = await sandbox.pay(30000, merchant_uid=order["merchantUid"], pay_method="vbank", outcome="ready", webhook=True)
    # the charge is pending and visible with its account details
    assert error_code(await api(CHARGE, {"i": issued["imp_uid"]})) == "PAYMENT_PENDING"
    orders = (await api("{ fetchPointChargeOrders { status virtualAccount { accountNumber bankName dueAt } } }"))["data"]
    pending = orders["fetchPointChargeOrders"][0]
    assert pending["status"] == "ready"
    assert pending["virtualAccount"]["accountNumber"] == issued["vbank_num"]
    assert await balance(api) == 0
    # when the deposit arrives days later, the webhook credits it
    await sandbox.deposit(issued["imp_uid"])
    await eventually(lambda: _balance_is(api, 30000))
    history = (await api("{ fetchPointTransactionsOfLoading { statusDetail amount } }"))["data"]
    assert history["fetchPointTransactionsOfLoading"] == [{"statusDetail": "가상계좌 충전", "amount": 30000}]


async def test_mobile_redirect_verifies_and_redirects(api: GQL, sandbox: SandboxControl, settings_frontend: str) -> None:
    # given a prepared order paid on a phone (no JS callback; the browser lands on m_redirect_url)
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 10000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(10000, merchant_uid=order["merchantUid"])
    # when the browser arrives, claiming failure (imp_success is ignored: PortOne decides)
    response = await api.client.get(
        "/payments/complete",
        params={"imp_uid": paid["imp_uid"], "merchant_uid": order["merchantUid"], "imp_success": "false"},
    )
    # then it is credited and sent to the frontend's result page
    assert response.status_code == 303
    # (resolved the way the browser does: without POINTCHARGE_FRONTEND_URL it is a relative Location)
    location = urlparse(urljoin(str(api.client.base_url), response.headers["location"]))
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == settings_frontend + "/payments/result"
    assert query["outcome"] == ["credited"] and query["imp_uid"] == [paid["imp_uid"]]
    assert await balance(api) == 10000
    # a failed payment redirects with failed, an unknown one too, and nothing is credited
    failed = await sandbox.pay(5000, outcome="failed")
    r2 = await api.client.get("/payments/complete", params={"imp_uid": failed["imp_uid"], "imp_success": "true"})
    assert parse_qs(urlparse(r2.headers["location"]).query)["outcome"] == ["failed"]
    r3 = await api.client.get("/payments/complete", params={"imp_success": "false", "error_msg": "사용자 취소"})
    assert parse_qs(urlparse(r3.headers["location"]).query)["outcome"] == ["failed"]
    assert await balance(api) == 10000


@pytest.fixture
def settings_frontend(api: GQL) -> str:
    # POINTCHARGE_FRONTEND_URL unset, sandbox mode (demo page on): back to the API's own origin, where
    # the demo page serves /payments/result. An explicit frontend URL is tested in test_demo_page.py.
    return str(api.client.base_url).rstrip("/")


async def test_full_and_partial_cancel(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a 10,000 charge
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(10000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    # when 3,000 is cancelled, then the rest
    part = (await api(CANCEL, {"i": paid["imp_uid"], "a": 3000}))["data"]["cancelPointTransaction"]
    assert (part["amount"], part["balance"], part["status"]) == (-3000, 7000, "취소")
    at_portone = await sandbox.v1_payment(paid["imp_uid"])
    assert at_portone["cancel_amount"] == 3000 and at_portone["status"] == "paid"
    rest = (await api(CANCEL, {"i": paid["imp_uid"]}))["data"]["cancelPointTransaction"]
    assert (rest["amount"], rest["balance"]) == (-7000, 0)
    at_portone = await sandbox.v1_payment(paid["imp_uid"])
    assert at_portone["status"] == "cancelled" and at_portone["cancel_amount"] == 10000
    assert len(at_portone["cancel_history"]) == 2
    # then a further cancel is refused, and the ledger adds up
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) == "ALREADY_CANCELLED"
    assert await ledger_invariants(clean_db) == {user_id: 0}
    all_rows = (await api("{ fetchPointTransactions { status amount } }"))["data"]["fetchPointTransactions"]
    assert [r["status"] for r in all_rows] == ["취소", "취소", "충전"]


async def test_cancel_refusals(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    user_id = await api.signup_and_login("a@example.com")
    paid = await sandbox.pay(5000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    for bad in (0, -1, 5001):
        assert error_code(await api(CANCEL, {"i": paid["imp_uid"], "a": bad})) == "CANCEL_AMOUNT_INVALID"
    # points already spent cannot be cancelled
    db = Database.from_url(clean_db)
    try:
        await spend_points(db, user_id, 3000, "상품 구매", key="order-1")
    finally:
        await db.dispose()
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) == "INSUFFICIENT_POINTS"
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 0
    assert (await api(CANCEL, {"i": paid["imp_uid"], "a": 2000}))["data"]["cancelPointTransaction"]["balance"] == 0
    # another user cannot cancel it
    await api.signup_and_login("b@example.com")
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) == "PAYMENT_NOT_FOUND"
    await ledger_invariants(clean_db)


async def test_console_cancel_claws_back_even_below_zero(
    api: GQL, sandbox: SandboxControl, hooks: str, clean_db: str
) -> None:
    # given a 5,000 charge of which 4,000 was spent
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(5000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    db = Database.from_url(clean_db)
    try:
        await spend_points(db, user_id, 4000, "상품 구매", key="order-2")
        # when an operator cancels the payment in PortOne's console (webhook "cancelled")
        await sandbox.console_cancel(paid["imp_uid"], webhook=True)
        # then the points follow: the balance goes negative and the payment is flagged
        await eventually(lambda: _balance_is(api, -4000))
        assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE anomaly = 'negative_balance'") == 1
        # and nothing more can be spent until it is settled
        with pytest.raises(Exception) as exc:
            await spend_points(db, user_id, 1, "상품 구매", key="order-3")
        assert getattr(exc.value, "code", None) == "INSUFFICIENT_POINTS"
    finally:
        await db.dispose()
    assert await ledger_invariants(clean_db) == {user_id: -4000}


async def test_mutation_webhook_and_redirect_storm_credits_once(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given one prepared and paid order
    user_id = await api.signup_and_login()
    order = (await api(PREPARE, {"a": 10000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(10000, merchant_uid=order["merchantUid"])
    body = {"imp_uid": paid["imp_uid"], "merchant_uid": order["merchantUid"], "status": "paid"}
    # when 20 mutations, 20 webhooks and 5 redirects arrive interleaved
    calls = []
    for i in range(20):
        calls.append(api(CHARGE, {"i": paid["imp_uid"]}))
        calls.append(post_webhook(api, body, form=i % 2 == 0))
        if i % 4 == 0:
            calls.append(api.client.get("/payments/complete", params={"imp_uid": paid["imp_uid"], "merchant_uid": order["merchantUid"]}))
    results = await asyncio.gather(*calls)
    # then exactly one credit, and every mutation got the same transaction
    mutation_ids = {r["data"]["createPointTransactionOfLoading"]["_id"] for r in results if isinstance(r, dict)}
    assert len(mutation_ids) == 1
    assert all(r.status_code in (200, 303) for r in results if not isinstance(r, dict))
    await eventually(lambda: _settled(clean_db, 20))
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_racing_cancels_refund_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(8000)
    await api(CHARGE, {"i": paid["imp_uid"]})
    # when two full cancels race
    a, b = await asyncio.gather(api(CANCEL, {"i": paid["imp_uid"]}), api(CANCEL, {"i": paid["imp_uid"]}))
    # then one succeeds, the other is told it is already cancelled, and PortOne refunded once
    codes = sorted([error_code(a) or "OK", error_code(b) or "OK"])
    assert codes == ["ALREADY_CANCELLED", "OK"]
    at_portone = await sandbox.v1_payment(paid["imp_uid"])
    assert at_portone["cancel_amount"] == 8000 and len(at_portone["cancel_history"]) == 1
    assert await ledger_invariants(clean_db) == {user_id: 0}
