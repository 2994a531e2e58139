"""Saved cards and one-click charges on PortOne V2 (billing keys, issue 25): the API over real HTTP
against the PortOne sandbox over real HTTP. Keys are issued as the browser SDK's
PortOne.requestIssueBillingKey does (the sandbox checkout, with our issueId) or through the control
API (POST /_control/billing-keys {version: "v2", customer_id, decline}). Charges: test_card_charges_v2.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from tests.conftest import GQL, SandboxControl, count_rows, error_code

PREPARE_CARD = (
    "mutation { preparePaymentCard(version: V2) { version gateway customerUid customerId merchantUid pg amount"
    " storeId channelKey issueId issueName billingKeyMethod } }"
)
PREPARE_CARD_V1 = "mutation { preparePaymentCard { customerUid } }"
REGISTER = "mutation($k: ID) { registerPaymentCard(billingKey: $k) { _id cardName cardNumber version gateway createdAt } }"
REGISTER_V1 = "mutation($u: ID) { registerPaymentCard(customerUid: $u) { _id version } }"
CARDS = "{ fetchPaymentCards { _id cardName cardNumber version gateway } }"
DELETE = "mutation($c: ID!) { deletePaymentCard(paymentCardId: $c) }"
PREPARE_V2 = "mutation($a: Int!) { preparePointCharge(amount: $a, version: V2) { merchantUid } }"
PREPARE_V1 = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = (
    "mutation($c: ID!, $m: String!) { createPointTransactionOfLoadingWithCard(paymentCardId: $c, merchantUid: $m)"
    " { _id impUid amount balance status gateway } }"
)
PAY = "POST /v2/payments/{paymentId}/billing-key"


async def issue_in_browser(sandbox: SandboxControl, request: dict, *, action: str = "approve") -> str:
    """PortOne.requestIssueBillingKey with what preparePaymentCard returned, through the sandbox
    checkout the browser SDK opens; the billingKey the SDK hands back to the page."""
    params = {
        "storeId": request["storeId"], "channelKey": request["channelKey"], "issueId": request["issueId"],
        "issueName": request["issueName"], "billingKeyMethod": request["billingKeyMethod"],
        "customer": {"customerId": request["customerId"]},
    }
    started = await sandbox.http.post("/checkout", json={"sdk": "v2", "kind": "billing_key", "params": params})
    assert started.status_code == 303, started.text
    sid = started.headers["location"].rstrip("/").rsplit("/", 1)[-1]
    done = await sandbox.http.post(f"/checkout/{sid}/complete", json={"action": action})
    assert done.status_code == 200, done.text
    return done.json()["response"]["billingKey"]


async def issue_key(sandbox: SandboxControl, customer_id: str, *, decline: bool = False) -> str:
    """A key issued outside our request (no issueId): the control API."""
    response = await sandbox.http.post(
        "/_control/billing-keys", json={"version": "v2", "customer_id": customer_id, "decline": decline}
    )
    assert response.status_code == 200, response.text
    return response.json()["billing_key"]


async def register_card(api: GQL, sandbox: SandboxControl, *, action: str = "approve") -> str:
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    key = await issue_in_browser(sandbox, request, action=action)
    return (await api(REGISTER, {"k": key}))["data"]["registerPaymentCard"]["_id"]


async def new_order(api: GQL, amount: int = 5000) -> str:
    return (await api(PREPARE_V2, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]


async def portone(sandbox: SandboxControl, method: str, path: str, **kw: object) -> dict:
    headers = {"Authorization": f"PortOne {sandbox.config.v2_api_secret}"}  # type: ignore[attr-defined]
    response = await sandbox.http.request(method, f"/v2{path}", headers=headers, **kw)  # type: ignore[arg-type]
    return {"status": response.status_code, **response.json()}


async def pay_calls(sandbox: SandboxControl) -> int:
    return (await sandbox.stats()).get(PAY, 0)


async def second_user(api: GQL, email: str = "other@example.com") -> tuple[GQL, str]:
    other = GQL(api.client)
    return other, await other.signup_and_login(email)


async def test_prepare_issue_in_browser_register_list(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user who prepared a V2 card registration
    user_id = await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    # then it has what PortOne.requestIssueBillingKey needs, bound to the user
    assert (request["version"], request["gateway"], request["billingKeyMethod"]) == ("V2", "PORTONE", "CARD")
    assert request["customerId"] == user_id and request["issueName"]
    assert request["storeId"] == sandbox.config.store_id and request["channelKey"] == sandbox.config.channel_key  # type: ignore[attr-defined]
    assert request["customerUid"] is None and request["merchantUid"] is None and request["pg"] is None
    assert request["issueId"].startswith("pci_") and len(request["issueId"]) >= 30
    # and every preparation makes a new issueId
    assert (await api(PREPARE_CARD))["data"]["preparePaymentCard"]["issueId"] != request["issueId"]
    # when a key nobody issued is registered
    assert error_code(await api(REGISTER, {"k": "billing-key-00000000-0000-0000-0000-000000000000"})) == "BILLING_KEY_NOT_FOUND"
    # when the browser issues the key and the user registers it, twice
    key = await issue_in_browser(sandbox, request)
    first = await api(REGISTER, {"k": key})
    again = await api(REGISTER, {"k": key})
    # then one card, as PortOne shows it (masked number only), version V2
    card = first["data"]["registerPaymentCard"]
    assert again["data"]["registerPaymentCard"] == card
    assert card["cardNumber"].count("*") >= 6 and card["cardName"] and (card["version"], card["gateway"]) == ("V2", "PORTONE")
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == [
        {k: card[k] for k in ("_id", "cardName", "cardNumber", "version", "gateway")}
    ]
    # and the card row holds the billingKey, bound to the request that issued it
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active' AND customer_uid = :k AND issue_order_key = :i",
        k=key, i=request["issueId"],
    ) == 1

async def test_concurrent_registrations_make_one_card(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a key issued for a prepared request, and a key issued without one (control API)
    user_id = await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    key = await issue_in_browser(sandbox, request)
    await api(PREPARE_CARD)
    await api(PREPARE_CARD)
    loose = await issue_key(sandbox, user_id)
    # when the browser registers each several times at once
    results = await asyncio.gather(*(api(REGISTER, {"k": k}) for k in (key, key, key, loose, loose, loose)))
    # then every call answers the card of its key, and there are two cards
    assert all("errors" not in r for r in results), results
    cards = [r["data"]["registerPaymentCard"]["_id"] for r in results]
    assert len(set(cards[:3])) == 1 and len(set(cards[3:])) == 1 and cards[0] != cards[3], results
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active'") == 2

async def test_someone_elses_or_never_prepared_key_is_refused(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a key issued in the browser for one user's request
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    key = await issue_in_browser(sandbox, request)
    other, other_id = await second_user(api)
    await other(PREPARE_CARD)  # the other user has a pending request of its own
    # when the other user registers it
    stolen = await other(REGISTER, {"k": key})
    # when a user who never prepared registers a key issued under their own id
    third, third_id = await second_user(api, "third@example.com")
    never = await third(REGISTER, {"k": await issue_key(sandbox, third_id)})
    # when a key issued for someone else's customer id is registered by a user with a pending request
    foreign = await other(REGISTER, {"k": await issue_key(sandbox, "someone-else")})
    # when a V1 uid or our own issueId is sent as a billingKey
    v1_uid = (await api(PREPARE_CARD_V1))["data"]["preparePaymentCard"]["customerUid"]
    as_key = [await api(REGISTER, {"k": v1_uid}), await api(REGISTER, {"k": request["issueId"]})]
    # then all are refused alike, and nobody but the owner has a card
    assert [error_code(r) for r in (stolen, never, foreign)] == ["PAYMENT_CARD_NOT_PREPARED"] * 3
    assert [error_code(r) for r in as_key] in (
        ["PAYMENT_CARD_NOT_PREPARED"] * 2, ["BILLING_KEY_NOT_FOUND", "PAYMENT_CARD_NOT_PREPARED"]
    )
    assert (await other(CARDS))["data"]["fetchPaymentCards"] == [] and (await third(CARDS))["data"]["fetchPaymentCards"] == []
    # and the owner can still register it
    assert (await api(REGISTER, {"k": key}))["data"]["registerPaymentCard"]["version"] == "V2"
    # and once registered, the other user is still refused (not told whose it is)
    assert error_code(await other(REGISTER, {"k": key})) == "PAYMENT_CARD_NOT_PREPARED"
    assert other_id != third_id

async def test_delete_revokes_schedules_then_charge_is_refused(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered card whose key has a payment scheduled at PortOne (which refuses to delete it)
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    key = await issue_in_browser(sandbox, request)
    card_id = (await api(REGISTER, {"k": key}))["data"]["registerPaymentCard"]["_id"]
    when = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    scheduled = await portone(sandbox, "POST", "/payments/pc-scheduled-1/schedule", json={
        "payment": {"billingKey": key, "orderName": "정기 충전", "amount": {"total": 1000}, "currency": "KRW"},
        "timeToPay": when,
    })
    assert scheduled["status"] == 200, scheduled
    # when PortOne cannot be reached, the delete fails and the card stays
    await sandbox.faults(error_rate=1.0, endpoints=["DELETE /v2/billing-keys/{billingKey}"])
    failed = await api(DELETE, {"c": card_id})
    await sandbox.clear_faults()
    assert error_code(failed) == "PORTONE_UNAVAILABLE"
    assert [c["_id"] for c in (await api(CARDS))["data"]["fetchPaymentCards"]] == [card_id]
    # when it is deleted
    deleted = await api(DELETE, {"c": card_id})
    # then the schedule is revoked, the key DELETED at PortOne, and the card gone here
    assert deleted["data"]["deletePaymentCard"] == card_id
    schedule = await portone(sandbox, "GET", f"/payment-schedules/{scheduled['schedule']['id']}")
    assert schedule["status"] == "REVOKED"
    assert (await portone(sandbox, "GET", f"/billing-keys/{key}"))["status"] == "DELETED"
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == []
    # and a charge with it is refused before PortOne is asked; the key cannot be registered again
    payment_id = await new_order(api)
    assert error_code(await api(CHARGE, {"c": card_id, "m": payment_id})) == "PAYMENT_CARD_NOT_FOUND"
    assert await pay_calls(sandbox) == 0
    assert error_code(await api(REGISTER, {"k": key})) == "PAYMENT_CARD_NOT_FOUND"

async def test_malformed_billing_keys(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    # when ids that cannot exist are sent
    results = [
        await api(REGISTER, {"k": "billing-key-\x00bad"}),
        await api(REGISTER, {"k": "a/b"}),
        await api(REGISTER, {"k": "x" * 300}),
        await api("mutation($u: ID, $k: ID) { registerPaymentCard(customerUid: $u, billingKey: $k) { _id } }",
                  {"u": "pcu_x", "k": "billing-key-x"}),
    ]
    # then each has a clear code, no internal error
    assert [error_code(r) for r in results] == [
        "PAYMENT_CARD_NOT_PREPARED", "PAYMENT_CARD_NOT_PREPARED", "PAYMENT_CARD_NOT_PREPARED", "BAD_USER_INPUT",
    ]
