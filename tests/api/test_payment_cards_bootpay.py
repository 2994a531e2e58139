"""Saved cards and one-click charges on Bootpay (정기결제, issue 25): the API over real HTTP against
the Bootpay emulator over real HTTP. Keys are issued as Bootpay.requestSubscription's window would
(POST /_control/billing-keys): the browser gets a receipt_id, never the billing_key."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session  # noqa: F401 - fixtures

PREPARE_CARD = (
    "mutation { preparePaymentCard(gateway: BOOTPAY) { gateway subscriptionId orderName price pg method customerId } }"
)
REGISTER = "mutation($r: ID) { registerPaymentCard(receiptId: $r) { _id cardName cardNumber gateway createdAt } }"
CARDS = "{ fetchPaymentCards { _id cardNumber gateway } }"
DELETE = "mutation($c: ID!) { deletePaymentCard(paymentCardId: $c) }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a, gateway: BOOTPAY) { merchantUid } }"
CHARGE = (
    "mutation($c: ID!, $m: String!) { createPointTransactionOfLoadingWithCard(paymentCardId: $c, merchantUid: $m)"
    " { _id impUid amount balance status } }"
)


def issue(api: BootpayAPI, subscription_id: str, *, decline: bool = False) -> dict:
    """What the window leaves: a key under the server-made subscription_id."""
    r = api.bootpay.control("POST", "/billing-keys", json={"subscription_id": subscription_id, "decline": decline})
    assert r.status_code == 200, r.text
    return r.json()


async def register_card(api: BootpayAPI, gql: GQL | None = None, *, decline: bool = False) -> tuple[str, dict]:
    gql = gql or api.gql
    request = (await gql(PREPARE_CARD))["data"]["preparePaymentCard"]
    issued = issue(api, request["subscriptionId"], decline=decline)
    result = await gql(REGISTER, {"r": issued["receipt_id"]})
    assert "errors" not in result, result
    return result["data"]["registerPaymentCard"]["_id"], issued


async def new_order(api: BootpayAPI, amount: int = 5000) -> str:
    return (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]


def receipts_of(api: BootpayAPI, order_id: str) -> list[dict]:
    return [r for r in api.bootpay.control("GET", "/receipts").json() if r["order_id"] == order_id]


async def test_prepare_issue_register_twice(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    # given a registration prepared for Bootpay
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    assert request["gateway"] == "BOOTPAY" and request["subscriptionId"].startswith("pcs_")
    assert (request["price"], request["method"], request["customerId"]) == (0, "카드자동", user_id)
    assert request["pg"] and request["orderName"]
    # when registering before the window issued anything
    assert error_code(await api(REGISTER, {"r": "0" * 24})) == "BILLING_KEY_NOT_FOUND"
    # when the window issues the key and the page registers its receipt_id, twice
    issued = issue(api, request["subscriptionId"])
    first = await api(REGISTER, {"r": issued["receipt_id"]})
    again = await api(REGISTER, {"r": issued["receipt_id"]})
    # then one card, as Bootpay shows it; the key is kept server-side in customer_uid
    card = first["data"]["registerPaymentCard"]
    assert again["data"]["registerPaymentCard"] == card
    assert card["gateway"] == "BOOTPAY" and card["cardNumber"] == "536510******1234" and card["cardName"] == "신한카드"
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == [
        {"_id": card["_id"], "cardNumber": card["cardNumber"], "gateway": "BOOTPAY"}]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active' AND provider = "
                                      f"'bootpay' AND customer_uid = '{issued['billing_key']}'") == 1


async def test_someone_elses_or_foreign_receipt_is_refused(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    issued = issue(api, request["subscriptionId"])
    # given another user holding the first user's receipt_id
    other = await api.as_another_user("other@example.com")
    # then it is "not prepared" for them, and no card is made
    assert error_code(await other(REGISTER, {"r": issued["receipt_id"]})) == "PAYMENT_CARD_NOT_PREPARED"
    # and a key issued for a subscription_id never made here is refused too
    foreign = issue(api, "sub-made-elsewhere")
    assert error_code(await api(REGISTER, {"r": foreign["receipt_id"]})) == "PAYMENT_CARD_NOT_PREPARED"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active'") == 0
    # while the owner registers it
    assert "errors" not in await api(REGISTER, {"r": issued["receipt_id"]})


async def test_charge_double_click_and_retry_charge_once(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    card_id, _ = await register_card(api)
    order = await new_order(api, 5000)
    # when the user double-clicks, then retries
    clicks = await asyncio.gather(api(CHARGE, {"c": card_id, "m": order}), api(CHARGE, {"c": card_id, "m": order}))
    retry = await api(CHARGE, {"c": card_id, "m": order})
    # then one charge at Bootpay (order_id = our order key), one credit, one answer
    assert all("errors" not in r for r in clicks + [retry]), (clicks, retry)
    answers = {r["data"]["createPointTransactionOfLoadingWithCard"]["_id"] for r in clicks + [retry]}
    assert len(answers) == 1
    paid = receipts_of(api, order)
    assert len(paid) == 1 and paid[0]["status"] == 1 and paid[0]["price"] == 5000
    assert retry["data"]["createPointTransactionOfLoadingWithCard"]["impUid"] == paid[0]["receipt_id"]
    assert await ledger_invariants(clean_db) == {user_id: 5000}


async def test_lost_answer_never_charges_twice(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    card_id, _ = await register_card(api)
    order = await new_order(api, 10000)
    # given Bootpay charges the card but its answer is lost, and its webhook does not reach us
    faults = {"error_rate": 1.0, "process_before_fault": True, "endpoints": ["POST /v2/subscribe/payment"]}
    api.bootpay.control("PUT", "/faults", json=faults).raise_for_status()
    lost = await api(CHARGE, {"c": card_id, "m": order})
    api.bootpay.control("DELETE", "/faults").raise_for_status()
    assert error_code(lost) == "BOOTPAY_UNAVAILABLE" and len(receipts_of(api, order)) == 1
    # when the user retries: Bootpay refuses the paid order_id, and we cannot see the receipt yet
    retry = await api(CHARGE, {"c": card_id, "m": order})
    # then still one charge, no credit, and an answer that says "try later" (not a decline)
    assert error_code(retry) == "BOOTPAY_UNAVAILABLE"
    assert len(receipts_of(api, order)) == 1 and await api.balance() == 0
    # when Bootpay's webhook finally arrives (as it would once our endpoint is reachable again)
    receipt = receipts_of(api, order)[0]
    async with httpx.AsyncClient(base_url=api.url) as http:
        hook = await http.post("/webhooks/bootpay", json={**receipt, "webhook_type": "PAYMENT_COMPLETED"})
    assert hook.status_code == 200, hook.text
    # then the next retry answers the credited charge: one charge, one credit
    final = await api(CHARGE, {"c": card_id, "m": order})
    assert "errors" not in final, final
    assert final["data"]["createPointTransactionOfLoadingWithCard"]["impUid"] == receipt["receipt_id"]
    assert len(receipts_of(api, order)) == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_decline_then_delete(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    card_id, issued = await register_card(api, decline=True)
    order = await new_order(api, 5000)
    # when the declining card is charged
    result = await api(CHARGE, {"c": card_id, "m": order})
    # then CARD_DECLINED with the card company's reason, nothing charged or credited
    assert error_code(result) == "CARD_DECLINED"
    assert result["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert receipts_of(api, order) == [] and await ledger_invariants(clean_db) in ({}, {user_id: 0})
    # and the order stays usable: a good card pays it
    good_id, _ = await register_card(api)
    assert "errors" not in await api(CHARGE, {"c": good_id, "m": order})
    # when the declining card is deleted
    deleted = await api(DELETE, {"c": card_id})
    # then its key is gone at Bootpay and the card from the list
    assert deleted["data"]["deletePaymentCard"] == card_id
    lookup = api.bootpay.rest("GET", f"/billing_key/{issued['billing_key']}")
    assert lookup.status_code == 404
    assert [c["_id"] for c in (await api(CARDS))["data"]["fetchPaymentCards"]] == [good_id]
    assert error_code(await api(CHARGE, {"c": card_id, "m": await new_order(api)})) == "PAYMENT_CARD_NOT_FOUND"


async def test_lost_answer_with_the_webhook_answers_the_credit(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    api.send_webhooks_here()  # Bootpay's admin webhook URL points at us
    card_id, _ = await register_card(api)
    order = await new_order(api, 5000)
    # given Bootpay charges the card and its answer is lost, while its webhook reaches us
    faults = {"error_rate": 1.0, "process_before_fault": True, "endpoints": ["POST /v2/subscribe/payment"]}
    api.bootpay.control("PUT", "/faults", json=faults).raise_for_status()
    lost = await api(CHARGE, {"c": card_id, "m": order})
    api.bootpay.control("DELETE", "/faults").raise_for_status()
    assert error_code(lost) == "BOOTPAY_UNAVAILABLE"
    assert await api.balance_becomes(5000) == 5000  # the webhook credited the order
    # when the user retries
    retry = await api(CHARGE, {"c": card_id, "m": order})
    # then the answer is that credit: one receipt at Bootpay, one ledger entry
    assert "errors" not in retry, retry
    assert retry["data"]["createPointTransactionOfLoadingWithCard"]["impUid"] == receipts_of(api, order)[0]["receipt_id"]
    assert len(receipts_of(api, order)) == 1
    assert await ledger_invariants(clean_db) == {user_id: 5000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'paid'") == 1


async def test_cards_of_both_gateways_say_which(bootpay_api: BootpayAPI, sandbox: SandboxControl) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    # given a PortOne V1 card and a Bootpay card of one user
    v1 = (await api("mutation { preparePaymentCard { customerUid } }"))["data"]["preparePaymentCard"]
    issued = await sandbox.http.post("/_control/billing-keys", json={"version": "v1", "customer_uid": v1["customerUid"]})
    assert issued.status_code == 200, issued.text
    portone = await api("mutation($u: ID) { registerPaymentCard(customerUid: $u) { _id gateway version } }",
                        {"u": v1["customerUid"]})
    bootpay_card_id, _ = await register_card(api)
    # then each says its gateway (a Bootpay card's version reads V1: meaningless there)
    cards = {c["_id"]: c["gateway"] for c in (await api(CARDS))["data"]["fetchPaymentCards"]}
    portone_card = portone["data"]["registerPaymentCard"]
    assert (portone_card["gateway"], portone_card["version"]) == ("PORTONE", "V1")
    assert cards == {portone_card["_id"]: "PORTONE", bootpay_card_id: "BOOTPAY"}
    # and a registration names one reference only
    both = await api("mutation($u: ID, $r: ID) { registerPaymentCard(customerUid: $u, receiptId: $r) { _id } }",
                     {"u": v1["customerUid"], "r": "0" * 24})
    assert error_code(both) == "BAD_USER_INPUT"
