"""V1 semantics: tokens, prepare, cancel (partial/full/checksum), listings and bad requests."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.sandbox.conftest import create, v1_token


@pytest.fixture
async def auth(http: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": await v1_token(http)}


async def _token(http: httpx.AsyncClient) -> dict:
    r = await http.post("/v1/users/getToken", json={"imp_key": "sandbox_imp_key", "imp_secret": "sandbox_imp_secret"})
    return r.json()["response"]


# ---------------------------------------------------------------------- tokens
async def test_token_is_accepted_raw_bearer_and_in_x_imp_token_header(http):
    token = await v1_token(http)
    paid = await create(http, amount=1000)
    for headers in ({"Authorization": token}, {"Authorization": f"Bearer {token}"}, {"X-ImpTokenHeader": token}):
        r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers=headers)
        assert r.status_code == 200, headers
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json() == {"code": -1, "message": "Unauthorized", "response": None}


async def test_token_is_extended_by_five_minutes_within_its_last_minute(http):
    # given a token 30 s before its expiry
    first = await _token(http)
    await http.post("/_control/clock", json={"advance_s": 1800 - 30})
    # when asked for again
    again = await _token(http)
    # then the same token comes back with 5 more minutes (v1 spec, /users/getToken)
    assert again["access_token"] == first["access_token"]
    assert again["expired_at"] == first["expired_at"] + 300


async def test_token_outside_last_minute_keeps_its_expiry(http):
    first = await _token(http)
    await http.post("/_control/clock", json={"advance_s": 600})
    again = await _token(http)
    assert (again["access_token"], again["expired_at"]) == (first["access_token"], first["expired_at"])


async def test_expired_token_is_401_and_get_token_issues_a_new_one(http):
    first = await _token(http)
    paid = await create(http, amount=1000)
    await http.post("/_control/clock", json={"advance_s": 1801})
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": first["access_token"]})
    assert r.status_code == 401
    fresh = await _token(http)
    assert fresh["access_token"] != first["access_token"]
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": fresh["access_token"]})
    assert r.status_code == 200


# ---------------------------------------------------------------------- prepare
async def test_payment_with_amount_differing_from_prepared_fails(http, auth):
    # given 10,000 KRW prepared for the order
    await http.post("/v1/payments/prepare", json={"merchant_uid": "order-tamper", "amount": 10000}, headers=auth)
    # when the buyer pays a tampered 100 KRW
    tampered = await create(http, amount=100, merchant_uid="order-tamper")
    # then the payment failed and the prepared amount was not paid
    assert tampered["status"] == "failed" and tampered["paid_at"] == 0
    assert "10000" in tampered["fail_reason"]
    ok = await create(http, amount=10000, merchant_uid="order-tamper")
    assert ok["status"] == "paid"


async def test_second_payment_for_an_already_paid_merchant_uid_fails(http):
    first = await create(http, amount=1000, merchant_uid="order-dup")
    second = await create(http, amount=1000, merchant_uid="order-dup")
    assert first["status"] == "paid" and second["status"] == "failed"


# ---------------------------------------------------------------------- cancel
async def test_partial_then_full_cancel(http, auth):
    # given a paid 10,000 KRW payment
    paid = await create(http, amount=10000)
    # when 4,000 is refunded
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 4000, "checksum": 10000, "reason": "a"}, headers=auth)
    part = r.json()["response"]
    # then the payment stays "paid" with cancel_amount recorded (V1 has no partial status)
    assert (part["status"], part["cancel_amount"], part["cancelled_at"]) == ("paid", 4000, 0)
    # when the rest is refunded with the up-to-date checksum and no amount (= everything left)
    r = await http.post("/v1/payments/cancel", data={"merchant_uid": paid["merchant_uid"], "checksum": "6000", "reason": "b"}, headers=auth)
    full = r.json()["response"]
    # then it is cancelled, fully, with both entries in the history
    assert (full["status"], full["cancel_amount"]) == ("cancelled", 10000)
    assert full["cancelled_at"] > 0
    assert [c["amount"] for c in full["cancel_history"]] == [4000, 6000]
    assert len({c["cancellation_id"] for c in full["cancel_history"]}) == 2
    assert full["cancel_reason"] == "b"


async def test_cancel_with_stale_checksum_refunds_nothing(http, auth):
    paid = await create(http, amount=10000)
    await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 1000}, headers=auth)
    # the client still believes 10,000 is cancellable (it missed the first refund)
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 9000, "checksum": 10000}, headers=auth)
    assert r.status_code == 200 and r.json()["code"] == 1 and r.json()["response"] is None
    after = (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).json()["response"]
    assert after["cancel_amount"] == 1000


async def test_over_cancel_and_cancel_after_full_cancel_are_refused(http, auth):
    paid = await create(http, amount=5000)
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 5001}, headers=auth)
    assert r.status_code == 200 and r.json()["code"] == 1
    await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"]}, headers=auth)
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"]}, headers=auth)
    assert r.json()["code"] == 1 and "취소" in r.json()["message"]
    after = (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).json()["response"]
    assert after["cancel_amount"] == 5000


async def test_unpaid_payment_cannot_be_cancelled(http, auth):
    failed = await create(http, amount=5000, outcome="failed")
    r = await http.post("/v1/payments/cancel", json={"imp_uid": failed["imp_uid"]}, headers=auth)
    assert r.json()["code"] == 1


async def test_vbank_refund_requires_refund_account(http, auth):
    issued = await create(http, amount=30000, pay_method="vbank", outcome="ready")
    await http.post(f"/_control/payments/{issued['imp_uid']}/deposit", json={"webhook": False})
    r = await http.post("/v1/payments/cancel", json={"imp_uid": issued["imp_uid"]}, headers=auth)
    assert r.json()["code"] == 1 and "refund" in r.json()["message"]
    r = await http.post(
        "/v1/payments/cancel",
        json={"imp_uid": issued["imp_uid"], "refund_holder": "홍길동", "refund_bank": "88", "refund_account": "56211105948400"},
        headers=auth,
    )
    assert r.json()["code"] == 0 and r.json()["response"]["status"] == "cancelled"


async def test_concurrent_partial_cancels_never_refund_more_than_paid(http, auth):
    # given 10,000 KRW and 25 racing 1,000 KRW refunds
    paid = await create(http, amount=10000)
    results = await asyncio.gather(
        *(http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 1000}, headers=auth) for _ in range(25))
    )
    # then exactly ten succeed and the ledger adds up
    assert sum(r.json()["code"] == 0 for r in results) == 10
    after = (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).json()["response"]
    assert after["cancel_amount"] == 10000 and after["status"] == "cancelled"
    assert sum(c["amount"] for c in after["cancel_history"]) == 10000


async def test_fractional_or_garbage_amounts_are_rejected_in_the_envelope(http, auth):
    paid = await create(http, amount=5000)
    for amount in (100.5, "abc", True):
        r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": amount}, headers=auth)
        assert r.status_code == 200 and r.json()["code"] == 1 and r.json()["response"] is None, amount


async def test_malformed_json_body_gets_the_envelope_not_a_stack_trace(http, auth):
    r = await http.post("/v1/payments/cancel", content=b'{"imp_uid": ', headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["code"] == 1 and r.json()["response"] is None
    r = await http.post("/v1/users/getToken", content=b"{{{", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == -1


async def test_unknown_route_and_wrong_method_get_the_envelope(http, auth):
    r = await http.get("/v1/nothing/here", headers=auth)
    assert r.status_code == 404 and r.json()["code"] == -1 and r.json()["response"] is None
    r = await http.delete("/v1/payments/cancel", headers=auth)
    assert r.status_code == 405 and r.json()["response"] is None


# ---------------------------------------------------------------------- listings
async def test_status_listing_pages_and_sorts(http, auth):
    made = [await create(http, amount=1000 + i) for i in range(5)]
    r = await http.get("/v1/payments/status/paid", params={"limit": 2, "page": 2, "sorting": "started"}, headers=auth)
    page = r.json()["response"]
    assert (page["total"], page["previous"], page["next"]) == (5, 1, 3)
    assert [p["imp_uid"] for p in page["list"]] == [made[2]["imp_uid"], made[3]["imp_uid"]]
    r = await http.get("/v1/payments/status/paid", params={"limit": 2, "page": 3}, headers=auth)
    last = r.json()["response"]
    assert last["next"] == 0 and [p["imp_uid"] for p in last["list"]] == [made[0]["imp_uid"]]  # -started


async def test_status_listing_window_uses_from_and_to(http, auth):
    paid = await create(http, amount=1000)
    r = await http.get("/v1/payments/status/all", params={"to": paid["paid_at"] - 1}, headers=auth)
    assert r.json()["response"]["total"] == 0
    r = await http.get("/v1/payments/status/paid", params={"from": paid["paid_at"], "to": paid["paid_at"]}, headers=auth)
    assert r.json()["response"]["total"] == 1
    r = await http.get("/v1/payments/status/all", params={"from": 0, "to": paid["paid_at"]}, headers=auth)
    assert r.status_code == 400  # the window is at most 90 days


# ---------------------------------------------------------------------- virtual accounts
async def test_virtual_account_deadline_is_honoured(http, auth):
    # given an account issued with an explicit deadline
    now = (await http.post("/_control/clock", json={"advance_s": 0})).json()["now"]
    due = int(now) + 3600
    issued = await create(http, amount=20000, pay_method="vbank", outcome="ready", vbank_due=due)
    assert issued["vbank_date"] == due and issued["status"] == "ready"
    # when the buyer tries to pay after it
    await http.post("/_control/clock", json={"advance_s": 3601})
    r = await http.post(f"/_control/payments/{issued['imp_uid']}/deposit")
    # then the deposit is refused and the payment stays unpaid
    assert r.status_code == 400 and "기한" in r.json()["error"]["message"]
    after = (await http.get(f"/v1/payments/{issued['imp_uid']}", headers={"Authorization": await v1_token(http)})).json()
    assert after["response"]["status"] == "ready" and after["response"]["paid_at"] == 0


def test_store_can_be_driven_from_several_event_loops():
    from sandbox.portone.store import Store

    store = Store()

    async def contended() -> str:
        async with store.lock:  # make create_payment wait, which binds the lock to this loop
            task = asyncio.ensure_future(store.create_payment(amount=1000))
            await asyncio.sleep(0)
        return (await task).status

    assert asyncio.run(contended()) == "paid"
    assert asyncio.run(contended()) == "paid"  # a fresh loop, e.g. the next test's
