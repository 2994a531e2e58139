"""Bootpay billing (정기결제) in the emulator through the official `bootpay-backend` SDK, unchanged:
key issue (REST card data and the browser's window via the control API), lookups, charges,
declines, duplicate order_ids, reservations on the sandbox clock, and key destruction."""

from __future__ import annotations

import asyncio
import datetime
import json
from urllib.parse import parse_qs

import pytest
from bootpay_backend import BootpayBackend

from tests.sandbox.bootpay import bootpay, bootpay_session, receiver, receiver_session  # noqa: F401 - fixtures

CARD = {"card_pw": "12", "card_identity_no": "900101", "card_expire_year": "30", "card_expire_month": "12"}


@pytest.fixture(params=["application_id/private_key", "client_key/secret_key"])
def sdk(request, bootpay) -> BootpayBackend:
    cfg = bootpay.config
    if request.param.startswith("application"):
        client = BootpayBackend(cfg.application_id, cfg.private_key, mode="sandbox")
    else:
        client = BootpayBackend(client_key=cfg.client_key, secret_key=cfg.secret_key, mode="sandbox")
    client.BASE_URL = {"sandbox": bootpay.v2}
    assert "error_code" not in client.get_access_token()
    return client


def issue(sdk: BootpayBackend, card_no: str = "5365-1000-0000-5678", **kw) -> dict:
    return sdk.request_subscribe_billing_key(pg="나이스페이", order_name="정기결제 카드 등록", subscription_id=kw.pop(
        "subscription_id", "sub-1"), card_no=card_no, **{**CARD, **kw})


def later(bootpay, seconds: float) -> str:
    """The SDK README's format (local time with the offset, %z → +0900), on the sandbox's clock
    (which earlier tests moved forward: a reset never moves time back)."""
    at = datetime.datetime.fromtimestamp(bootpay.store.now() + seconds).astimezone()
    return at.strftime("%Y-%m-%dT%H:%M:%S%z")


def test_rest_issue_lookups_and_charge(sdk, bootpay):
    # given a key issued from card data
    key = issue(sdk)
    assert key["status"] == 11 and len(key["billing_key"]) == 24 and key["subscription_id"] == "sub-1"
    assert key["billing_data"]["card_no"] == "536510******5678"  # masked: never the number
    # then both lookups find it (by the issuing receipt_id, and by the key)
    assert sdk.lookup_subscribe_billing_key(key["receipt_id"])["billing_key"] == key["billing_key"]
    assert sdk.lookup_billing_key(key["billing_key"])["receipt_id"] == key["receipt_id"]
    # when it is charged, with both SDK spellings of the call
    paid = sdk.request_subscribe_card_payment(billing_key=key["billing_key"], order_name="1월", price=9900,
                                              order_id="sub-1-c1")
    again = sdk.request_subscribe_payment(billing_key=key["billing_key"], order_name="2월", price=9900,
                                          order_id="sub-1-c2")
    # then each is a paid receipt that GET /v2/receipt shows
    assert (paid["status"], paid["price"], paid["order_id"], paid["method_symbol"]) == (1, 9900, "sub-1-c1", "card_rebill")
    assert sdk.receipt_payment(again["receipt_id"])["status"] == 1
    # and a reused order_id is refused, charging nothing
    dup = sdk.request_subscribe_payment(billing_key=key["billing_key"], order_name="1월", price=9900, order_id="sub-1-c1")
    assert dup["error_code"] == "ORDER_ID_DUPLICATED"
    assert sum(r["order_id"] == "sub-1-c1" for r in bootpay.control("GET", "/receipts").json()) == 1


def test_declining_card_and_refused_card(sdk, bootpay):
    # given a key of the test card that cannot pay
    key = issue(sdk, card_no="4000000000000002")
    # when it is charged
    failed = sdk.request_subscribe_payment(billing_key=key["billing_key"], order_name="1월", price=5000, order_id="d-1")
    # then Bootpay's error envelope says why the card company refused, and no receipt exists
    assert (failed["error_code"], failed["pg_error_code"], failed["message"]) == ("SUBSCRIBE_PAYMENT_FAILED", "51", "한도초과")
    assert bootpay.control("GET", "/receipts").json() == []
    # and the same order_id may be tried again (a declined attempt paid nothing)
    again = sdk.request_subscribe_payment(billing_key=key["billing_key"], order_name="1월", price=5000, order_id="d-1")
    assert again["error_code"] == "SUBSCRIBE_PAYMENT_FAILED"
    # the card that fails at issue, and malformed card data
    assert issue(sdk, card_no="4000-0000-0000-0010")["error_code"] == "SUBSCRIBE_PUBLISH_FAILED"
    assert issue(sdk, card_no="1234")["error_code"] == "INVALID_PARAMETER"
    assert issue(sdk, card_expire_year="20")["error_code"] == "SUBSCRIBE_PUBLISH_FAILED"  # expired
    # an unknown key
    assert sdk.request_subscribe_payment(billing_key="0" * 24, order_name="x", price=1000,
                                         order_id="u-1")["error_code"] == "BILLING_KEY_NOT_FOUND"


def test_control_key_is_what_the_browser_gets_then_the_server_looks_up(sdk, bootpay):
    # given a key issued as the browser window would, declining
    issued = bootpay.control("POST", "/billing-keys", json={"user_id": "u-9", "subscription_id": "pc-sub-9",
                                                             "decline": True}).json()
    # then the server finds it by the receipt_id alone
    found = sdk.lookup_subscribe_billing_key(issued["receipt_id"])
    assert (found["billing_key"], found["subscription_id"]) == (issued["billing_key"], "pc-sub-9")
    assert sdk.request_subscribe_payment(billing_key=found["billing_key"], order_name="x", price=1000,
                                         order_id="c-1")["message"] == "한도초과"
    # and bad control input is refused
    assert bootpay.control("POST", "/billing-keys", json={"decline": "yes"}).status_code == 400


def test_reservation_runs_on_the_sandbox_clock_with_a_webhook(sdk, bootpay, receiver):
    bootpay.config.webhook_url = None  # only the reservation's own feedback_url can receive it
    key = issue(sdk)
    # given a reservation an hour from now, reported to its feedback_url
    booked = sdk.subscribe_payment_reserve(billing_key=key["billing_key"], order_name="정기", price=7000,
                                           order_id="r-1", reserve_execute_at=later(bootpay, 3600),
                                           feedback_url=receiver.url)
    rid = booked["reserve_id"]
    assert sdk.subscribe_payment_reserve_lookup(rid)["status"] == 0
    # when the sandbox clock passes it
    bootpay.control("POST", "/clock", json={"advance_s": 3601}).raise_for_status()
    sdk.get_access_token()  # a legacy token lives 30 minutes of the sandbox clock too
    # then it was charged once: a paid receipt, the lookup shows it, the webhook went to feedback_url
    done = sdk.subscribe_payment_reserve_lookup(rid)
    assert done["status"] == 1 and done["receipt_id"]
    assert sdk.receipt_payment(done["receipt_id"])["order_id"] == "r-1"
    body = receiver.wait_for(1)[0]["body"]
    assert (body["order_id"], body["status"], body["webhook_type"]) == ("r-1", 1, "PAYMENT_COMPLETED")
    # and a finished reservation cannot be cancelled
    assert sdk.cancel_subscribe_reserve(rid)["error_code"] == "RESERVE_NOT_CANCELLABLE"


def test_reservation_limit_cancel_and_destroy_keeps_reservations(sdk, bootpay):
    key = issue(sdk)["billing_key"]
    ids = [sdk.subscribe_payment_reserve(billing_key=key, order_name="x", price=1000, order_id=f"m-{i}",
                                         reserve_execute_at=later(bootpay, 3600 + i))["reserve_id"] for i in range(10)]
    # the 11th waiting reservation of one key is refused
    assert sdk.subscribe_payment_reserve(billing_key=key, order_name="x", price=1000, order_id="m-10",
                                         reserve_execute_at=later(bootpay, 7200))["error_code"] == "RESERVE_LIMIT_EXCEEDED"
    # cancelling one makes room
    assert sdk.cancel_subscribe_reserve(ids[0]) == {"reserve_id": ids[0], "success": True}
    assert sdk.subscribe_payment_reserve_lookup(ids[0])["status"] == -1
    assert "reserve_id" in sdk.subscribe_payment_reserve(billing_key=key, order_name="x", price=1000, order_id="m-10",
                                                         reserve_execute_at=later(bootpay, 7200))
    # when the key is destroyed, its reservations stay (Bootpay does not cancel them)
    assert sdk.destroy_billing_key(key)["billing_key"] == key
    assert sdk.lookup_billing_key(key)["error_code"] == "BILLING_KEY_NOT_FOUND"
    assert sdk.destroy_billing_key(key)["error_code"] == "BILLING_KEY_NOT_FOUND"
    assert sdk.subscribe_payment_reserve_lookup(ids[1])["status"] == 0
    # and they fail when they come due: nothing is charged
    bootpay.control("POST", "/clock", json={"advance_s": 8000}).raise_for_status()
    sdk.get_access_token()
    failed = sdk.subscribe_payment_reserve_lookup(ids[1])
    assert failed["status"] == -2 and failed["receipt_id"] is None
    assert bootpay.control("GET", "/receipts").json() == []


def test_feedback_url_as_a_form(sdk, bootpay):
    key = issue(sdk)["billing_key"]
    # when a charge asks for its webhook as a form, to its own URL
    paid = sdk.request_subscribe_payment(billing_key=key, order_name="x", price=1000, order_id="f-1",
                                         feedback_url="http://127.0.0.1:9/hook",
                                         content_type="application/x-www-form-urlencoded")
    # then the delivery goes there, form-encoded (nested objects as JSON)
    record = bootpay.control("GET", "/webhooks", params={"order_id": "f-1"}).json()["deliveries"][0]
    form = parse_qs(record["body"])
    assert record["url"] == "http://127.0.0.1:9/hook" and record["content_type"] == "application/x-www-form-urlencoded"
    assert form["receipt_id"] == [paid["receipt_id"]] and form["status"] == ["1"]
    assert json.loads(form["card_data"][0])["card_no"] == "536510******5678"


def test_billing_state_survives_a_restart(tmp_path):
    from sandbox.bootpay import BootpayConfig
    from sandbox.bootpay.store import Store

    path = str(tmp_path / "bp.db")
    store = Store(BootpayConfig(state_path=path))
    key = store.billing.issue(subscription_id="s", order_name="o", pg=None, card_no="536510******1234",
                              decline=True, user={}, metadata={})
    booked = store.billing.reserve(key.billing_key, execute_at=store.now() + 60, order_id="r", order_name="o",
                                   price=1000, tax_free=0, metadata={}, feedback_url=None, content_type=None)
    store.state.close()
    # a new process finds the key and the waiting reservation, and runs it when due
    again = Store(BootpayConfig(state_path=path))
    assert again.billing.key_of_receipt(key.receipt_id).decline is True
    assert again.billing.reservation(booked.reserve_id).status == 0
    again.advance_clock(61)
    assert asyncio.run(again.billing.run_due()) == 1
    assert again.billing.reservation(booked.reserve_id).fail_reason == "한도초과"
    again.state.close()
