"""One-click charges with PortOne V2 cards (issue 25): the API over real HTTP against the PortOne
sandbox over real HTTP (POST /payments/{paymentId}/billing-key under the order's paymentId)."""

from __future__ import annotations

import asyncio

from tests.api.test_payment_cards_v2 import (
    CHARGE, DELETE, PAY, PREPARE_CARD, PREPARE_CARD_V1, PREPARE_V1, REGISTER, REGISTER_V1, issue_in_browser,
    new_order, pay_calls, portone, register_card,
)
from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants


async def test_one_click_charge_credits_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered V2 card and a V2 order
    user_id = await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    payment_id = await new_order(api, 5000)
    # when charging it, then sending the same charge again (a retry)
    first = await api(CHARGE, {"c": card_id, "m": payment_id})
    retry = await api(CHARGE, {"c": card_id, "m": payment_id})
    # then one credit, the same entry both times
    entry = first["data"]["createPointTransactionOfLoadingWithCard"]
    assert (entry["amount"], entry["balance"], entry["status"], entry["impUid"], entry["gateway"]) == (
        5000, 5000, "충전", payment_id, "PORTONE"
    )
    assert retry["data"]["createPointTransactionOfLoadingWithCard"] == entry
    # and PortOne holds one paid billing-key payment under the order's paymentId, asked once
    payment = await portone(sandbox, "GET", f"/payments/{payment_id}")
    assert (payment["status"], payment["amount"]["total"], payment["customer"]["id"]) == ("PAID", 5000, user_id)
    assert payment["billingKey"]
    assert await pay_calls(sandbox) == 1
    assert await ledger_invariants(clean_db) == {user_id: 5000}

async def test_three_concurrent_clicks_charge_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card, an order, and PortOne answering slowly
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    payment_id = await new_order(api, 10000)
    await sandbox.faults(latency_ms=400, endpoints=[PAY])
    # when three charges of the order arrive together
    results = await asyncio.gather(*(api(CHARGE, {"c": card_id, "m": payment_id}) for _ in range(3)))
    await sandbox.clear_faults()
    # then all three answer the same credit; PortOne was asked once; the ledger has it once
    entries = [r["data"]["createPointTransactionOfLoadingWithCard"] for r in results]
    assert all(e == entries[0] for e in entries), results
    assert await pay_calls(sandbox) == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [10000]

async def test_decline_then_another_card_on_the_same_order(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card over its limit (the browser window's "limit" button), a good card, and an order
    await api.signup_and_login()
    bad = await register_card(api, sandbox, action="limit")
    good = await register_card(api, sandbox)
    payment_id = await new_order(api, 30000)
    # when charging the declining card
    refused = await api(CHARGE, {"c": bad, "m": payment_id})
    # then a clear error with the card company's reason, no points, a FAILED payment at PortOne
    assert error_code(refused) == "CARD_DECLINED"
    assert refused["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert "한도초과" in refused["errors"][0]["message"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    assert (await portone(sandbox, "GET", f"/payments/{payment_id}"))["status"] == "FAILED"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'failed'") == 1
    # when the same order (the same paymentId: V2 takes a new attempt on a failed one) is charged with the good card
    paid = await api(CHARGE, {"c": good, "m": payment_id})
    # then it is credited once and the order's payment is PAID
    assert paid["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 30000
    assert (await portone(sandbox, "GET", f"/payments/{payment_id}"))["status"] == "PAID"
    assert await pay_calls(sandbox) == 2
    assert list((await ledger_invariants(clean_db)).values()) == [30000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'paid'") == 1

async def test_cards_and_orders_of_different_versions_do_not_mix(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a V2 card, a V1 card, a V1 order and a V2 order
    await api.signup_and_login()
    v2_card = await register_card(api, sandbox)
    v1_uid = (await api(PREPARE_CARD_V1))["data"]["preparePaymentCard"]["customerUid"]
    made = await sandbox.http.post("/_control/billing-keys", json={"version": "v1", "customer_uid": v1_uid})
    assert made.status_code == 200
    v1_card = (await api(REGISTER_V1, {"u": v1_uid}))["data"]["registerPaymentCard"]
    assert v1_card["version"] == "V1"
    v1_order = (await api(PREPARE_V1, {"a": 1000}))["data"]["preparePointCharge"]["merchantUid"]
    v2_order = await new_order(api, 1000)
    # when each card is used on the other version's order
    crossed = [await api(CHARGE, {"c": v1_card["_id"], "m": v2_order}), await api(CHARGE, {"c": v2_card, "m": v1_order})]
    # then both are refused clearly and nothing is charged
    assert [error_code(r) for r in crossed] == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert "버전" in crossed[0]["errors"][0]["message"]
    assert await pay_calls(sandbox) == 0 and (await sandbox.stats()).get("POST /v1/subscribe/payments/again", 0) == 0
    # and each card pays its own version's order
    assert (await api(CHARGE, {"c": v2_card, "m": v2_order}))["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    assert (await api(CHARGE, {"c": v1_card["_id"], "m": v1_order}))["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    assert list((await ledger_invariants(clean_db)).values()) == [2000]

async def test_no_answer_from_portone_then_retry_charges_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card, an order, and PortOne charging the card but the answer lost (a timeout after it)
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    payment_id = await new_order(api, 1000)
    await sandbox.faults(timeout_rate=1.0, timeout_s=5, process_before_fault=True, endpoints=[PAY])
    lost = await api(CHARGE, {"c": card_id, "m": payment_id})
    await sandbox.clear_faults()
    assert error_code(lost) == "PORTONE_UNAVAILABLE"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'unknown'") == 1
    # when the user tries again
    retry = await api(CHARGE, {"c": card_id, "m": payment_id})
    # then the retry finds the payment at PortOne and credits it, without charging again
    assert retry["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    assert await pay_calls(sandbox) == 1
    assert (await portone(sandbox, "GET", f"/payments/{payment_id}"))["status"] == "PAID"
    assert list((await ledger_invariants(clean_db)).values()) == [1000]

async def test_key_deleted_at_portone_is_unusable_and_the_order_stays_usable(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a card whose key was deleted in PortOne's console, a good card, and an order
    await api.signup_and_login()
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    key = await issue_in_browser(sandbox, request)
    gone = (await api(REGISTER, {"k": key}))["data"]["registerPaymentCard"]["_id"]
    assert (await portone(sandbox, "DELETE", f"/billing-keys/{key}"))["status"] == 200
    good = await register_card(api, sandbox)
    payment_id = await new_order(api, 1000)
    # when charging the card whose key is gone
    refused = await api(CHARGE, {"c": gone, "m": payment_id})
    # then PortOne's refusal is named, nothing is charged or credited
    assert error_code(refused) == "PAYMENT_CARD_UNUSABLE"
    assert "삭제" in refused["errors"][0]["extensions"]["reason"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    # and the order is charged with the other card
    assert (await api(CHARGE, {"c": good, "m": payment_id}))["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 1000
    assert list((await ledger_invariants(clean_db)).values()) == [1000]
    # and deleting the dead card here works (PortOne no longer has its key)
    assert (await api(DELETE, {"c": gone}))["data"]["deletePaymentCard"] == gone

async def test_webhooks_billing_key_events_ignored_and_paid_credits_nothing_more(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given PortOne V2's webhooks pointed at the API (BillingKey.Issued on issue, Transaction.Paid on a charge)
    sandbox.config.v2_webhook_url = str(api.client.base_url).rstrip("/") + "/webhooks/portone/v2"  # type: ignore[attr-defined]
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    payment_id = await new_order(api, 50000)
    # when the card is charged (Transaction.Paid races the mutation's own credit), then deleted
    charged = await api(CHARGE, {"c": card_id, "m": payment_id})
    assert charged["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 50000
    assert (await api(DELETE, {"c": card_id}))["data"]["deletePaymentCard"] == card_id
    deliveries = "SELECT COUNT(*) FROM webhook_deliveries WHERE provider = 'portone_v2' AND event LIKE :e AND outcome = :o"
    for _ in range(200):
        if (await count_rows(clean_db, deliveries, e="Transaction.Paid", o="processed") >= 1
                and await count_rows(clean_db, deliveries, e="BillingKey.%", o="ignored") >= 2):
            break
        await asyncio.sleep(0.05)
    # then the billing-key events were ignored, the payment's webhook processed, the order credited once
    assert await count_rows(clean_db, deliveries, e="BillingKey.%", o="ignored") == 2
    assert await count_rows(clean_db, deliveries, e="Transaction.Paid", o="processed") == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert list((await ledger_invariants(clean_db)).values()) == [50000]

async def test_order_paid_in_the_checkout_is_credited_not_charged(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a V2 order paid in the checkout (PortOne.requestPayment) but not credited yet, and a card
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    payment_id = await new_order(api, 5000)
    await sandbox.pay(5000, version="v2", payment_id=payment_id)
    # when the order is charged with the card
    charged = await api(CHARGE, {"c": card_id, "m": payment_id})
    # then PortOne refuses the paid paymentId (409 ALREADY_PAID), the checkout's payment is credited
    # once, and the card was not charged
    assert charged["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 5000
    assert "billingKey" not in await portone(sandbox, "GET", f"/payments/{payment_id}")
    assert list((await ledger_invariants(clean_db)).values()) == [5000]
    # and once credited, a further charge is refused before PortOne is asked
    calls = await pay_calls(sandbox)
    assert (await api(CHARGE, {"c": card_id, "m": payment_id}))["data"]["createPointTransactionOfLoadingWithCard"]["amount"] == 5000
    assert await pay_calls(sandbox) == calls
