"""/webhooks/bootpay end to end: the Bootpay emulator delivers to the API over real HTTP. The body
is only a hint (the receipt is re-fetched), "success" is answered only once the receipt is synced,
a failure answers non-200 so that Bootpay delivers again, and the allow-list keeps other senders out."""

from __future__ import annotations

import asyncio
import json

import httpx

from api.app import create_app
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, ledger_invariants
from tests.sandbox.bootpay import Bootpay
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session, bootpay_settings  # noqa: F401
from tests.servers import run_server


def settled(api: BootpayAPI, receipt_id: str, count: int) -> list[dict]:
    """The emulator's deliveries for the receipt once ``count`` of them are no longer pending."""
    return api.bootpay.deliveries(settled=count, receipt_id=receipt_id, timeout_s=20)


async def delivered(api: BootpayAPI, receipt_id: str, count: int) -> list[dict]:
    return await asyncio.to_thread(settled, api, receipt_id, count)


async def test_mutation_webhook_and_repeats_credit_once(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    api.send_webhooks_here()
    order = await api.prepare(10000)
    # given a card payment Bootpay reports by webhook, and the frontend claims it too, twice
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=True)
    claims = await asyncio.gather(api.charge(paid["receipt_id"]), api.charge(paid["receipt_id"]))
    log = await delivered(api, paid["receipt_id"], 1)
    # then Bootpay's delivery was answered 200 {"success": true} at once
    assert [d["status"] for d in log] == ["delivered"] and len(log[0]["attempts"]) == 1
    assert json.loads(log[0]["attempts"][0]["response"])["success"] is True
    # and the points were credited once, whoever came first
    assert all("errors" not in c for c in claims), claims
    assert len({c["data"]["createPointTransactionOfLoading"]["_id"] for c in claims}) == 1
    assert await ledger_invariants(clean_db) == {user_id: 10000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE provider = 'bootpay' AND outcome = 'processed'"
    ) == 1


async def test_virtual_account_deposit_is_credited_by_the_webhook(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    api.send_webhooks_here()
    order = await api.prepare(30000)
    # given a virtual account issued (webhook: status 5)
    issued = api.bootpay.pay(price=30000, order_id=order["merchantUid"], method="vbank", webhook=True)
    await delivered(api, issued["receipt_id"], 1)
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'ready'") == 1
    assert await api.balance() == 0
    # when the buyer deposits (webhook: status 1), with no mutation at all
    api.bootpay.deposit(issued["receipt_id"])
    log = await delivered(api, issued["receipt_id"], 2)
    # then the webhook credited the order's owner
    assert [d["webhook_type"] for d in log] == ["PAYMENT_VIRTUAL_ACCOUNT_ISSUED", "PAYMENT_COMPLETED"]
    assert all(d["status"] == "delivered" for d in log)
    assert await api.balance_becomes(30000) == 30000
    assert await ledger_invariants(clean_db) == {user_id: 30000}


async def test_console_cancel_claws_points_back(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
    await api.charge(paid["receipt_id"])
    api.send_webhooks_here()
    # when the merchant cancels 4,000 in Bootpay's admin (not through us), then the rest
    for count, (price, left) in enumerate(((4000, 6000), (None, 0)), start=1):
        r = api.bootpay.rest("POST", "/cancel", json={"receipt_id": paid["receipt_id"], "cancel_price": price})
        assert r.status_code == 200, r.text
        log = await delivered(api, paid["receipt_id"], count)
        # then each webhook took its points back
        assert await api.balance_becomes(left) == left
    assert [(d["webhook_type"], d["status"]) for d in log] == [
        ("PAYMENT_PARTIAL_CANCELLED", "delivered"), ("PAYMENT_CANCELLED", "delivered")]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status = '취소'") == 2
    assert await ledger_invariants(clean_db) == {user_id: 0}


async def test_a_delivery_bootpay_cannot_be_asked_about_is_retried(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    api.send_webhooks_here()
    order = await api.prepare(5000)
    # given Bootpay's receipt lookups fail while its webhook arrives
    api.bootpay.control("PUT", "/faults", json={"error_rate": 1.0, "endpoints": ["GET /v2/receipt/{receipt_id}"]})
    paid = api.bootpay.pay(price=5000, order_id=order["merchantUid"], webhook=True)
    while not any(a["http_status"] for d in api.bootpay.control("GET", "/webhooks").json()["deliveries"]
                  for a in d["attempts"]):
        await asyncio.sleep(0.05)
    first = api.bootpay.control("GET", "/webhooks").json()["deliveries"][0]["attempts"][0]
    # then we answered non-200 without "success" (nothing credited), so Bootpay delivers again
    assert first["http_status"] == 503 and json.loads(first["response"])["success"] is False
    assert await api.balance() == 0
    # and once Bootpay answers lookups again, a later delivery credits it
    api.bootpay.control("DELETE", "/faults")
    log = await delivered(api, paid["receipt_id"], 1)
    assert log[0]["status"] == "delivered" and len(log[0]["attempts"]) >= 2
    assert await api.balance_becomes(5000) == 5000


async def test_form_bodies_duplicates_and_garbage(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    await api.gql.signup_and_login()
    order = await api.prepare(10000)
    paid = api.bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
    async with httpx.AsyncClient(base_url=api.url) as http:
        # a form-urlencoded body (Bootpay's other content_type), five times at once
        form = {"receipt_id": paid["receipt_id"], "webhook_type": "PAYMENT_COMPLETED", "status": "1", "price": "1"}
        answers = await asyncio.gather(*(http.post("/webhooks/bootpay", data=form) for _ in range(5)))
        assert [(a.status_code, a.json()["success"]) for a in answers] == [(200, True)] * 5
        # garbage: refused, not "success"
        bad = await http.post("/webhooks/bootpay", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["success"] is False
        missing = await http.post("/webhooks/bootpay", json={"webhook_type": "PAYMENT_COMPLETED"})
        assert missing.status_code == 400
    # the body's price (1) meant nothing: the receipt's 10,000 was credited, once, with few lookups
    assert await api.balance() == 10000
    assert api.bootpay.control("GET", "/stats").json()["GET /v2/receipt/{receipt_id}"] <= 2
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1


async def test_senders_outside_the_allow_list_are_refused(
    clean_db: str, sandbox: SandboxControl, bootpay: Bootpay  # noqa: F811
) -> None:
    settings = api_settings(clean_db, sandbox, **bootpay_settings(bootpay),
                            bootpay_webhook_allowed_ips=["223.130.82.0/24"])
    paid = bootpay.pay(price=10000, webhook=False)
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            r = await http.post("/webhooks/bootpay", json={"receipt_id": paid["receipt_id"], "status": 1})
    assert r.status_code == 403 and r.json()["success"] is False
    assert "GET /v2/receipt/{receipt_id}" not in bootpay.control("GET", "/stats").json()
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE provider = 'bootpay' AND outcome = 'rejected'"
    ) == 1


async def test_two_console_partial_cancels_within_the_window_both_claw_back(
    clean_db: str, sandbox: SandboxControl, bootpay: Bootpay  # noqa: F811
) -> None:
    # given the production-like de-duplication window (3 s here; 5 s by default)
    settings = api_settings(clean_db, sandbox, **{**bootpay_settings(bootpay), "webhook_dedup_s": 3.0})
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = BootpayAPI(GQL(http), bootpay, url)
            user_id = await api.gql.signup_and_login()
            order = await api.prepare(10000)
            paid = bootpay.pay(price=10000, order_id=order["merchantUid"], webhook=False)
            await api.charge(paid["receipt_id"])
            api.send_webhooks_here()
            # when the merchant cancels 2,000 and then 3,000 more in Bootpay's admin, a second apart
            for count, price in enumerate((2000, 3000), start=1):
                r = bootpay.rest("POST", "/cancel", json={"receipt_id": paid["receipt_id"], "cancel_price": price})
                assert r.status_code == 200, r.text
                log = await delivered(api, paid["receipt_id"], count)
            # then both deliveries were answered "success" and both took their points back: the
            # second (same webhook_type, another cancelled_price) is a change, not a duplicate
            assert [d["status"] for d in log] == ["delivered", "delivered"]
            assert await api.balance_becomes(5000, timeout_s=15) == 5000
    assert await ledger_invariants(clean_db) == {user_id: 5000}
