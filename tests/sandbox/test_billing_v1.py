"""PortOne V1 billing (정기결제) in the sandbox, over HTTP: keys, charges with a key, declines,
schedules on the sandbox clock and their webhooks (sandbox/portone/billing_v1*.py)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.sandbox.conftest import v1_token, wait_deliveries
from tests.sandbox.spec import v1_spec

CARD = {"card_number": "5361-8100-0000-4321", "expiry": "2099-12", "birth": "900101", "pwd_2digit": "12"}
DECLINING_CARD = {**CARD, "card_number": "4000-0000-0000-0002"}


@pytest.fixture
async def api(http: httpx.AsyncClient) -> httpx.AsyncClient:
    http.headers["Authorization"] = "Bearer " + await v1_token(http)
    return http


async def register(api: httpx.AsyncClient, customer_uid: str, card: dict | None = None, **extra) -> dict:
    r = await api.post(f"/v1/subscribe/customers/{customer_uid}", json={**(card or CARD), **extra})
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    return r.json()["response"]


async def now(api: httpx.AsyncClient) -> int:
    return int((await api.post("/_control/clock", json={"advance_s": 0})).json()["now"])


async def advance(api: httpx.AsyncClient, seconds: float) -> None:
    """Move the sandbox clock; access tokens live 30 minutes of it, so take a fresh one."""
    r = await api.post("/_control/clock", json={"advance_s": seconds})
    assert r.status_code == 200, r.text
    api.headers["Authorization"] = "Bearer " + await v1_token(api)


# ---------------------------------------------------------------------- keys
async def test_issue_get_delete_a_key_keeps_only_the_masked_card(api):
    # given a card registered under a customer_uid (as JSON)
    issued = await register(api, "user-1-card-1", customer_name="홍길동", customer_email="hong@example.com")
    # then the answer is a CustomerAnnotation with the masked number only
    assert set(issued) == v1_spec().properties("CustomerAnnotation")
    assert issued["card_number"] == "536181******4321"
    assert (issued["customer_uid"], issued["customer_name"], issued["pg_provider"]) == ("user-1-card-1", "홍길동", "html5_inicis")
    # and GET finds it, the state file holds no full card number
    got = (await api.get("/v1/subscribe/customers/user-1-card-1")).json()
    assert got["code"] == 0 and got["response"] == issued
    # when it is deleted
    deleted = (await api.delete("/v1/subscribe/customers/user-1-card-1", params={"reason": "해지"})).json()
    assert deleted["code"] == 0 and deleted["response"]["customer_uid"] == "user-1-card-1"
    # then it is gone: 404 with code 1 and PortOne's message
    gone = await api.get("/v1/subscribe/customers/user-1-card-1")
    assert gone.status_code == 404
    assert gone.json() == {"code": 1, "message": "요청하신 customer_uid(user-1-card-1)로 등록된 정보를 찾을 수 없습니다.",
                           "response": None}
    assert (await api.delete("/v1/subscribe/customers/user-1-card-1")).status_code == 404


async def test_form_bodies_multi_lookup_and_refused_cards(api):
    # given one key registered with a form body
    r = await api.post("/v1/subscribe/customers/form-uid", data={**CARD, "customer_name": "폼"})
    assert r.json()["code"] == 0 and r.json()["response"]["customer_name"] == "폼"
    # when two are asked for, one unknown: 207 with the found one
    r = await api.get("/v1/subscribe/customers", params=[("customer_uid[]", "form-uid"), ("customer_uid[]", "nobody")])
    assert r.status_code == 207 and [c["customer_uid"] for c in r.json()["response"]] == ["form-uid"]
    assert "nobody" in r.json()["message"]
    r = await api.get("/v1/subscribe/customers", params=[("customer_uid[]", "form-uid")])
    assert r.status_code == 200 and len(r.json()["response"]) == 1
    # and cards the PG refuses are code -1, issuing nothing
    for card, message in (({**CARD, "card_number": "1234"}, "유효하지않은 카드번호를 입력하셨습니다."),
                          ({**CARD, "card_number": "4000-0000-0000-0010"}, "카드정보 인증 및 빌키 발급에 실패하였습니다."),
                          ({**CARD, "expiry": "2001-01"}, "카드정보 인증에 실패하였습니다.")):
        r = await api.post("/v1/subscribe/customers/refused", json=card)
        assert r.status_code == 200 and r.json()["code"] == -1 and message in r.json()["message"]
    assert (await api.get("/v1/subscribe/customers/refused")).status_code == 404
    # and without a token nothing is answered
    assert (await api.get("/v1/subscribe/customers/form-uid", headers={"Authorization": "Bearer nope"})).status_code == 401


# ---------------------------------------------------------------------- again / onetime
async def test_again_pays_with_the_key_and_the_payment_shows_it(api, sandbox, receiver):
    # given a key and a console webhook URL
    sandbox.config.webhook_url = receiver.url("console")
    await register(api, "user-2-card-1", customer_name="김철수")
    try:
        # when the merchant charges it
        r = await api.post("/v1/subscribe/payments/again", json={
            "customer_uid": "user-2-card-1", "merchant_uid": "again-1", "amount": 9900, "name": "포인트 9,900"})
        body = r.json()
        # then it is paid, made with the key, through the API channel
        assert r.status_code == 200 and body["code"] == 0
        paid = body["response"]
        assert (paid["status"], paid["amount"], paid["customer_uid"], paid["customer_uid_usage"], paid["channel"]) == \
            ("paid", 9900, "user-2-card-1", "payment", "api")
        assert paid["card_number"] == "536181******4321" and paid["buyer_name"] == "김철수"
        # and the ordinary lookups and listings see the same payment
        looked_up = (await api.get(f"/v1/payments/{paid['imp_uid']}")).json()["response"]
        assert looked_up == paid
        listed = (await api.get("/v1/payments/status/paid")).json()["response"]["list"]
        assert [p["imp_uid"] for p in listed] == [paid["imp_uid"]]
        per_key = (await api.get("/v1/subscribe/customers/user-2-card-1/payments")).json()["response"]
        assert (per_key["total"], per_key["list"][0]["imp_uid"]) == (1, paid["imp_uid"])
        # and the paid webhook went to the console URL
        hooks = await receiver.wait_for("console", 1)
        assert '"status":"paid"' in hooks[0].body and paid["imp_uid"] in hooks[0].body
        # when the same merchant_uid is charged again: refused, nothing charged
        again = (await api.post("/v1/subscribe/payments/again", json={
            "customer_uid": "user-2-card-1", "merchant_uid": "again-1", "amount": 9900})).json()
        assert (again["code"], again["response"]) == (1, None) and "이미 주문이 이루어진 건" in again["message"]
        assert len((await api.get("/v1/payments/findAll/again-1")).json()["response"]["list"]) == 1
    finally:
        sandbox.config.webhook_url = None


async def test_a_decline_is_code_0_failed_and_sends_no_webhook(api, http, receiver):
    # given a key for a card that cannot pay (issuing still works: help-schedule-validity.md)
    await register(api, "user-3-card-1", DECLINING_CARD)
    # when it is charged
    body = (await api.post("/v1/subscribe/payments/again", json={
        "customer_uid": "user-3-card-1", "merchant_uid": "again-declined", "amount": 5000,
        "notice_url": receiver.url("declined")})).json()
    # then the card company answered: code 0, a failed payment with the reason
    assert body["code"] == 0
    assert (body["response"]["status"], body["response"]["fail_reason"]) == ("failed", "한도초과")
    # and no webhook was sent for it
    records = (await http.get("/_control/webhooks", params={"merchant_uid": "again-declined"})).json()
    assert records["deliveries"] == [] and receiver.for_path("declined") == []
    # and the same merchant_uid may be retried once the card can pay (a failed order is reusable)
    await register(api, "user-3-card-1")
    retried = (await api.post("/v1/subscribe/payments/again", json={
        "customer_uid": "user-3-card-1", "merchant_uid": "again-declined", "amount": 5000})).json()
    assert retried["code"] == 0 and retried["response"]["status"] == "paid"


async def test_unknown_customer_is_code_1(api):
    for path, body in (("/v1/subscribe/payments/again", {"customer_uid": "ghost", "merchant_uid": "m-1", "amount": 1000}),
                       ("/v1/subscribe/payments/schedule", {"customer_uid": "ghost", "schedules": [
                           {"merchant_uid": "m-2", "schedule_at": 4102444800, "amount": 1000}]})):
        r = await api.post(path, json=body)
        assert r.status_code == 200 and r.json() == {"code": 1, "message": "등록되지 않은 구매자입니다.", "response": None}


async def test_onetime_with_customer_uid_keeps_the_key(api):
    # when a key-in payment names a customer_uid
    body = (await api.post("/v1/subscribe/payments/onetime", json={
        **CARD, "merchant_uid": "onetime-1", "amount": 3000, "customer_uid": "user-4-card-1",
        "buyer_name": "이영희"})).json()
    # then it is paid and the card became that customer's key (buyer_* became customer_*)
    assert body["code"] == 0 and body["response"]["status"] == "paid"
    assert (body["response"]["customer_uid"], body["response"]["customer_uid_usage"]) == ("user-4-card-1", "issue")
    key = (await api.get("/v1/subscribe/customers/user-4-card-1")).json()["response"]
    assert (key["card_number"], key["customer_name"]) == ("536181******4321", "이영희")
    # and the key pays again
    again = (await api.post("/v1/subscribe/payments/again", json={
        "customer_uid": "user-4-card-1", "merchant_uid": "onetime-2", "amount": 3000})).json()
    assert again["response"]["status"] == "paid"
    # and a onetime without customer_uid keeps nothing; a reused merchant_uid is refused
    plain = (await api.post("/v1/subscribe/payments/onetime", json={**CARD, "merchant_uid": "onetime-3", "amount": 100})).json()
    assert plain["response"]["customer_uid"] is None and plain["response"]["customer_uid_usage"] is None
    reused = (await api.post("/v1/subscribe/payments/onetime", json={**CARD, "merchant_uid": "onetime-1", "amount": 3000})).json()
    assert reused["code"] == 1


# ---------------------------------------------------------------------- schedules
async def test_a_schedule_runs_when_the_clock_passes_it_and_posts_paid(api, http, receiver):
    # given a key and a schedule an hour from now with its own notice_url
    await register(api, "user-5-card-1")
    at = await now(api) + 3600
    r = await api.post("/v1/subscribe/payments/schedule", json={"customer_uid": "user-5-card-1", "schedules": [
        {"merchant_uid": "sub-5-c1", "schedule_at": at, "amount": 10000, "name": "정기 충전",
         "notice_url": receiver.url("sched")}]})
    booked = r.json()["response"][0]
    assert (booked["schedule_status"], booked["payment_status"], booked["imp_uid"]) == ("scheduled", None, None)
    # when the clock moves past it
    await advance(api, 3601)
    # then it was charged with the key and reported paid to notice_url
    ran = (await api.get("/v1/subscribe/payments/schedule/sub-5-c1")).json()["response"]
    assert (ran["schedule_status"], ran["payment_status"]) == ("executed", "paid") and ran["executed_at"] >= at
    payment = (await api.get(f"/v1/payments/{ran['imp_uid']}")).json()["response"]
    assert (payment["customer_uid"], payment["customer_uid_usage"], payment["amount"]) == \
        ("user-5-card-1", "payment.scheduled", 10000)
    hooks = await receiver.wait_for("sched", 1)
    assert hooks[0].body == f'{{"imp_uid":"{ran["imp_uid"]}","merchant_uid":"sub-5-c1","status":"paid"}}'
    # and a refund shows on the schedule
    await api.post("/v1/payments/cancel", json={"imp_uid": ran["imp_uid"], "reason": "해지"})
    assert (await api.get("/v1/subscribe/payments/schedule/sub-5-c1")).json()["response"]["payment_status"] == "cancelled"
    # and a reused schedule merchant_uid is refused
    dup = (await api.post("/v1/subscribe/payments/schedule", json={"customer_uid": "user-5-card-1", "schedules": [
        {"merchant_uid": "sub-5-c1", "schedule_at": at + 7200, "amount": 10000}]})).json()
    assert dup["code"] == 1


async def test_a_declined_schedule_posts_failed(api, http, receiver):
    # given a key issued through the control API with decline, and a schedule
    r = await http.post("/_control/billing-keys", json={"version": "v1", "customer_uid": "user-6-card-1", "decline": True})
    assert r.status_code == 200 and r.json()["customer"]["customer_uid"] == "user-6-card-1"
    at = await now(api) + 60
    await api.post("/v1/subscribe/payments/schedule", json={"customer_uid": "user-6-card-1", "schedules": [
        {"merchant_uid": "sub-6-c1", "schedule_at": at, "amount": 7000, "notice_url": receiver.url("sched6")}]})
    # when it comes due
    await advance(api, 61)
    # then the attempt failed with the reason and a failed webhook went out
    ran = (await api.get("/v1/subscribe/payments/schedule/sub-6-c1")).json()["response"]
    assert (ran["schedule_status"], ran["payment_status"], ran["fail_reason"]) == ("executed", "failed", "한도초과")
    hooks = await receiver.wait_for("sched6", 1)
    assert '"status":"failed"' in hooks[0].body
    deliveries = await wait_deliveries(http, settled=1, merchant_uid="sub-6-c1")
    assert [d["event"] for d in deliveries] == ["failed"]
    # and the control API refuses what it does not know (a V1 key needs its customer_uid)
    assert (await http.post("/_control/billing-keys", json={"version": "v3"})).status_code == 400
    assert (await http.post("/_control/billing-keys", json={"version": "v1"})).status_code == 400


async def test_unschedule_and_listings(api, http):
    # given a key with three monthly schedules
    await register(api, "user-7-card-1")
    base = await now(api) + 86400
    months = [{"merchant_uid": f"sub-7-c{i}", "schedule_at": base + (i - 1) * 30 * 86400, "amount": 1000 * i}
              for i in range(1, 4)]
    r = await api.post("/v1/subscribe/payments/schedule", data={
        "customer_uid": "user-7-card-1",
        **{f"schedules[{n}][{k}]": str(v) for n, item in enumerate(months) for k, v in item.items()}})
    assert r.json()["code"] == 0 and len(r.json()["response"]) == 3  # a form body with schedules[0][...]
    # when one is revoked by merchant_uid[]
    revoked = (await api.post("/v1/subscribe/payments/unschedule", json={
        "customer_uid": "user-7-card-1", "merchant_uid": ["sub-7-c2"]})).json()
    assert [s["schedule_status"] for s in revoked["response"]] == ["revoked"]
    # then the range listing pages them newest first, and filters by status
    q = {"schedule_from": base, "schedule_to": base + 89 * 86400, "limit": 2}
    page1 = (await api.get("/v1/subscribe/payments/schedule", params=q)).json()["response"]
    assert (page1["total"], page1["previous"], page1["next"]) == (3, 0, 2)
    assert [s["merchant_uid"] for s in page1["list"]] == ["sub-7-c3", "sub-7-c2"]
    page2 = (await api.get("/v1/subscribe/payments/schedule", params={**q, "page": 2})).json()["response"]
    assert ([s["merchant_uid"] for s in page2["list"]], page2["next"]) == (["sub-7-c1"], 0)
    waiting = (await api.get("/v1/subscribe/payments/schedule",
                             params={**q, "schedule_status": "scheduled", "sorting": "scheduled"})).json()["response"]
    assert [s["merchant_uid"] for s in waiting["list"]] == ["sub-7-c1", "sub-7-c3"]
    per_customer = (await api.get("/v1/subscribe/customers/user-7-card-1/schedules",
                                  params={"from": base, "to": base + 89 * 86400, "schedule-status": "revoked"})).json()
    assert [s["merchant_uid"] for s in per_customer["response"]["list"]] == ["sub-7-c2"]
    # and a range over three months is a 400
    assert (await api.get("/v1/subscribe/payments/schedule",
                          params={"schedule_from": base, "schedule_to": base + 100 * 86400})).status_code == 400
    # when the customer_uid alone is unscheduled: the rest go; then nothing is left to revoke
    rest = (await api.post("/v1/subscribe/payments/unschedule", data={"customer_uid": "user-7-card-1"})).json()
    assert sorted(s["merchant_uid"] for s in rest["response"]) == ["sub-7-c1", "sub-7-c3"]
    none_left = (await api.post("/v1/subscribe/payments/unschedule", json={"customer_uid": "user-7-card-1"})).json()
    assert none_left == {"code": 1, "message": "취소할 예약결제 기록이 존재하지 않습니다.", "response": None}
    # and revoked schedules never run
    await advance(api, 100 * 86400)
    assert (await api.get("/v1/subscribe/payments/schedule/sub-7-c1")).json()["response"]["imp_uid"] is None


# ---------------------------------------------------------------------- the checkout window
async def checkout(http: httpx.AsyncClient, params: dict, action: str) -> dict:
    """What iamport.js does for IMP.request_pay: post the payload, then the buyer's click."""
    payload = {"sdk": "v1", "mode": "iframe", "merchant_code": "imp00000000", "params": params}
    started = await http.post("/checkout", data={"payload": json.dumps(payload)})
    assert started.status_code == 303, started.text
    done = await http.post(started.headers["location"] + "/complete", json={"action": action})
    assert done.status_code == 200, done.text
    return done.json()


async def test_the_checkout_issues_a_key_for_customer_uid(api, http, receiver):
    # when a buyer approves IMP.request_pay({customer_uid, amount: 0})
    result = await checkout(http, {"pay_method": "card", "merchant_uid": "issue-1", "customer_uid": "user-8-card-1",
                                   "amount": 0, "name": "카드 등록", "buyer_name": "박민수"}, "approve")
    # then the SDK reports success with the issuance's imp_uid, and the key exists for that customer_uid
    rsp = result["response"]
    assert (rsp["success"], rsp["paid_amount"], result["message"]) == (True, 0, "빌링키가 발급되었습니다.")
    record = (await api.get(f"/v1/payments/{rsp['imp_uid']}")).json()["response"]
    assert (record["amount"], record["customer_uid"], record["customer_uid_usage"]) == (0, "user-8-card-1", "issue")
    key = (await api.get("/v1/subscribe/customers/user-8-card-1")).json()["response"]
    assert (key["customer_name"], key["card_number"]) == ("박민수", "536181******1234")
    # and with an amount the window also pays, with the usual webhook
    paid = await checkout(http, {"merchant_uid": "issue-2", "customer_uid": "user-8-card-2", "amount": 4000,
                                 "notice_url": receiver.url("window")}, "approve")
    payment = (await api.get(f"/v1/payments/{paid['response']['imp_uid']}")).json()["response"]
    assert (payment["status"], payment["amount"], payment["customer_uid"]) == ("paid", 4000, "user-8-card-2")
    assert len(await receiver.wait_for("window", 1)) == 1
    # and a declined or cancelled window issues nothing
    for action, code in (("decline", "F1001"), ("cancel", "F1002")):
        failed = await checkout(http, {"merchant_uid": f"issue-{action}", "customer_uid": f"user-8-{action}",
                                       "amount": 0}, action)
        assert (failed["response"]["success"], failed["response"]["error_code"]) == (False, code)
        assert (await api.get(f"/v1/subscribe/customers/user-8-{action}")).status_code == 404
    # and without customer_uid a 0-won request stays invalid
    invalid = await checkout(http, {"merchant_uid": "issue-3", "amount": 0}, "approve")
    assert invalid["response"]["error_code"] == "F0000"


async def test_a_schedule_runs_on_its_own_when_its_time_comes(api, receiver):
    # given a schedule due in a second, and nobody calling the sandbox afterwards
    await register(api, "user-9-card-1")
    await api.post("/v1/subscribe/payments/schedule", json={"customer_uid": "user-9-card-1", "schedules": [
        {"merchant_uid": "sub-9-c1", "schedule_at": await now(api) + 1, "amount": 1000,
         "notice_url": receiver.url("tick")}]})
    # then the sandbox's own tick charges it and reports it
    hooks = await receiver.wait_for("tick", 1, timeout_s=5)
    assert '"merchant_uid":"sub-9-c1","status":"paid"' in hooks[0].body
