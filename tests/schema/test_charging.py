"""createPointTransactionOfLoading end to end: the API and the PortOne sandbox, both over real HTTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

CHARGE = """
mutation($impUid: ID!) {
  createPointTransactionOfLoading(impUid: $impUid) {
    _id impUid amount balance status statusDetail createdAt user { _id }
  }
}"""
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { _id merchantUid amount status } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"
HISTORY = """query($s: String, $p: Int) {
  fetchPointTransactionsOfLoading(search: $s, page: $p) { _id impUid amount balance status statusDetail }
  fetchPointTransactionsCountOfLoading
}"""


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def ledger_rows(db: str) -> int:
    return await count_rows(db, "SELECT COUNT(*) FROM point_transactions")


async def test_prepared_charge_happy_path(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a signed-up user who reads the charge config and prepares a 5,000 KRW order
    user_id = await api.signup_and_login()
    config = (await api("{ fetchPointChargeConfig { merchantCode pg testMode packages } }"))["data"]
    assert config["fetchPointChargeConfig"]["packages"] == [1000, 5000, 10000, 30000, 50000, 100000]
    assert config["fetchPointChargeConfig"]["merchantCode"] == sandbox.config.merchant_code
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    assert order["status"] == "prepared" and order["amount"] == 5000

    # when the user pays at PortOne and the frontend sends the imp_uid
    paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"])
    result = await api(CHARGE, {"impUid": paid["imp_uid"]})

    # then the points are credited, once, to this user
    tx = result["data"]["createPointTransactionOfLoading"]
    assert tx["amount"] == 5000 and tx["balance"] == 5000 and tx["status"] == "충전"
    assert tx["impUid"] == paid["imp_uid"] and tx["user"]["_id"] == user_id
    assert tx["statusDetail"] == "신용카드 충전"
    assert await balance(api) == 5000
    history = (await api(HISTORY))["data"]
    assert [h["_id"] for h in history["fetchPointTransactionsOfLoading"]] == [tx["_id"]]
    assert history["fetchPointTransactionsCountOfLoading"] == 1
    orders = (await api("{ fetchPointChargeOrders { merchantUid status paidAmount impUid } }"))["data"]
    assert orders["fetchPointChargeOrders"][0] == {
        "merchantUid": order["merchantUid"], "status": "paid", "paidAmount": 5000, "impUid": paid["imp_uid"]
    }
    assert await ledger_invariants(clean_db) == {user_id: 5000}


async def test_same_user_resending_gets_the_original(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    paid = await sandbox.pay(10000)
    first = (await api(CHARGE, {"impUid": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    before = await sandbox.stats()

    again = (await api(CHARGE, {"impUid": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]

    assert again["_id"] == first["_id"] and again["balance"] == 10000
    assert await balance(api) == 10000
    assert await ledger_rows(clean_db) == 1
    # and the retry did not even cost a PortOne request
    assert await sandbox.stats() == before


async def test_codecamp_flow_without_prepared_order(api: GQL, sandbox: SandboxControl) -> None:
    # given a payment made without preparePointCharge (merchant_uid chosen by the frontend)
    await api.signup_and_login()
    paid = await sandbox.pay(777, merchant_uid="codecamp-order-1")
    # then it is credited with what PortOne says was paid
    tx = (await api(CHARGE, {"impUid": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    assert tx["amount"] == 777
    assert await balance(api) == 777


async def test_another_user_cannot_claim(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a payment already credited to user A
    await api.signup_and_login("a@example.com")
    paid = await sandbox.pay(5000)
    assert "errors" not in await api(CHARGE, {"impUid": paid["imp_uid"]})
    # when user B sends the same imp_uid
    await api.signup_and_login("b@example.com")
    result = await api(CHARGE, {"impUid": paid["imp_uid"]})
    # then B is refused and has nothing
    assert error_code(result) == "PAYMENT_ALREADY_CLAIMED"
    assert await balance(api) == 0
    assert await ledger_rows(clean_db) == 1


async def test_another_users_prepared_order_is_forbidden(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login("a@example.com")
    order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
    paid = await sandbox.pay(5000, merchant_uid=order["merchantUid"])
    await api.signup_and_login("b@example.com")
    result = await api(CHARGE, {"impUid": paid["imp_uid"]})
    assert error_code(result) == "FORBIDDEN"
    assert await balance(api) == 0


async def test_tampered_amount_is_refused_and_refunded(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a prepared 50,000 order whose amount an attacker changed before paying 1,000
    await api.signup_and_login()
    order = (await api(PREPARE, {"a": 50000}))["data"]["preparePointCharge"]
    token = await sandbox.v1_token()
    changed = await sandbox.http.put(
        "/v1/payments/prepare", json={"merchant_uid": order["merchantUid"], "amount": 1000},
        headers={"Authorization": token},
    )
    assert changed.status_code == 200, changed.text
    paid = await sandbox.pay(1000, merchant_uid=order["merchantUid"])
    assert paid["status"] == "paid"

    # when the frontend claims it
    result = await api(CHARGE, {"impUid": paid["imp_uid"]})

    # then nothing is credited and the payment is cancelled at PortOne
    assert error_code(result) == "AMOUNT_MISMATCH"
    assert await balance(api) == 0
    assert await ledger_rows(clean_db) == 0
    at_portone = await sandbox.v1_payment(paid["imp_uid"])
    assert at_portone["status"] == "cancelled" and at_portone["cancel_amount"] == 1000


async def test_virtual_account_is_pending(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    issued = await sandbox.pay(30000, pay_method="vbank", outcome="ready")
    result = await api(CHARGE, {"impUid": issued["imp_uid"]})
    assert error_code(result) == "PAYMENT_PENDING"
    ext = result["errors"][0]["extensions"]
    assert ext["vbankNum"] == issued["vbank_num"] and ext["vbankName"] == issued["vbank_name"]
    assert ext["amount"] == 30000
    assert await balance(api) == 0


@pytest.mark.parametrize("kind", ["failed", "cancelled"])
async def test_unpaid_payments_are_not_credited(api: GQL, sandbox: SandboxControl, kind: str) -> None:
    await api.signup_and_login()
    if kind == "failed":
        payment = await sandbox.pay(5000, outcome="failed")
    else:
        payment = await sandbox.pay(5000)
        await sandbox.console_cancel(payment["imp_uid"])
    result = await api(CHARGE, {"impUid": payment["imp_uid"]})
    assert error_code(result) == "PAYMENT_NOT_PAID"
    assert await balance(api) == 0


async def test_unknown_payment(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    assert error_code(await api(CHARGE, {"impUid": "imp_000000000000"})) == "PAYMENT_NOT_FOUND"
    assert error_code(await api(CHARGE, {"impUid": "../../etc/passwd"})) == "PAYMENT_NOT_FOUND"


@pytest.mark.parametrize("knobs", [{"error_rate": 1.0}, {"malformed_rate": 1.0}, {"timeout_rate": 1.0, "timeout_s": 5}])
async def test_portone_down_then_retry_succeeds(
    api: GQL, sandbox: SandboxControl, clean_db: str, knobs: dict
) -> None:
    # given a paid payment and PortOne failing (5xx, garbage, or hanging past our 2 s timeout)
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    await sandbox.faults(**knobs, endpoints=["GET /v1/payments/{imp_uid}"])

    # when the user claims it, PortOne is unavailable and nothing is credited
    result = await api(CHARGE, {"impUid": paid["imp_uid"]})
    assert error_code(result) == "PORTONE_UNAVAILABLE"
    assert await ledger_rows(clean_db) == 0

    # then once PortOne recovers, the same request succeeds
    await sandbox.clear_faults()
    tx = (await api(CHARGE, {"impUid": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    assert tx["amount"] == 5000


async def test_expired_token_is_refreshed_transparently(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    first = await sandbox.pay(1000)
    assert "errors" not in await api(CHARGE, {"impUid": first["imp_uid"]})
    # PortOne invalidates the token we cached
    await sandbox.faults(token_expired=True)
    second = await sandbox.pay(5000)
    tx = (await api(CHARGE, {"impUid": second["imp_uid"]}))["data"]["createPointTransactionOfLoading"]
    assert tx["balance"] == 6000


async def test_requires_login(api: GQL, sandbox: SandboxControl) -> None:
    paid = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"impUid": paid["imp_uid"]})) == "UNAUTHENTICATED"
    assert error_code(await api(PREPARE, {"a": 5000})) == "UNAUTHENTICATED"


@pytest.mark.parametrize("amount", [0, -1000, 1234, 10**12])
async def test_prepare_refuses_amounts_outside_packages(api: GQL, sandbox: SandboxControl, clean_db: str, amount: int) -> None:
    await api.signup_and_login()
    assert error_code(await api(PREPARE, {"a": amount})) in ("BAD_USER_INPUT",)
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments") == 0


async def test_mutation_needs_exactly_one_id(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    result = await api("mutation { createPointTransactionOfLoading { _id } }")
    assert error_code(result) == "BAD_USER_INPUT"


async def test_history_pages_search_and_cursor(api: GQL, sandbox: SandboxControl) -> None:
    # given 12 charges by one user and one by another
    await api.signup_and_login("other@example.com")
    other = await sandbox.pay(1000)
    await api(CHARGE, {"impUid": other["imp_uid"]})
    await api.signup_and_login("me@example.com")
    ids = []
    for i in range(12):
        paid = await sandbox.pay(1000 + i, pay_method="trans" if i == 3 else "card")
        ids.append(paid["imp_uid"])
        assert "errors" not in await api(CHARGE, {"impUid": paid["imp_uid"]})

    # then page 1 has the newest 10, page 2 the rest, never the other user's
    page1 = (await api(HISTORY, {"p": 1}))["data"]
    page2 = (await api(HISTORY, {"p": 2}))["data"]
    assert [r["impUid"] for r in page1["fetchPointTransactionsOfLoading"]] == ids[::-1][:10]
    assert [r["impUid"] for r in page2["fetchPointTransactionsOfLoading"]] == ids[::-1][10:]
    assert page1["fetchPointTransactionsCountOfLoading"] == 12
    balances = [r["balance"] for r in page1["fetchPointTransactionsOfLoading"]]
    assert balances == sorted(balances, reverse=True)

    # search is a case-insensitive match on the payment id or the detail
    found = (await api(HISTORY, {"s": ids[5].upper()}))["data"]["fetchPointTransactionsOfLoading"]
    assert [r["impUid"] for r in found] == [ids[5]]
    by_detail = (await api(HISTORY, {"s": "계좌이체"}))["data"]["fetchPointTransactionsOfLoading"]
    assert [r["impUid"] for r in by_detail] == [ids[3]]
    for hostile in ["%", "imp%0", "' OR 1=1 --", "\\", "'; DROP TABLE point_transactions; --"]:
        assert (await api(HISTORY, {"s": hostile}))["data"]["fetchPointTransactionsOfLoading"] == []
    # "_" is a literal underscore (every imp_uid has one), not LIKE's single-character wildcard
    underscored = (await api(HISTORY, {"s": "p_0"}))["data"]["fetchPointTransactionsOfLoading"]
    assert all("p_0" in r["impUid"] for r in underscored)

    # the cursor field walks the same history in pages of 5
    seen, after = [], None
    while True:
        page = (await api(
            "query($a: String){ fetchPointTransactionsByCursor(first: 5, after: $a){ items { impUid } nextCursor hasNextPage } }",
            {"a": after},
        ))["data"]["fetchPointTransactionsByCursor"]
        seen += [i["impUid"] for i in page["items"]]
        if not page["hasNextPage"]:
            break
        after = page["nextCursor"]
    assert seen == ids[::-1]
    bad = await api('{ fetchPointTransactionsByCursor(after: "garbage!") { hasNextPage } }')
    assert error_code(bad) == "BAD_USER_INPUT"
    assert error_code(await api(HISTORY, {"p": 0})) == "BAD_USER_INPUT"


async def test_fifty_concurrent_claims_credit_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given one paid payment
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(50000)

    # when the same user submits it 50 times at once
    results = await asyncio.gather(*(api(CHARGE, {"impUid": paid["imp_uid"]}) for _ in range(50)))

    # then every call succeeds with the same transaction, and there is exactly one credit
    assert all("errors" not in r for r in results), [r.get("errors") for r in results if "errors" in r][:3]
    assert len({r["data"]["createPointTransactionOfLoading"]["_id"] for r in results}) == 1
    assert await ledger_rows(clean_db) == 1
    assert await ledger_invariants(clean_db) == {user_id: 50000}


async def test_hundred_charges_cost_one_portone_request_each(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    await api.signup_and_login()
    payments = [await sandbox.pay(1000) for _ in range(100)]
    await sandbox.http.delete("/_control/stats")
    for p in payments:
        assert "errors" not in await api(CHARGE, {"impUid": p["imp_uid"]})
    stats = await sandbox.stats()
    print(f"\nPortOne requests for 100 charges: {stats}")
    assert stats.get("GET /v1/payments/{imp_uid}") == 100
    assert stats.get("POST /v1/users/getToken", 0) <= 1
    assert await balance(api) == 100_000
