"""Webhooks: V1 JSON/form bodies, V2 Standard Webhooks signatures, retries and delivery knobs."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import parse_qs

import httpx
import pytest
from portone_server_sdk import webhook as sdk_webhook

from sandbox.portone.config import DEFAULT_V2_WEBHOOK_SECRET
from tests.sandbox.conftest import create, running_sandbox, v1_token, wait_deliveries


def verify(received) -> object:
    return sdk_webhook.verify(DEFAULT_V2_WEBHOOK_SECRET, received.body, received.headers)


# ---------------------------------------------------------------------- V1
async def test_v1_paid_webhook_is_json_to_notice_url(http, receiver):
    paid = await create(http, amount=1000, notice_url=receiver.url("v1-paid"))
    [got] = await receiver.wait_for("v1-paid", 1)
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body) == {"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "paid"}
    [record] = await wait_deliveries(http, settled=1, imp_uid=paid["imp_uid"])
    assert (record["status"], record["response_status"], len(record["attempts"])) == ("delivered", 200, 1)
    assert record["url"] == receiver.url("v1-paid") and record["body"] == got.body


async def test_v1_virtual_account_sends_ready_then_paid(http, receiver):
    issued = await create(http, amount=30000, pay_method="vbank", outcome="ready", notice_url=receiver.url("vb"))
    await receiver.wait_for("vb", 1)
    r = await http.post(f"/_control/payments/{issued['imp_uid']}/deposit")
    assert r.json()["status"] == "paid"
    got = await receiver.wait_for("vb", 2)
    assert [json.loads(g.body)["status"] for g in got] == ["ready", "paid"]


async def test_v1_console_cancel_sends_cancelled_with_cancellation_id_api_cancel_sends_nothing(http, receiver):
    paid = await create(http, amount=10000, notice_url=receiver.url("cc"), webhook=False)
    token = await v1_token(http)
    await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 1000}, headers={"Authorization": token})
    r = await http.post(f"/_control/payments/{paid['imp_uid']}/cancel", json={"amount": 2000, "reason": "콘솔"})
    console_cancel = r.json()["cancel_history"][-1]
    [got] = await receiver.wait_for("cc", 1)
    assert json.loads(got.body) == {
        "imp_uid": paid["imp_uid"],
        "merchant_uid": paid["merchant_uid"],
        "status": "cancelled",
        "cancellation_id": console_cancel["cancellation_id"],
    }
    await asyncio.sleep(0.2)
    assert len(receiver.for_path("cc")) == 1  # the API cancel sent none


async def test_v1_failure_sends_no_webhook(http, receiver):
    failed = await create(http, amount=1000, outcome="failed", notice_url=receiver.url("fail"))
    await asyncio.sleep(0.3)
    assert receiver.for_path("fail") == []
    log = (await http.get("/_control/webhooks", params={"imp_uid": failed["imp_uid"]})).json()["deliveries"]
    assert log == []


async def test_v1_form_format_to_console_url():
    # given a sandbox configured for form-urlencoded webhooks to a console URL
    from tests.sandbox.conftest import WebhookReceiver
    from tests.servers import run_server

    receiver = WebhookReceiver()
    with run_server(receiver.app()) as rbase:
        receiver.base_url = rbase
        with running_sandbox(webhook_format="form", webhook_url=receiver.url("console")) as sb:
            async with httpx.AsyncClient(base_url=sb.base_url) as http:
                paid = await create(http, amount=1000)  # no notice_url: the console URL is used
                [got] = await receiver.wait_for("console", 1)
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(got.body) == {"imp_uid": [paid["imp_uid"]], "merchant_uid": [paid["merchant_uid"]], "status": ["paid"]}


# ---------------------------------------------------------------------- V2
async def test_v2_webhooks_verify_with_the_sdk(http, receiver):
    # given a paid V2 payment, partially then fully cancelled through the API
    paid = await create(http, version="v2", amount=10000, notice_url=receiver.url("v2"))
    headers = {"Authorization": "PortOne sandbox_v2_api_secret"}
    await http.post(f"/v2/payments/{paid['id']}/cancel", json={"reason": "a", "amount": 4000}, headers=headers)
    r = await http.post(f"/v2/payments/{paid['id']}/cancel", json={"reason": "b"}, headers=headers)
    last_cancellation = r.json()["cancellation"]["id"]
    got = await receiver.wait_for("v2", 3)
    # then every delivery verifies with PortOne's SDK and carries the documented type/data
    events = {type(e).__name__: e for e in (verify(g) for g in got)}  # deliveries may interleave
    assert set(events) == {
        "WebhookTransactionPaid",
        "WebhookTransactionCancelledPartialCancelled",
        "WebhookTransactionCancelledCancelled",
    }
    assert all(e.data.payment_id == paid["id"] and e.data.transaction_id == paid["transactionId"] for e in events.values())
    assert events["WebhookTransactionCancelledCancelled"].data.cancellation_id == last_cancellation
    events = list(events.values())
    assert all(e.data.store_id == "store-00000000-0000-4000-8000-000000000000" for e in events)
    body = json.loads(got[0].body)
    assert set(body) == {"type", "timestamp", "data"}


async def test_v2_virtual_account_issued_and_skip_webhook(http, receiver):
    issued = await create(http, version="v2", amount=5000, pay_method="vbank", outcome="ready", notice_url=receiver.url("va"))
    [got] = await receiver.wait_for("va", 1)
    assert type(verify(got)).__name__ == "WebhookTransactionVirtualAccountIssued"
    await http.post(f"/_control/payments/{issued['id']}/deposit")
    got = await receiver.wait_for("va", 2)
    assert type(verify(got[1])).__name__ == "WebhookTransactionPaid"
    await http.post(
        f"/v2/payments/{issued['id']}/cancel",
        json={"reason": "x", "skipWebhook": True, "refundAccount": {"bank": "KOOKMIN", "number": "1", "holderName": "a"}},
        headers={"Authorization": "PortOne sandbox_v2_api_secret"},
    )
    await asyncio.sleep(0.2)
    assert len(receiver.for_path("va")) == 2


async def test_v2_signature_rejects_a_tampered_body(http, receiver):
    await create(http, version="v2", amount=1000, notice_url=receiver.url("tamper"))
    [got] = await receiver.wait_for("tamper", 1)
    with pytest.raises(sdk_webhook.WebhookVerificationError):
        sdk_webhook.verify(DEFAULT_V2_WEBHOOK_SECRET, got.body.replace("1000", "9999") + " ", got.headers)
    with pytest.raises(sdk_webhook.WebhookVerificationError):
        sdk_webhook.verify("whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==", got.body, got.headers)


# ---------------------------------------------------------------------- retries
async def test_retries_on_500_until_success_same_webhook_id(http, receiver):
    receiver.script[:] = [500, 503]
    paid = await create(http, version="v2", amount=1000, notice_url=receiver.url("retry"))
    got = await receiver.wait_for("retry", 3)
    [record] = await wait_deliveries(http, settled=1, payment_id=paid["id"])
    assert [a["status"] for a in record["attempts"]] == [500, 503, 200]
    assert record["status"] == "delivered"
    assert len({g.headers["webhook-id"] for g in got}) == 1  # same message, retried
    assert len({g.body for g in got}) == 1
    gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # backoff 0.05 s, then doubled (sleeps never run short)


async def test_v1_does_not_retry_a_4xx_answer(http, receiver):
    receiver.script[:] = [400]
    paid = await create(http, amount=1000, notice_url=receiver.url("four"))
    [record] = await wait_deliveries(http, settled=1, imp_uid=paid["imp_uid"])
    assert (record["status"], [a["status"] for a in record["attempts"]]) == ("failed", [400])


async def test_connection_errors_are_retried_then_given_up(http):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # bound, not listening: refused
        paid = await create(http, amount=1000, notice_url=dead)
        [record] = await wait_deliveries(http, settled=1, imp_uid=paid["imp_uid"])
    assert record["status"] == "failed"
    assert len(record["attempts"]) == 4  # first try + webhook_retries (3)
    assert all(a["error"] and a["status"] is None for a in record["attempts"])


async def test_delivery_never_blocks_the_request_that_caused_it(http, receiver):
    receiver.delay_s = 1.0  # a slow merchant server
    started = time.monotonic()
    await create(http, amount=1000, notice_url=receiver.url("slow"))
    assert time.monotonic() - started < 0.5
    await receiver.wait_for("slow", 1)


# ---------------------------------------------------------------------- knobs
async def test_drop_knob_records_but_does_not_send(http, receiver):
    await http.put("/_control/faults", json={"webhook_drop_rate": 1.0})
    paid = await create(http, amount=1000, notice_url=receiver.url("drop"))
    await asyncio.sleep(0.3)
    assert receiver.for_path("drop") == []
    [record] = (await http.get("/_control/webhooks", params={"imp_uid": paid["imp_uid"]})).json()["deliveries"]
    assert record["status"] == "dropped" and record["attempts"] == []


async def test_duplicate_knob_sends_the_same_message_twice(http, receiver):
    await http.put("/_control/faults", json={"webhook_duplicate": True})
    await create(http, version="v2", amount=1000, notice_url=receiver.url("dup"))
    got = await receiver.wait_for("dup", 2)
    await asyncio.sleep(0.2)
    assert len(receiver.for_path("dup")) == 2
    assert got[0].body == got[1].body and got[0].headers["webhook-id"] == got[1].headers["webhook-id"]
    assert all(verify(g) for g in got)


async def test_delay_knob_holds_delivery_back(http, receiver):
    await http.put("/_control/faults", json={"webhook_delay_ms": 400})
    started = time.monotonic()
    await create(http, amount=1000, notice_url=receiver.url("late"))
    [got] = await receiver.wait_for("late", 1)
    assert got.at - started >= 0.4
