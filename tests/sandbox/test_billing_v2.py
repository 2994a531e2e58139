"""PortOne V2 billing keys and payment schedules in the sandbox, over HTTP (v2.openapi.yml:
issueBillingKey, getBillingKeyInfo(s), deleteBillingKey, payWithBillingKey, createPaymentSchedule,
getPaymentSchedule(s), revokePaymentSchedules; docs/v2-webhook.md)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from portone_server_sdk import webhook as sdk_webhook

from sandbox.portone import schedules_v2
from sandbox.portone.billing_v2_input import parse_payment
from sandbox.portone.config import DEFAULT_V2_WEBHOOK_SECRET, SandboxConfig
from sandbox.portone.store import Store, iso
from tests.sandbox.conftest import running_sandbox, wait_deliveries
from tests.sandbox.spec import v2_spec

AUTH = {"Authorization": "PortOne sandbox_v2_api_secret"}
CHANNEL = "channel-key-00000000-0000-4000-8000-000000000000"
CARD = {"number": "5361810012341234", "expiryYear": "39", "expiryMonth": "12",
        "birthOrBusinessRegistrationNumber": "900101", "passwordTwoDigits": "12"}


async def issue(http: httpx.AsyncClient, **extra) -> dict:
    body = {"channelKey": CHANNEL, "method": {"card": {"credential": CARD}}, "customer": {"id": "user-1"}, **extra}
    r = await http.post("/v2/billing-keys", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()["billingKeyInfo"]


async def control_key(http: httpx.AsyncClient, **body) -> str:
    r = await http.post("/_control/billing-keys", json={"version": "v2", **body})
    assert r.status_code == 200, r.text
    return r.json()["billing_key"]


def charge(billing_key: str, total: int = 9900, **extra) -> dict:
    return {"billingKey": billing_key, "orderName": "월간 포인트 충전", "amount": {"total": total},
            "currency": "KRW", "customer": {"id": "user-1"}, **extra}


async def schedule(http: httpx.AsyncClient, payment_id: str, billing_key: str, in_s: float, **extra) -> str:
    now = (await http.post("/_control/clock", json={"advance_s": 0})).json()["now"]
    at = _iso(now + in_s)
    r = await http.post(f"/v2/payments/{payment_id}/schedule", json={"payment": charge(billing_key, **extra), "timeToPay": at},
                        headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()["schedule"]["id"]


def _iso(ts: float) -> str:
    return iso(ts)


def verify(received) -> object:
    return sdk_webhook.verify(DEFAULT_V2_WEBHOOK_SECRET, received.body, received.headers)


# ---------------------------------------------------------------------- keys
async def test_issue_get_list_and_delete_a_key(http, receiver):
    # given a key issued from card credentials
    info = await issue(http, customData='{"plan":"basic"}', noticeUrls=[receiver.url("keys")])
    key = info["billingKey"]
    assert key.startswith("billing-key-") and info["channels"][0]["key"] == CHANNEL
    # when it is fetched and listed
    got = (await http.get(f"/v2/billing-keys/{key}", headers=AUTH)).json()
    listed = await http.get("/v2/billing-keys", headers=AUTH, params={"requestBody": json.dumps(
        {"filter": {"customerId": "user-1", "status": ["ISSUED"]}})})
    # then it is ISSUED with the masked card, the customer and the spec's shape
    assert got["status"] == "ISSUED" and got["customer"] == {"id": "user-1"}
    assert got["methods"][0]["card"]["number"] == "536181******1234" and got["customData"] == '{"plan":"basic"}'
    v2_spec().validate("BillingKeyInfo", got)
    assert [k["billingKey"] for k in listed.json()["items"]] == [key]
    assert listed.json()["page"] == {"number": 0, "size": 10, "totalCount": 1}
    # when it is deleted
    deleted = await http.delete(f"/v2/billing-keys/{key}", headers=AUTH, params={"reason": "해지"})
    assert deleted.status_code == 200 and "deletedAt" in deleted.json()
    # then it reads DELETED, a second delete is refused, and an unknown key is not found
    after = (await http.get(f"/v2/billing-keys/{key}", headers=AUTH)).json()
    assert after["status"] == "DELETED" and after["deletedAt"] == deleted.json()["deletedAt"]
    v2_spec().validate("BillingKeyInfo", after)
    again = await http.delete(f"/v2/billing-keys/{key}", headers=AUTH)
    assert (again.status_code, again.json()["type"]) == (409, "BILLING_KEY_ALREADY_DELETED")
    missing = await http.get("/v2/billing-keys/billing-key-nope", headers=AUTH)
    assert (missing.status_code, missing.json()["type"]) == (404, "BILLING_KEY_NOT_FOUND")
    # and BillingKey.Issued then BillingKey.Deleted went out, signed
    got_hooks = await receiver.wait_for("keys", 2)
    events = sorted((type(e).__name__, e.data.billing_key) for e in map(verify, got_hooks))
    assert events == [("WebhookBillingKeyDeleted", key), ("WebhookBillingKeyIssued", key)]
    logged = (await http.get("/_control/webhooks", params={"billing_key": key})).json()["deliveries"]
    assert sorted(d["event"] for d in logged) == ["BillingKey.Deleted", "BillingKey.Issued"]


async def test_issue_rejects_bad_input_and_expired_cards(http, receiver):
    bad = {"channelKey": CHANNEL, "method": {"card": {"credential": {**CARD, "number": "1234"}}}}
    r = await http.post("/v2/billing-keys", json=bad, headers=AUTH)
    assert (r.status_code, r.json()["type"]) == (400, "INVALID_REQUEST")
    r = await http.post("/v2/billing-keys", json={**bad, "channelKey": "channel-key-other"}, headers=AUTH)
    assert (r.status_code, r.json()["type"]) == (404, "CHANNEL_NOT_FOUND")
    expired = {"channelKey": CHANNEL, "method": {"card": {"credential": {**CARD, "expiryYear": "20"}}}}
    r = await http.post("/v2/billing-keys", json=expired, headers=AUTH)
    assert r.status_code == 502 and r.json()["type"] == "PG_PROVIDER" and r.json()["pgCode"] == "54"
    r = await http.post("/v2/billing-keys", json=expired, headers={"Authorization": "PortOne wrong"})
    assert (r.status_code, r.json()["type"]) == (401, "UNAUTHORIZED")
    # skipWebhook: no BillingKey.Issued
    await issue(http, skipWebhook=True, noticeUrls=[receiver.url("skipped")])
    deliveries = (await http.get("/_control/webhooks")).json()["deliveries"]
    assert [d for d in deliveries if d["event"] == "BillingKey.Issued"] == []


# ---------------------------------------------------------------------- paying with a key
async def test_pay_with_a_key_then_the_payment_carries_it(http, receiver):
    key = (await issue(http))["billingKey"]
    r = await http.post("/v2/payments/pay-bk-1/billing-key", headers=AUTH,
                        json=charge(key, noticeUrls=[receiver.url("pay")], customData='{"order":1}'))
    assert r.status_code == 200, r.text
    assert set(r.json()["payment"]) == {"pgTxId", "paidAt"}
    payment = (await http.get("/v2/payments/pay-bk-1", headers=AUTH)).json()
    assert (payment["status"], payment["billingKey"], payment["amount"]["total"]) == ("PAID", key, 9900)
    assert payment["customer"]["id"] == "user-1" and "scheduleId" not in payment
    v2_spec().validate("Payment", payment)
    listed = (await http.get("/v2/payments", headers=AUTH)).json()["items"]
    assert [p["billingKey"] for p in listed if p["id"] == "pay-bk-1"] == [key]
    [hook] = await receiver.wait_for("pay", 1)
    assert type(verify(hook)).__name__ == "WebhookTransactionPaid"
    # a reused paymentId is refused and charges nothing
    again = await http.post("/v2/payments/pay-bk-1/billing-key", headers=AUTH, json=charge(key))
    assert (again.status_code, again.json()["type"]) == (409, "ALREADY_PAID")


async def test_a_declining_key_is_502_pg_provider_and_leaves_a_failed_payment(http, receiver):
    key = await control_key(http, customer_id="user-9", decline=True)
    r = await http.post("/v2/payments/pay-decline/billing-key", headers=AUTH,
                        json=charge(key, noticeUrls=[receiver.url("decline")]))
    assert r.status_code == 502
    assert r.json()["type"] == "PG_PROVIDER" and (r.json()["pgCode"], r.json()["pgMessage"]) == ("51", "한도초과")
    payment = (await http.get("/v2/payments/pay-decline", headers=AUTH)).json()
    assert (payment["status"], payment["billingKey"]) == ("FAILED", key)
    assert payment["failure"] == {"reason": "한도초과", "pgCode": "51", "pgMessage": "한도초과"}
    v2_spec().validate("Payment", payment)
    [hook] = await receiver.wait_for("decline", 1)
    assert type(verify(hook)).__name__ == "WebhookTransactionFailed"
    # every charge with it declines, and the key itself reads as any other
    second = await http.post("/v2/payments/pay-decline-2/billing-key", headers=AUTH, json=charge(key, total=100))
    assert second.status_code == 502
    info = (await http.get(f"/v2/billing-keys/{key}", headers=AUTH)).json()
    assert info["status"] == "ISSUED" and info["customer"] == {"id": "user-9"}


async def test_pay_input_errors(http):
    key = (await issue(http))["billingKey"]
    cases = [
        (charge("billing-key-unknown"), 404, "BILLING_KEY_NOT_FOUND"),
        (charge(key, currency="USD"), 400, "INVALID_REQUEST"),
        ({**charge(key), "amount": {"total": 100, "taxFree": 200}}, 409, "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT"),
        ({"billingKey": key}, 400, "INVALID_REQUEST"),
        (charge(key, channelKey="channel-key-x"), 404, "CHANNEL_NOT_FOUND"),
    ]
    for body, status, type_ in cases:
        r = await http.post("/v2/payments/pay-err/billing-key", headers=AUTH, json=body)
        assert (r.status_code, r.json()["type"]) == (status, type_), body
    await http.delete(f"/v2/billing-keys/{key}", headers=AUTH)
    r = await http.post("/v2/payments/pay-err/billing-key", headers=AUTH, json=charge(key))
    assert (r.status_code, r.json()["type"]) == (409, "BILLING_KEY_ALREADY_DELETED")
    assert (await http.get("/v2/payments/pay-err", headers=AUTH)).status_code == 404


# ---------------------------------------------------------------------- schedules
async def test_a_schedule_runs_when_the_clock_passes_time_to_pay(http, receiver):
    # given a key and a charge scheduled in a day
    key = await control_key(http, customer_id="user-1")
    sid = await schedule(http, "pay-sched-1", key, 86400, noticeUrls=[receiver.url("sched")])
    scheduled = (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()
    assert scheduled["status"] == "SCHEDULED" and scheduled["paymentId"] == "pay-sched-1"
    v2_spec().validate("PaymentSchedule", scheduled)
    assert (await http.get("/v2/payments/pay-sched-1", headers=AUTH)).status_code == 404
    # when the sandbox clock passes timeToPay
    await http.post("/_control/clock", json={"advance_s": 86401})
    # then the schedule succeeded, the payment is PAID with billingKey and scheduleId
    done = (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()
    assert done["status"] == "SUCCEEDED" and done["completedAt"] >= done["startedAt"]
    v2_spec().validate("PaymentSchedule", done)
    payment = (await http.get("/v2/payments/pay-sched-1", headers=AUTH)).json()
    assert (payment["status"], payment["billingKey"], payment["scheduleId"]) == ("PAID", key, sid)
    # and a signed Transaction.Paid went to the schedule's notice URL
    [hook] = await receiver.wait_for("sched", 1)
    event = verify(hook)
    assert type(event).__name__ == "WebhookTransactionPaid" and event.data.payment_id == "pay-sched-1"


async def test_a_scheduled_charge_on_a_declining_key_fails_with_a_webhook(http, receiver):
    key = await control_key(http, decline=True)
    sid = await schedule(http, "pay-sched-fail", key, 60, noticeUrls=[receiver.url("schedfail")])
    await http.post("/_control/clock", json={"advance_s": 120})
    failed = (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()
    assert failed["status"] == "FAILED"
    payment = (await http.get("/v2/payments/pay-sched-fail", headers=AUTH)).json()
    assert (payment["status"], payment["scheduleId"], payment["failure"]["pgMessage"]) == ("FAILED", sid, "한도초과")
    [hook] = await receiver.wait_for("schedfail", 1)
    assert type(verify(hook)).__name__ == "WebhookTransactionFailed"


async def test_a_key_with_a_pending_schedule_cannot_be_deleted_until_revoked(http):
    key = await control_key(http)
    first = await schedule(http, "pay-rev-1", key, 3600)
    second = await schedule(http, "pay-rev-2", key, 7200)
    dup = await http.post("/v2/payments/pay-rev-1/schedule", headers=AUTH,
                          json={"payment": charge(key), "timeToPay": _iso(9e9)})
    assert (dup.status_code, dup.json()["type"]) == (409, "PAYMENT_SCHEDULE_ALREADY_EXISTS")
    now_pay = await http.post("/v2/payments/pay-rev-1/billing-key", headers=AUTH, json=charge(key))
    assert (now_pay.status_code, now_pay.json()["type"]) == (409, "PAYMENT_SCHEDULE_ALREADY_EXISTS")
    # when the key is deleted with schedules pending: refused
    r = await http.delete(f"/v2/billing-keys/{key}", headers=AUTH)
    assert (r.status_code, r.json()["type"]) == (409, "PAYMENT_SCHEDULE_ALREADY_EXISTS")
    # revoke one by id (JSON in the query, as the SDK sends it), then the rest by billing key
    r = await http.delete("/v2/payment-schedules", headers=AUTH, params={"requestBody": json.dumps({"scheduleIds": [first]})})
    assert r.status_code == 200 and r.json()["revokedScheduleIds"] == [first]
    r = await http.delete("/v2/payment-schedules", headers=AUTH, params={"requestBody": json.dumps({"scheduleIds": [first]})})
    assert (r.status_code, r.json()["type"]) == (409, "PAYMENT_SCHEDULE_ALREADY_REVOKED")
    r = await http.delete("/v2/payment-schedules", headers=AUTH, params={"requestBody": json.dumps({"billingKey": key})})
    assert r.json()["revokedScheduleIds"] == [second]
    revoked = (await http.get(f"/v2/payment-schedules/{second}", headers=AUTH)).json()
    assert revoked["status"] == "REVOKED" and "revokedAt" in revoked
    v2_spec().validate("PaymentSchedule", revoked)
    # then the key deletes, and nothing was charged when the clock passes
    assert (await http.delete(f"/v2/billing-keys/{key}", headers=AUTH)).status_code == 200
    await http.post("/_control/clock", json={"advance_s": 10000})
    assert (await http.get("/v2/payments/pay-rev-2", headers=AUTH)).status_code == 404


async def test_schedule_listing_defaults_to_the_past_90_days(http):
    key = await control_key(http)
    future = await schedule(http, "pay-list-1", key, 30 * 86400)
    r = await http.get("/v2/payment-schedules", headers=AUTH)
    assert r.json()["items"] == [] and r.json()["page"]["totalCount"] == 0
    now = (await http.post("/_control/clock", json={"advance_s": 0})).json()["now"]
    window = {"filter": {"billingKey": key, "from": _iso(now), "until": _iso(now + 60 * 86400), "status": ["SCHEDULED"]}}
    r = await http.get("/v2/payment-schedules", headers=AUTH, params={"requestBody": json.dumps(window)})
    assert [s["id"] for s in r.json()["items"]] == [future]


async def test_keys_schedules_and_key_payments_survive_a_restart(tmp_path: Path):
    path = str(tmp_path / "state.db")
    with running_sandbox(state_path=path) as sb:
        async with httpx.AsyncClient(base_url=sb.base_url) as http:
            key = await control_key(http, customer_id="user-7")
            paid = await http.post("/v2/payments/pay-persist/billing-key", headers=AUTH, json=charge(key))
            assert paid.status_code == 200
            sid = await schedule(http, "pay-persist-later", key, 3600)
        sb.store.billing_v2.aclose()
    with running_sandbox(state_path=path) as sb:
        async with httpx.AsyncClient(base_url=sb.base_url) as http:
            info = (await http.get(f"/v2/billing-keys/{key}", headers=AUTH)).json()
            assert info["status"] == "ISSUED" and info["customer"] == {"id": "user-7"}
            payment = (await http.get("/v2/payments/pay-persist", headers=AUTH)).json()
            assert payment["billingKey"] == key
            assert (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()["status"] == "SCHEDULED"
            # the restored schedule still runs on the clock
            await http.post("/_control/clock", json={"advance_s": 3601})
            assert (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()["status"] == "SUCCEEDED"
            assert (await http.get("/v2/payments/pay-persist-later", headers=AUTH)).json()["scheduleId"] == sid


async def test_control_endpoint_validates_the_v2_branch(http):
    r = await http.post("/_control/billing-keys", json={"version": "v2", "decline": "yes"})
    assert r.status_code == 400
    r = await http.post("/_control/billing-keys", json={"version": "v2", "customer_uid": "x"})
    assert r.status_code == 400
    r = await http.post("/_control/billing-keys", json={"version": "v2"})
    assert r.status_code == 200 and r.json()["billing_key_info"]["status"] == "ISSUED"
    await wait_deliveries(http, settled=0)


async def test_a_due_schedule_runs_by_itself_as_real_time_passes(http):
    # given a charge scheduled a second from now, and nobody touching the clock
    key = await control_key(http)
    sid = await schedule(http, "pay-sched-realtime", key, 1.0)
    # when time passes (the background runner polls at most every TICK_S)
    deadline = asyncio.get_running_loop().time() + 5
    status = "SCHEDULED"
    while status == "SCHEDULED" and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        status = (await http.get(f"/v2/payment-schedules/{sid}", headers=AUTH)).json()["status"]
    # then it ran
    assert status == "SUCCEEDED"
    assert (await http.get("/v2/payments/pay-sched-realtime", headers=AUTH)).json()["status"] == "PAID"


async def test_a_run_cut_short_by_a_stopped_process_is_finished_or_redone_at_the_next_start(tmp_path: Path):
    # given two schedules claimed (STARTED) when the process stopped: one charged, one not yet
    path = str(tmp_path / "state.db")
    first = Store(SandboxConfig(state_path=path))
    key = first.billing_v2.issue(customer={"id": "user-1"}, webhook=False)
    inp = parse_payment(first.billing_v2, charge(key.billing_key))
    charged = schedules_v2.create(first.billing_v2, "pay-cut-1", inp, first.now() + 60)
    claimed = schedules_v2.create(first.billing_v2, "pay-cut-2", inp, first.now() + 60)
    for s in (charged, claimed):
        s.status, s.started_at = "STARTED", first.now()
    first.billing_v2.save_schedules(charged, claimed)
    await first.billing_v2.charge("pay-cut-1", inp, key, schedule_id=charged.id)
    await first.aclose()
    # when the next process opens the file
    second = Store(SandboxConfig(state_path=path))
    # then the charged one ended as its payment did, and the other waits to run again (charged once)
    assert second.billing_v2.schedules[charged.id].status == "SUCCEEDED"
    assert second.billing_v2.schedules[claimed.id].status == "SCHEDULED"
    assert second.get_v2("pay-cut-2") is None
    await second.aclose()

