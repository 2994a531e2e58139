"""Charging with Bootpay end to end: preparePointCharge(gateway: BOOTPAY), then
createPointTransactionOfLoading(receiptId) — card, virtual account, separately_confirmed (the
server confirms only what it checked) — and cancelPointTransaction(receiptId). The API and the
Bootpay emulator over real HTTP, on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio

from tests.conftest import count_rows, error_code, ledger_invariants
from tests.schema.bootpay_api import CANCEL, BootpayAPI, bootpay, bootpay_api, bootpay_session  # noqa: F401

ORDERS = "{ fetchPointChargeOrders { gateway version merchantUid impUid receiptId amount paidAmount status payMethod } }"
CONFIG = "{ fetchPointChargeConfig { gateways bootpayApplicationId merchantCode } }"


def stats(api: BootpayAPI) -> dict[str, int]:
    return api.bootpay.control("GET", "/stats").json()


def receipt_status(api: BootpayAPI, receipt_id: str) -> int:
    return api.bootpay.control("GET", f"/receipts/{receipt_id}").json()["status"]


async def test_card_charge_through_bootpay(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    # given the config says Bootpay is on, with the id the browser SDK needs
    config = (await api(CONFIG))["data"]["fetchPointChargeConfig"]
    assert config["gateways"] == ["PORTONE", "BOOTPAY"]
    assert config["bootpayApplicationId"] == api.bootpay.config.application_id
    # given a Bootpay order of 10,000
    order = await api.prepare(10000)
    assert (order["gateway"], order["version"], order["amount"], order["status"], order["receiptId"]) == (
        "BOOTPAY", None, 10000, "prepared", None)
    # when the buyer pays it by card and the frontend sends the receipt_id
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], method="card", webhook=False)
    result = await api.charge(paid["receipt_id"])
    # then the points are credited once, to the order's owner
    tx = result["data"]["createPointTransactionOfLoading"]
    assert tx == {"_id": tx["_id"], "impUid": paid["receipt_id"], "amount": 10000, "balance": 10000,
                  "status": "충전", "statusDetail": "신용카드 충전", "gateway": "BOOTPAY"}
    again = await api.charge(paid["receipt_id"])
    assert again["data"]["createPointTransactionOfLoading"]["_id"] == tx["_id"]
    assert await api.balance() == 10000
    orders = (await api(ORDERS))["data"]["fetchPointChargeOrders"]
    assert orders == [{"gateway": "BOOTPAY", "version": None, "merchantUid": order["merchantUid"],
                       "impUid": paid["receipt_id"], "receiptId": paid["receipt_id"], "amount": 10000,
                       "paidAmount": 10000, "status": "paid", "payMethod": "card"}]
    history = (await api("{ fetchPointTransactionsOfLoading { impUid gateway } }"))["data"]
    assert history["fetchPointTransactionsOfLoading"] == [{"impUid": paid["receipt_id"], "gateway": "BOOTPAY"}]
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_separately_confirmed_payment_is_confirmed_then_credited(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(5000)
    # given the buyer approved 5,000 with separately_confirmed (Bootpay holds it: status 2)
    held = api.bootpay.pay(price=5000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    assert receipt_status(api, held["receipt_id"]) == 2
    # when the frontend sends the receipt_id
    result = await api.charge(held["receipt_id"])
    # then the server confirmed it at Bootpay and credited the confirmed payment
    assert result["data"]["createPointTransactionOfLoading"]["amount"] == 5000, result
    assert receipt_status(api, held["receipt_id"]) == 1
    assert stats(api)["POST /v2/confirm"] == 1
    assert await api.balance() == 5000
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'paid' AND anomaly IS NULL") == 1
    events = await count_rows(clean_db, "SELECT COUNT(*) FROM payment_events WHERE to_status = 'authorized'")
    assert events == 1


async def test_a_tampered_amount_is_never_confirmed(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    # given an order of 10,000 that the browser paid 1,000 for (separately_confirmed)
    order = await api.prepare(10000)
    held = api.bootpay.pay(price=1000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    # when the frontend claims it
    result = await api.charge(held["receipt_id"])
    # then it is refused as a mismatch and Bootpay never captured it: the receipt stays status 2
    assert error_code(result) == "AMOUNT_MISMATCH", result
    assert "승인하지 않았" in result["errors"][0]["message"]
    assert receipt_status(api, held["receipt_id"]) == 2
    assert "POST /v2/confirm" not in stats(api) and "POST /v2/cancel" not in stats(api)
    # and the anomaly is recorded, no point moved
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'authorized' AND anomaly = 'amount_mismatch'"
    ) == 1
    assert await api.balance() == 0
    # and claiming it again changes nothing
    assert error_code(await api.charge(held["receipt_id"])) == "AMOUNT_MISMATCH"
    assert receipt_status(api, held["receipt_id"]) == 2


async def test_concurrent_claims_of_a_held_payment_credit_once(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    order = await api.prepare(30000)
    held = api.bootpay.pay(price=30000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    # when five claims of it race (a double click, retries)
    results = await asyncio.gather(*(api.charge(held["receipt_id"]) for _ in range(5)))
    # then every one answers the same credit, made once; Bootpay captured it once
    ids = {r["data"]["createPointTransactionOfLoading"]["_id"] for r in results if "data" in r and r["data"]}
    assert len(ids) == 1, results
    assert receipt_status(api, held["receipt_id"]) == 1
    assert await ledger_invariants(clean_db) == {user_id: 30000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1


async def test_someone_elses_order_is_refused_and_not_confirmed(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
    held_order = await api.prepare(5000)
    held = api.bootpay.pay(price=5000, order_id=held_order["merchantUid"], separately_confirmed=True, webhook=False)
    # when another user claims the owner's receipts
    other = await api.as_another_user("other@example.com")
    for receipt in (paid, held):
        result = await api.charge(receipt["receipt_id"], gql=other)
        # then they get the same error PortOne's path gives, and nothing is credited or confirmed
        assert error_code(result) == "FORBIDDEN", result
    assert receipt_status(api, held["receipt_id"]) == 2
    assert await api.balance(gql=other) == 0
    # while the owner can still claim both
    assert (await api.charge(paid["receipt_id"]))["data"]["createPointTransactionOfLoading"]["balance"] == 10000
    assert (await api.charge(held["receipt_id"]))["data"]["createPointTransactionOfLoading"]["balance"] == 15000


async def test_virtual_account_is_pending_until_the_deposit(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(30000)
    issued = api.bootpay.pay(price=30000, order_id=order["merchantUid"], method="vbank", webhook=False)
    # when claimed before the deposit: pending, with the account to pay into
    pending = await api.charge(issued["receipt_id"])
    assert error_code(pending) == "PAYMENT_PENDING", pending
    extensions = pending["errors"][0]["extensions"]
    assert extensions["vbankNum"] == issued["vbank_data"]["bank_account"] and extensions["amount"] == 30000
    orders = (await api(ORDERS))["data"]["fetchPointChargeOrders"]
    assert (orders[0]["status"], orders[0]["receiptId"]) == ("ready", issued["receipt_id"])
    # when the buyer deposits and the frontend claims again: credited
    api.bootpay.deposit(issued["receipt_id"])
    tx = (await api.charge(issued["receipt_id"]))["data"]["createPointTransactionOfLoading"]
    assert (tx["amount"], tx["balance"], tx["statusDetail"]) == (30000, 30000, "가상계좌 충전")


async def test_partial_then_full_cancel_through_bootpay(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
    await api.charge(paid["receipt_id"])
    # when 3,000 is cancelled by the receipt id
    part = await api(CANCEL, {"r": paid["receipt_id"], "a": 3000})
    assert part["data"]["cancelPointTransaction"] == {"amount": -3000, "balance": 7000, "status": "취소",
                                                      "gateway": "BOOTPAY", "impUid": paid["receipt_id"]}, part
    # then Bootpay refunded 3,000 under our cancel request's id
    cancels = api.bootpay.control("GET", f"/receipts/{paid['receipt_id']}/cancellations").json()
    assert [c["price"] for c in cancels] == [3000] and cancels[0]["cancel_id"]
    # when the rest is cancelled: all of it is back, and a third cancel has nothing left
    rest = await api(CANCEL, {"r": paid["receipt_id"]})
    assert rest["data"]["cancelPointTransaction"]["balance"] == 0
    assert error_code(await api(CANCEL, {"r": paid["receipt_id"]})) == "ALREADY_CANCELLED"
    assert api.bootpay.control("GET", f"/receipts/{paid['receipt_id']}").json()["cancelled_price"] == 10000
    assert await ledger_invariants(clean_db) == {user_id: 0}


async def test_deposited_virtual_account_is_refunded_to_the_refund_account(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(30000)
    issued = api.bootpay.pay(price=30000, order_id=order["merchantUid"], method="vbank", webhook=False)
    api.bootpay.deposit(issued["receipt_id"])
    await api.charge(issued["receipt_id"])
    # a cancel without the refund account is refused before Bootpay hears of it
    assert error_code(await api(CANCEL, {"r": issued["receipt_id"]})) == "BAD_USER_INPUT"
    # a partial one is refused by Bootpay (virtual accounts are refunded whole), nothing moves
    partial = await api(CANCEL, {"r": issued["receipt_id"], "a": 5000,
                                 "acc": {"bank": "088", "number": "110-123-456789", "holder": "김환불"}})
    assert error_code(partial) == "CANCEL_AMOUNT_INVALID", partial
    assert await api.balance() == 30000
    # the whole of it, with the account: refunded there
    done = await api(CANCEL, {"r": issued["receipt_id"],
                              "acc": {"bank": "088", "number": "110-123-456789", "holder": "김환불"}})
    assert done["data"]["cancelPointTransaction"]["balance"] == 0, done
    cancels = api.bootpay.control("GET", f"/receipts/{issued['receipt_id']}/cancellations").json()
    assert [c["refund"] for c in cancels if c["refund"]] == [
        {"bank_account": "110123456789", "bank_username": "김환불", "bank_code": "088"}]
    # and we kept none of it (personal data we never need again)
    for table, column in (("payments", "snapshot"), ("cancel_requests", "reason"), ("cancel_requests", "error")):
        assert await count_rows(clean_db, f"SELECT COUNT(*) FROM {table} WHERE {column} LIKE '%110123456789%'") == 0


async def test_clear_codes_when_the_receipt_cannot_be_credited(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    # unknown receipt
    assert error_code(await api.charge("0123456789abcdef01234567")) == "PAYMENT_NOT_FOUND"
    # a card paid 1,000 for an order of 10,000 (not separately confirmed): refunded, not credited
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=1000, order_id=order["merchantUid"], webhook=False)
    assert error_code(await api.charge(paid["receipt_id"])) == "AMOUNT_MISMATCH"
    assert api.bootpay.control("GET", f"/receipts/{paid['receipt_id']}").json()["cancelled_price"] == 1000
    # Bootpay unreachable: nothing recorded
    other = await api.prepare(5000)
    later = api.bootpay.pay(price=5000, order_id=other["merchantUid"], webhook=False)
    api.bootpay.control("PUT", "/faults", json={"error_rate": 1.0})
    down = await api.charge(later["receipt_id"])
    assert error_code(down) == "BOOTPAY_UNAVAILABLE", down
    api.bootpay.control("DELETE", "/faults")
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE payment_key = :k", k=later["receipt_id"]) == 0
    # exactly one id
    both = await api("mutation { createPointTransactionOfLoading(impUid: \"a\", receiptId: \"b\") { _id } }")
    assert error_code(both) == "BAD_USER_INPUT"
    assert await api.balance() == 0
    # and once Bootpay answers again, the receipt is credited
    assert (await api.charge(later["receipt_id"]))["data"]["createPointTransactionOfLoading"]["balance"] == 5000


async def test_a_server_without_bootpay_says_so(clean_db: str, sandbox) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from api.app import create_app
    from tests.conftest import GQL, api_settings
    from tests.servers import run_server

    with run_server(create_app(api_settings(clean_db, sandbox, bootpay_enabled=False))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            gql = GQL(http)
            await gql.signup_and_login()
            config = (await gql(CONFIG))["data"]["fetchPointChargeConfig"]
            assert (config["gateways"], config["bootpayApplicationId"]) == (["PORTONE"], None)
            prepared = await gql("mutation { preparePointCharge(amount: 10000, gateway: BOOTPAY) { _id } }")
            assert error_code(prepared) == "GATEWAY_DISABLED", prepared
            claimed = await gql('mutation { createPointTransactionOfLoading(receiptId: "0123456789abcdef01234567") { _id } }')
            assert error_code(claimed) == "GATEWAY_DISABLED", claimed
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM orders") == 0


async def test_bootpays_redirect_mode_is_verified_and_confirmed(bootpay_api: BootpayAPI, clean_db: str) -> None:
    import httpx
    from urllib.parse import parse_qs, urlsplit

    api = bootpay_api
    await api.gql.signup_and_login()
    card_order, held_order, tampered_order = [await api.prepare(a) for a in (5000, 10000, 30000)]
    card = api.bootpay.pay(price=5000, order_id=card_order["merchantUid"], webhook=False)
    held = api.bootpay.pay(price=10000, order_id=held_order["merchantUid"], separately_confirmed=True, webhook=False)
    tampered = api.bootpay.pay(price=1000, order_id=tampered_order["merchantUid"], separately_confirmed=True, webhook=False)

    async def redirect(**query: str) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=api.url) as http:
            r = await http.get("/payments/complete", params=query)
        assert r.status_code == 303
        return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}

    # Bootpay sends the buyer back with ?event=…&receipt_id=…&order_id=… (the event is not trusted)
    done = await redirect(event="done", receipt_id=card["receipt_id"], order_id=card_order["merchantUid"])
    assert (done["outcome"], done["amount"], done["receipt_id"]) == ("credited", "5000", card["receipt_id"])
    confirmed = await redirect(event="confirm", receipt_id=held["receipt_id"], order_id=held_order["merchantUid"])
    assert confirmed["outcome"] == "credited" and receipt_status(api, held["receipt_id"]) == 1
    refused = await redirect(event="confirm", receipt_id=tampered["receipt_id"])
    assert (refused["outcome"], refused["reason"]) == ("failed", "amount_mismatch_not_charged")  # never captured
    assert receipt_status(api, tampered["receipt_id"]) == 2
    closed = await redirect(event="cancel", error_code="USER_CANCELLED", message="사용자가 결제를 취소했습니다.")
    assert (closed["outcome"], closed["reason"]) == ("failed", "USER_CANCELLED")
    assert await api.balance() == 15000
