"""Bootpay charging attacked over HTTP (issue 24 review): a storm of claims, webhooks and redirects
for one payment held for our confirm, a receipt for an order that is not ours, and the balance cap
on a held payment. The API and the Bootpay emulator over real HTTP, on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session, bootpay_settings  # noqa: F401
from tests.sandbox.bootpay import Bootpay
from tests.servers import run_server


def stats(bp: Bootpay) -> dict[str, int]:
    return bp.control("GET", "/stats").json()


def receipt(bp: Bootpay, receipt_id: str) -> dict:
    return bp.control("GET", f"/receipts/{receipt_id}").json()


async def test_a_storm_of_claims_webhooks_and_redirects_confirms_once(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    order = await api.prepare(10000)
    # given a card payment Bootpay holds for our confirm (status 2)
    held = api.bootpay.pay(price=10000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    rid = held["receipt_id"]
    http = api.gql.client

    async def webhook() -> int:
        body = {"receipt_id": rid, "status": 1, "webhook_type": "PAYMENT_COMPLETED"}
        return (await http.post("/webhooks/bootpay", json=body)).status_code

    async def redirect() -> str:
        params = {"event": "confirm", "receipt_id": rid, "order_id": order["merchantUid"]}
        return (await http.get("/payments/complete", params=params)).headers.get("location", "")

    # when 20 claims, 10 webhooks and 5 redirects of it race
    results = await asyncio.gather(
        *(api.charge(rid) for _ in range(20)), *(webhook() for _ in range(10)), *(redirect() for _ in range(5))
    )
    claims, hooks, redirects = results[:20], results[20:30], results[30:]
    # then every claim answers the one credit (none "not paid": the payment was confirmed and credited)
    assert all("errors" not in c for c in claims), [c.get("errors") for c in claims if "errors" in c]
    assert len({c["data"]["createPointTransactionOfLoading"]["_id"] for c in claims}) == 1
    assert all(status == 200 for status in hooks), hooks
    assert all("outcome=credited" in location for location in redirects), redirects
    # and Bootpay was asked to confirm it once, captured it once
    assert stats(api.bootpay).get("POST /v2/confirm") == 1, stats(api.bootpay)
    assert receipt(api.bootpay, rid)["status"] == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1


async def test_a_receipt_for_an_order_that_is_not_ours_is_never_credited(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    # given receipts paid at Bootpay for order ids no preparePointCharge made (another product on
    # the same Bootpay account, say): one paid, one held for a confirm
    paid = api.bootpay.pay(price=10000, order_id="shop-order-1", webhook=False)
    held = api.bootpay.pay(price=10000, order_id="shop-order-2", separately_confirmed=True, webhook=False)
    for r in (paid, held):
        # when a user claims it as a point charge
        result = await api.charge(r["receipt_id"])
        # then it is refused (Bootpay has no pre-registration: our order is the only amount check)
        assert error_code(result) == "FORBIDDEN", result
        assert "사전 등록된 주문" in result["errors"][0]["message"]
    # and nothing was credited, confirmed or refunded: the money is not ours to decide about
    assert await api.balance() == 0
    assert receipt(api.bootpay, paid["receipt_id"])["status"] == 1
    assert receipt(api.bootpay, held["receipt_id"])["status"] == 2
    assert "POST /v2/confirm" not in stats(api.bootpay) and "POST /v2/cancel" not in stats(api.bootpay)
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0


@pytest.fixture
async def capped_api(clean_db: str, sandbox: SandboxControl, bootpay: Bootpay) -> AsyncIterator[BootpayAPI]:  # noqa: F811
    """The API with POINTCHARGE_BALANCE_MAX = 12,000."""
    from api.app import create_app

    settings = api_settings(clean_db, sandbox, balance_max=12000, **bootpay_settings(bootpay))
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield BootpayAPI(GQL(http), bootpay, url)


async def test_a_held_payment_past_the_balance_cap_is_never_confirmed(capped_api: BootpayAPI, clean_db: str) -> None:
    api = capped_api
    user_id = await api.gql.signup_and_login()
    first = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=first["merchantUid"], webhook=False)
    assert "errors" not in await api.charge(paid["receipt_id"])
    # given a balance of 10,000 under a cap of 12,000, and a held payment of 5,000
    order = await api.prepare(5000)
    held = api.bootpay.pay(price=5000, order_id=order["merchantUid"], separately_confirmed=True, webhook=False)
    # when it is claimed
    result = await api.charge(held["receipt_id"])
    # then it is refused for the cap, and Bootpay was never asked to capture it: nothing to refund
    assert error_code(result) == "BALANCE_LIMIT_EXCEEDED", result
    assert "승인하지 않았으므로 청구되지 않습니다" in result["errors"][0]["message"]
    assert receipt(api.bootpay, held["receipt_id"])["status"] == 2
    assert "POST /v2/confirm" not in stats(api.bootpay) and "POST /v2/cancel" not in stats(api.bootpay)
    # and it stays refused, claimed again or through the redirect
    assert error_code(await api.charge(held["receipt_id"])) == "BALANCE_LIMIT_EXCEEDED"
    location = (await api.gql.client.get("/payments/complete", params={
        "event": "confirm", "receipt_id": held["receipt_id"], "order_id": order["merchantUid"]})).headers["location"]
    assert "outcome=credited" not in location
    assert receipt(api.bootpay, held["receipt_id"])["status"] == 2
    assert await ledger_invariants(clean_db) == {user_id: 10000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE anomaly = 'balance_limit'") == 1
    # while a paid (not held) Bootpay payment past the cap is refunded, as PortOne's is
    other = await api.prepare(5000)
    card = api.bootpay.pay(price=5000, order_id=other["merchantUid"], webhook=False)
    assert error_code(await api.charge(card["receipt_id"])) == "BALANCE_LIMIT_EXCEEDED"
    assert receipt(api.bootpay, card["receipt_id"])["cancelled_price"] == 5000
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_a_refused_held_payment_tells_clients_nothing_was_charged(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    # given a held payment of 1,000 and a paid one of 1,000, both on orders of 10,000
    held_order, paid_order = await api.prepare(10000), await api.prepare(10000)
    held = api.bootpay.pay(price=1000, order_id=held_order["merchantUid"], separately_confirmed=True, webhook=False)
    paid = api.bootpay.pay(price=1000, order_id=paid_order["merchantUid"], webhook=False)
    # when both are claimed
    refused, refunded = await api.charge(held["receipt_id"]), await api.charge(paid["receipt_id"])
    # then the held one says it was not charged (charged: false), the paid one that it was refunded
    assert refused["errors"][0]["extensions"]["charged"] is False, refused
    assert "청구되지 않습니다" in refused["errors"][0]["message"]
    assert "charged" not in refunded["errors"][0]["extensions"], refunded
    # and the redirect's result page is told the same (a reason of its own, not "amount_mismatch")
    location = (await api.gql.client.get("/payments/complete", params={
        "event": "confirm", "receipt_id": held["receipt_id"], "order_id": held_order["merchantUid"]})).headers["location"]
    assert "outcome=failed" in location and "reason=amount_mismatch_not_charged" in location, location
    assert receipt(api.bootpay, held["receipt_id"])["status"] == 2


async def test_parallel_partial_cancels_never_over_refund(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
    assert "errors" not in await api.charge(paid["receipt_id"])
    query = "mutation($r: ID!, $a: Int) { cancelPointTransaction(receiptId: $r, amount: $a) { _id amount balance } }"
    # when six partial cancels race: 3 × 3,000 and 3 × 4,000 of a 10,000 charge (21,000 asked)
    asked = (3000, 4000) * 3
    answers = await asyncio.gather(*(api(query, {"r": paid["receipt_id"], "a": a}) for a in asked))
    done = [a["data"]["cancelPointTransaction"] for a in answers if "errors" not in a]
    granted = [amount for amount, a in zip(asked, answers, strict=True) if "errors" not in a]
    refused = [a["errors"][0]["extensions"]["code"] for a in answers if "errors" in a]
    # then Bootpay refunded at most the payment, exactly what succeeded here
    refunded = api.bootpay.control("GET", f"/receipts/{paid['receipt_id']}").json()["cancelled_price"]
    assert refunded == sum(granted) <= 10000, (done, refused)
    assert set(refused) <= {"CANCEL_AMOUNT_INVALID", "ALREADY_CANCELLED"}, refused
    # and the points followed exactly what Bootpay refunded: one 취소 entry per cancelled total
    # synced (answers synced out of order collapse into one entry, which they then all answer)
    assert await count_rows(clean_db, "SELECT -SUM(amount) FROM point_transactions WHERE status = '취소'") == refunded
    assert all(d["balance"] >= 10000 - refunded for d in done), done
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests WHERE status = 'succeeded'") == len(done)
    assert await ledger_invariants(clean_db) == {user_id: 10000 - refunded}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests WHERE status = 'requested'") == 0
