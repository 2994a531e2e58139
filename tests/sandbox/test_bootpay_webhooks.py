"""Bootpay webhooks, received by a tiny real HTTP server: the receipt plus webhook_type, status 5
then 1 for a virtual account, and retries (up to 10) until the answer is 200 + {"success": true}."""

from __future__ import annotations

import time

from tests.sandbox.bootpay import bootpay, bootpay_session, receiver, receiver_session  # noqa: F401 - fixtures


def test_card_payment_sends_the_receipt_with_payment_completed(bootpay, receiver):
    paid = bootpay.pay(price=7000, order_id="hook-card")
    [got] = receiver.wait_for(1)
    assert got["headers"]["content-type"] == "application/json"
    body = got["body"]
    assert body["webhook_type"] == "PAYMENT_COMPLETED"
    assert {k: body[k] for k in ("receipt_id", "order_id", "price", "status", "method_symbol", "sandbox")} == {
        "receipt_id": paid["receipt_id"], "order_id": "hook-card", "price": 7000, "status": 1,
        "method_symbol": "card", "sandbox": True}
    [record] = bootpay.deliveries(settled=1, receipt_id=paid["receipt_id"])
    assert (record["status"], record["webhook_type"], record["url"], len(record["attempts"])) == (
        "delivered", "PAYMENT_COMPLETED", receiver.url, 1)


def test_virtual_account_sends_5_then_1(bootpay, receiver):
    issued = bootpay.pay(price=30000, method="vbank")
    receiver.wait_for(1)
    bootpay.deposit(issued["receipt_id"])
    got = receiver.wait_for(2)
    assert [(g["body"]["status"], g["body"]["webhook_type"]) for g in got] == [
        (5, "PAYMENT_VIRTUAL_ACCOUNT_ISSUED"), (1, "PAYMENT_COMPLETED")]
    assert got[0]["body"]["vbank_data"]["bank_account"] == got[1]["body"]["vbank_data"]["bank_account"]


def test_cancels_send_partial_then_full(bootpay, receiver):
    rid = bootpay.pay(price=10000, webhook=False)["receipt_id"]
    bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 4000})
    bootpay.rest("POST", "/cancel", json={"receipt_id": rid})
    got = receiver.wait_for(2)
    assert [(g["body"]["webhook_type"], g["body"]["status"], g["body"]["cancelled_price"]) for g in got] == [
        ("PAYMENT_PARTIAL_CANCELLED", 20, 4000), ("PAYMENT_CANCELLED", 20, 10000)]


def test_confirm_sends_payment_completed_and_status_2_sends_nothing(bootpay, receiver):
    rid = bootpay.pay(price=5000, separately_confirmed=True)["receipt_id"]
    time.sleep(0.2)
    assert receiver.received == []
    bootpay.rest("POST", "/confirm", json={"receipt_id": rid})
    [got] = receiver.wait_for(1)
    assert (got["body"]["webhook_type"], got["body"]["status"]) == ("PAYMENT_COMPLETED", 1)


def test_retried_until_200_and_success_true(bootpay, receiver):
    # given a merchant that fails in every way Bootpay counts as a failure
    receiver.script[:] = [(500, '{"success": true}'), (200, "OK"), (200, '{"success": false}'), (404, "{}")]
    paid = bootpay.pay(price=1000)
    got = receiver.wait_for(5)
    assert len({g["body"]["receipt_id"] for g in got}) == 1 and got[0]["body"] == got[4]["body"]
    [record] = bootpay.deliveries(settled=1, receipt_id=paid["receipt_id"])
    assert record["status"] == "delivered"
    assert [(a["attempt"], a["http_status"]) for a in record["attempts"]] == [
        (1, 500), (2, 200), (3, 200), (4, 404), (5, 200)]


def test_gives_up_after_10_retries(bootpay, receiver):
    receiver.script[:] = [(503, "{}")] * 20
    paid = bootpay.pay(price=1000)
    [record] = bootpay.deliveries(settled=1, receipt_id=paid["receipt_id"])
    assert record["status"] == "failed" and len(record["attempts"]) == 11  # the first try and 10 retries
    time.sleep(0.2)
    assert len(receiver.received) == 11


def test_unreachable_url_is_retried_and_logged(bootpay):
    bootpay.config.webhook_url = "http://127.0.0.1:9/webhooks/bootpay"  # discard port: nobody listens
    paid = bootpay.pay(price=1000)
    [record] = bootpay.deliveries(settled=1, receipt_id=paid["receipt_id"])
    assert record["status"] == "failed" and len(record["attempts"]) == 11
    assert all(a["error"] and a["http_status"] is None for a in record["attempts"])


def test_no_url_no_webhook_flag_and_dropped(bootpay, receiver):
    bootpay.pay(price=1000, webhook=False)
    bootpay.control("PUT", "/faults", json={"webhook_drop_rate": 1})
    dropped = bootpay.pay(price=1000)
    bootpay.control("DELETE", "/faults")
    bootpay.config.webhook_url = None
    nowhere = bootpay.pay(price=1000)
    log = bootpay.control("GET", "/webhooks").json()["deliveries"]
    assert [(d["receipt_id"], d["status"]) for d in log] == [
        (dropped["receipt_id"], "dropped"), (nowhere["receipt_id"], "no_url")]
    time.sleep(0.2)
    assert receiver.received == []
    # and the log can be filtered and cleared
    assert len(bootpay.control("GET", "/webhooks", params={"status": "dropped"}).json()["deliveries"]) == 1
    assert bootpay.control("DELETE", "/webhooks").json()["deliveries"] == []
