"""Saved cards and one-click charges (issue 25, PortOne V1): the API over real HTTP against the
PortOne sandbox over real HTTP; keys issued as a browser would (POST /_control/billing-keys)."""

from __future__ import annotations

import asyncio

from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

PREPARE_CARD = "mutation { preparePaymentCard { customerUid customerId merchantUid pg amount payMethod version } }"
REGISTER = "mutation($u: ID) { registerPaymentCard(customerUid: $u) { _id cardName cardNumber version createdAt } }"
CARDS = "{ fetchPaymentCards { _id cardName cardNumber version } }"
DELETE = "mutation($c: ID!) { deletePaymentCard(paymentCardId: $c) }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = (
    "mutation($c: ID!, $m: String!) { createPointTransactionOfLoadingWithCard(paymentCardId: $c, merchantUid: $m)"
    " { _id impUid amount balance status } }"
)


async def issue_key(sandbox: SandboxControl, customer_uid: str, *, decline: bool = False) -> dict:
    response = await sandbox.http.post(
        "/_control/billing-keys", json={"version": "v1", "customer_uid": customer_uid, "decline": decline}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def register_card(api: GQL, sandbox: SandboxControl, *, decline: bool = False) -> str:
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"], decline=decline)
    card = (await api(REGISTER, {"u": request["customerUid"]}))["data"]["registerPaymentCard"]
    return card["_id"]


async def new_order(api: GQL, amount: int = 5000) -> str:
    return (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]


async def again_payments(sandbox: SandboxControl, merchant_uid: str) -> list[dict]:
    listed = (await sandbox.http.get("/_control/payments")).json()
    return [p["payment"] for p in listed if p["payment"].get("merchant_uid") == merchant_uid]


async def second_user(api: GQL) -> GQL:
    other = GQL(api.client)
    await other.signup_and_login("other@example.com")
    return other


async def test_prepare_issue_register_list(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user who prepared a card registration
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    assert request["customerUid"].startswith("pcu_") and len(request["customerUid"]) <= 80
    assert request["amount"] == 0 and request["version"] == "V1" and request["pg"] and request["payMethod"] == "card"
    # and every preparation makes a new uid (PortOne rebinds a reused one silently)
    assert (await api(PREPARE_CARD))["data"]["preparePaymentCard"]["customerUid"] != request["customerUid"]
    # when registering before the browser issued the key
    early = await api(REGISTER, {"u": request["customerUid"]})
    # then it is refused: no key at PortOne yet
    assert error_code(early) == "BILLING_KEY_NOT_FOUND"
    # when the browser issues the key and the user registers it, twice
    await issue_key(sandbox, request["customerUid"])
    first = await api(REGISTER, {"u": request["customerUid"]})
    again = await api(REGISTER, {"u": request["customerUid"]})
    # then one card, as PortOne shows it (masked number only)
    card = first["data"]["registerPaymentCard"]
    assert again["data"]["registerPaymentCard"] == card
    assert card["cardNumber"].count("*") >= 6 and card["cardName"] and card["version"] == "V1"
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == [
        {"_id": card["_id"], "cardName": card["cardName"], "cardNumber": card["cardNumber"], "version": "V1"}
    ]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active'") == 1


async def test_someone_elses_or_unknown_uid_is_refused(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a uid prepared by one user, with a key issued under it
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"])
    other = await second_user(api)
    # when another user registers it, or a uid nobody prepared (but with a key at PortOne)
    stolen = await other(REGISTER, {"u": request["customerUid"]})
    await issue_key(sandbox, "made-up-uid-1")
    made_up = await other(REGISTER, {"u": "made-up-uid-1"})
    # then both are refused, and the other user has no card
    assert error_code(stolen) == "PAYMENT_CARD_NOT_PREPARED"
    assert error_code(made_up) == "PAYMENT_CARD_NOT_PREPARED"
    assert (await other(CARDS))["data"]["fetchPaymentCards"] == []
    # and the owner can still register it
    assert "errors" not in await api(REGISTER, {"u": request["customerUid"]})


async def test_one_click_charge_credits_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered card and an order
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 5000)
    # when charging it, then sending the same charge again (a retry)
    first = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    retry = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    # then one credit, the same entry both times, one payment at PortOne
    entry = first["data"]["createPointTransactionOfLoadingWithCard"]
    assert entry["amount"] == 5000 and entry["balance"] == 5000 and entry["status"] == "충전"
    assert retry["data"]["createPointTransactionOfLoadingWithCard"] == entry
    payments = await again_payments(sandbox, merchant_uid)
    assert [(p["status"], p["amount"], p["customer_uid_usage"]) for p in payments] == [("paid", 5000, "payment")]
    assert payments[0]["imp_uid"] == entry["impUid"]
    assert list((await ledger_invariants(clean_db)).values()) == [5000]


async def test_double_click_charges_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card, an order, and PortOne answering slowly
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 10000)
    await sandbox.faults(latency_ms=400, endpoints=["POST /v1/subscribe/payments/again"])
    # when two charges of the order arrive together
    results = await asyncio.gather(*(api(CHARGE, {"c": card_id, "m": merchant_uid}) for _ in range(5)))
    await sandbox.clear_faults()
    # then all five answer the same credit; PortOne charged once; the ledger has it once
    entries = [r["data"]["createPointTransactionOfLoadingWithCard"] for r in results]
    assert all(e == entries[0] for e in entries), results
    assert len(await again_payments(sandbox, merchant_uid)) == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [10000]


async def test_decline_then_another_card_on_the_same_order(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card whose charges are declined, and an order
    await api.signup_and_login()
    bad = await register_card(api, sandbox, decline=True)
    good = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 30000)
    # when charging the declining card
    refused = await api(CHARGE, {"c": bad, "m": merchant_uid})
    # then a clear error with PortOne's reason, and no points
    assert error_code(refused) == "CARD_DECLINED"
    assert refused["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert "한도초과" in refused["errors"][0]["message"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    # when the same order is charged with the good card
    paid = await api(CHARGE, {"c": good, "m": merchant_uid})
    # then it is credited once; PortOne holds the failed attempt and the paid one
    assert paid["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 30000
    assert sorted(p["status"] for p in await again_payments(sandbox, merchant_uid)) == ["failed", "paid"]
    assert list((await ledger_invariants(clean_db)).values()) == [30000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'failed'") == 1


async def test_someone_elses_card_or_order_is_refused(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given one user's card and order
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api)
    other = await second_user(api)
    other_card = await register_card(other, sandbox)
    other_order = await new_order(other)
    # when the other user uses the first user's card, or charges the first user's order
    with_card = await other(CHARGE, {"c": card_id, "m": other_order})
    on_order = await other(CHARGE, {"c": other_card, "m": merchant_uid})
    deleted = await other(DELETE, {"c": card_id})
    # then all are refused, and nothing was charged
    assert error_code(with_card) == "PAYMENT_CARD_NOT_FOUND"
    assert error_code(on_order) == "ORDER_NOT_FOUND"
    assert error_code(deleted) == "PAYMENT_CARD_NOT_FOUND"
    assert await again_payments(sandbox, merchant_uid) == [] and await again_payments(sandbox, other_order) == []
    assert len((await api(CARDS))["data"]["fetchPaymentCards"]) == 1


async def test_delete_then_charge_is_refused(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered card
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"])
    card_id = (await api(REGISTER, {"u": request["customerUid"]}))["data"]["registerPaymentCard"]["_id"]
    # when PortOne cannot be reached, the delete fails and the card stays
    await sandbox.faults(error_rate=1.0, endpoints=["DELETE /v1/subscribe/customers/{customer_uid}"])
    failed = await api(DELETE, {"c": card_id})
    await sandbox.clear_faults()
    assert error_code(failed) == "PORTONE_UNAVAILABLE"
    assert [c["_id"] for c in (await api(CARDS))["data"]["fetchPaymentCards"]] == [card_id]
    # when it is deleted
    deleted = await api(DELETE, {"c": card_id})
    # then the key is gone at PortOne and the card here; a charge with it is refused
    assert deleted["data"]["deletePaymentCard"] == card_id
    token = await sandbox.v1_token()
    gone = await sandbox.http.get(f"/v1/subscribe/customers/{request['customerUid']}", headers={"Authorization": token})
    assert gone.status_code == 404
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == []
    merchant_uid = await new_order(api)
    charged = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    assert error_code(charged) == "PAYMENT_CARD_NOT_FOUND"
    assert await again_payments(sandbox, merchant_uid) == []
    # and the deleted card's uid cannot be registered again
    assert error_code(await api(REGISTER, {"u": request["customerUid"]})) == "PAYMENT_CARD_NOT_FOUND"


async def test_no_answer_from_portone_then_retry_charges_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card, an order, and PortOne processing the charge but the answer lost (a 5xx after it)
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 1000)
    await sandbox.faults(timeout_rate=1.0, timeout_s=5, process_before_fault=True,
                         endpoints=["POST /v1/subscribe/payments/again"])
    lost = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    await sandbox.clear_faults()
    assert error_code(lost) == "PORTONE_UNAVAILABLE"
    # when the user tries again
    retry = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    # then it is credited once and PortOne holds at most one paid payment for the order
    assert retry["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    paid = [p for p in await again_payments(sandbox, merchant_uid) if p["status"] == "paid"]
    assert len(paid) == 1
    assert list((await ledger_invariants(clean_db)).values()) == [1000]


async def test_order_paid_in_the_checkout_is_not_charged_again(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given an order paid and credited through the ordinary checkout
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 5000)
    paid = await sandbox.pay(5000, merchant_uid=merchant_uid)
    claim = await api("mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { amount } }", {"i": paid["imp_uid"]})
    assert claim["data"]["createPointTransactionOfLoading"]["amount"] == 5000
    # when the same order is charged with the card
    charged = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    # then it is refused and the card was not charged
    assert error_code(charged) == "ORDER_ALREADY_PAID"
    assert [p["imp_uid"] for p in await again_payments(sandbox, merchant_uid)] == [paid["imp_uid"]]
    assert list((await ledger_invariants(clean_db)).values()) == [5000]


async def test_key_gone_at_portone_is_unusable_and_the_order_stays_usable(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a card whose key was deleted in PortOne's console, a good card, and an order
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"])
    gone = (await api(REGISTER, {"u": request["customerUid"]}))["data"]["registerPaymentCard"]["_id"]
    token = await sandbox.v1_token()
    deleted = await sandbox.http.delete(f"/v1/subscribe/customers/{request['customerUid']}", headers={"Authorization": token})
    assert deleted.status_code == 200
    good = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 1000)
    # when charging the card whose key is gone
    refused = await api(CHARGE, {"c": gone, "m": merchant_uid})
    # then PortOne's refusal is named, nothing is charged or credited
    assert error_code(refused) == "PAYMENT_CARD_UNUSABLE"
    assert "등록되지 않은 구매자" in refused["errors"][0]["message"]
    assert await again_payments(sandbox, merchant_uid) == []
    # and the order is charged with the other card
    assert (await api(CHARGE, {"c": good, "m": merchant_uid}))["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    assert list((await ledger_invariants(clean_db)).values()) == [1000]


async def test_anonymous_callers_and_malformed_ids(api: GQL, sandbox: SandboxControl) -> None:
    # given no login, then a login
    assert error_code(await api(PREPARE_CARD)) == "UNAUTHENTICATED"
    assert error_code(await api(CARDS)) == "UNAUTHENTICATED"
    await api.signup_and_login()
    # when ids that cannot exist are sent
    results = [
        await api(REGISTER, {"u": "pcu_\x00bad"}),
        await api(REGISTER, {"u": None}),
        await api(CHARGE, {"c": "x" * 40, "m": "pc_1"}),
        await api(CHARGE, {"c": "0" * 32, "m": "a/b\x00"}),
        await api(DELETE, {"c": "../../x"}),
    ]
    # then each has a clear code, no internal error
    assert [error_code(r) for r in results] == [
        "PAYMENT_CARD_NOT_PREPARED", "BAD_USER_INPUT", "PAYMENT_CARD_NOT_FOUND", "PAYMENT_CARD_NOT_FOUND",
        "PAYMENT_CARD_NOT_FOUND",
    ]


async def test_portones_webhook_for_the_charge_credits_nothing_more(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given PortOne's webhooks pointed at the API (PortOne sends "paid" for an again payment)
    sandbox.config.webhook_url = str(api.client.base_url).rstrip("/") + "/webhooks/portone"  # type: ignore[attr-defined]
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    merchant_uid = await new_order(api, 50000)
    # when the card is charged (the webhook races the mutation's own credit)
    charged = await api(CHARGE, {"c": card_id, "m": merchant_uid})
    assert charged["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 50000
    processed = "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'processed'"
    for _ in range(200):
        if await count_rows(clean_db, processed) >= 1:
            break
        await asyncio.sleep(0.05)
    # then the webhook was processed and the order is credited once
    assert await count_rows(clean_db, processed) == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [50000]


async def test_concurrent_registrations_make_one_card(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a key issued under a prepared uid
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"])
    # when the browser registers it several times at once
    results = await asyncio.gather(*(api(REGISTER, {"u": request["customerUid"]}) for _ in range(4)))
    # then every call answers the same card, and there is one
    cards = [r["data"]["registerPaymentCard"] for r in results]
    assert all(c == cards[0] for c in cards), results
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payment_cards WHERE status = 'active'") == 1
