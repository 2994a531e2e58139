"""Every V1 endpoint's responses, validated against openapi/v1.openapi.yml (shapes and statuses)."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import create, v1_token
from tests.sandbox.spec import v1_spec


def check(resp: httpx.Response, spec_path: str, *, ok: bool | None = None) -> dict:
    body = resp.json()
    v1_spec().validate(spec_path, resp.request.method, resp.status_code, body, ok=ok)
    return body


@pytest.fixture
async def auth(http: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": await v1_token(http)}


def assert_exact_payment_fields(payment: dict) -> None:
    spec = v1_spec()
    assert set(payment) == spec.properties("PaymentAnnotation")
    for item in payment["cancel_history"]:
        assert set(item) == spec.properties("PaymentCancelAnnotation")


async def test_get_token_json_and_form_match_auth_response(http):
    # given the sandbox's credentials
    creds = {"imp_key": "sandbox_imp_key", "imp_secret": "sandbox_imp_secret"}
    # when asking for a token as JSON and as a form
    as_json = check(await http.post("/v1/users/getToken", json=creds), "/users/getToken", ok=True)
    as_form = check(await http.post("/v1/users/getToken", data=creds), "/users/getToken", ok=True)
    # then both are AuthAnnotation and the live token is reused rather than reissued
    assert set(as_json["response"]) == v1_spec().properties("AuthAnnotation")
    assert as_json["response"]["access_token"] == as_form["response"]["access_token"]
    assert as_json["response"]["expired_at"] - as_json["response"]["now"] == 1800


async def test_get_token_with_wrong_secret_is_401_envelope(http):
    resp = await http.post("/v1/users/getToken", json={"imp_key": "sandbox_imp_key", "imp_secret": "nope"})
    assert resp.status_code == 401
    check(resp, "/users/getToken", ok=False)


@pytest.mark.parametrize(
    "kind",
    [
        {"pay_method": "card", "outcome": "paid"},
        {"pay_method": "trans", "outcome": "paid"},
        {"pay_method": "vbank", "outcome": "ready"},
        {"pay_method": "vbank", "outcome": "paid"},
        {"pay_method": "card", "outcome": "failed"},
        {"pay_method": "card", "outcome": "ready"},
    ],
    ids=lambda k: f"{k['pay_method']}-{k['outcome']}",
)
async def test_get_payment_matches_payment_annotation_for_every_kind(http, auth, kind):
    # given a payment of this kind with custom data
    created = await create(http, amount=15000, name="포인트 충전", buyer_email="a@b.kr", custom_data={"u": 1}, **kind)
    # when fetched by imp_uid
    body = check(await http.get(f"/v1/payments/{created['imp_uid']}", headers=auth), "/payments/{imp_uid}", ok=True)
    payment = body["response"]
    # then it has exactly the spec's fields and equals what the control API returned
    assert_exact_payment_fields(payment)
    assert payment == created
    assert payment["status"] == kind["outcome"]
    assert payment["currency"] == "KRW" and payment["amount"] == 15000
    assert payment["custom_data"] == '{"u":1}'  # PortOne hands custom_data back as a JSON string
    if kind["outcome"] == "paid":
        assert payment["paid_at"] > 0 and payment["failed_at"] == 0 and payment["receipt_url"]
    if kind["outcome"] == "failed":
        assert payment["failed_at"] > 0 and payment["paid_at"] == 0 and payment["fail_reason"]
    if kind["pay_method"] == "vbank":
        assert payment["vbank_num"] and payment["vbank_name"] and payment["vbank_code"] and payment["vbank_holder"]
        assert payment["vbank_date"] > payment["vbank_issued_at"] > 0
    else:
        assert payment["vbank_num"] is None and payment["vbank_date"] == 0


async def test_get_payment_unknown_is_404_and_no_token_is_401(http, auth):
    resp = await http.get("/v1/payments/imp_000000000000", headers=auth)
    assert resp.status_code == 404
    check(resp, "/payments/{imp_uid}", ok=False)
    resp = await http.get("/v1/payments/imp_000000000000")
    assert resp.status_code == 401
    check(resp, "/payments/{imp_uid}", ok=False)


async def test_get_payments_multiple_200_207_404(http, auth):
    a = await create(http, amount=1000)
    b = await create(http, amount=2000, merchant_uid="order-b")
    # all found -> 200, imp_uid[] and merchant_uid[] both honoured
    resp = await http.get("/v1/payments", params=[("imp_uid[]", a["imp_uid"]), ("merchant_uid[]", "order-b")], headers=auth)
    assert resp.status_code == 200
    body = check(resp, "/payments", ok=True)
    assert [p["imp_uid"] for p in body["response"]] == [a["imp_uid"], b["imp_uid"]]
    # some missing -> 207 with the found ones
    resp = await http.get("/v1/payments", params=[("imp_uid[]", a["imp_uid"]), ("imp_uid[]", "imp_999999999999")], headers=auth)
    assert resp.status_code == 207
    assert [p["imp_uid"] for p in check(resp, "/payments")["response"]] == [a["imp_uid"]]
    # none found -> 404
    resp = await http.get("/v1/payments", params=[("imp_uid[]", "imp_999999999999")], headers=auth)
    assert resp.status_code == 404
    check(resp, "/payments", ok=False)


async def test_find_by_merchant_uid_returns_latest_and_filters_status(http, auth):
    failed = await create(http, amount=1000, merchant_uid="order-f", outcome="failed")
    paid = await create(http, amount=1000, merchant_uid="order-f")
    path = "/payments/find/{merchant_uid}/{payment_status}"
    latest = check(await http.get("/v1/payments/find/order-f", headers=auth), path, ok=True)["response"]
    assert latest["imp_uid"] == paid["imp_uid"]  # default sorting -started
    only_failed = check(await http.get("/v1/payments/find/order-f/failed", headers=auth), path, ok=True)["response"]
    assert only_failed["imp_uid"] == failed["imp_uid"]
    resp = await http.get("/v1/payments/find/order-f/cancelled", headers=auth)
    assert resp.status_code == 404
    check(resp, path, ok=False)


async def test_find_all_by_merchant_uid_is_paged(http, auth):
    await create(http, amount=1000, merchant_uid="order-x", outcome="failed")
    await create(http, amount=1000, merchant_uid="order-x")
    path = "/payments/findAll/{merchant_uid}/{payment_status}"
    body = check(await http.get("/v1/payments/findAll/order-x", params={"limit": 1}, headers=auth), path, ok=True)
    assert (body["response"]["total"], body["response"]["previous"], body["response"]["next"]) == (2, 0, 2)
    resp = await http.get("/v1/payments/findAll/order-x", params={"limit": 0}, headers=auth)
    assert resp.status_code == 400
    check(resp, path, ok=False)
    resp = await http.get("/v1/payments/findAll/order-none", headers=auth)
    assert resp.status_code == 404
    check(resp, path, ok=False)


@pytest.mark.parametrize("status", ["all", "ready", "paid", "cancelled", "failed"])
async def test_payments_by_status_matches_paged_payment_annotation(http, auth, status):
    # given one payment in each status
    await create(http, amount=1000, pay_method="vbank", outcome="ready")
    await create(http, amount=1000)
    await create(http, amount=1000, outcome="failed")
    cancelled = await create(http, amount=1000)
    assert (await http.post(f"/_control/payments/{cancelled['imp_uid']}/cancel", json={"webhook": False})).status_code == 200
    # when listing by status
    body = check(await http.get(f"/v1/payments/status/{status}", headers=auth), "/payments/status/{payment_status}", ok=True)
    listed = body["response"]["list"]
    # then the page is PagedPaymentAnnotation and holds exactly that status
    assert body["response"]["total"] == (4 if status == "all" else 1) == len(listed)
    assert status == "all" or {p["status"] for p in listed} == {status}
    for p in listed:
        assert_exact_payment_fields(p)


async def test_payments_by_status_rejects_bad_status_and_out_of_range_page(http, auth):
    path = "/payments/status/{payment_status}"
    resp = await http.get("/v1/payments/status/refunded", headers=auth)
    assert resp.status_code == 400
    check(resp, path, ok=False)
    await create(http, amount=1000)
    resp = await http.get("/v1/payments/status/paid", params={"page": 2}, headers=auth)
    assert resp.status_code == 400
    check(resp, path, ok=False)


async def test_prepare_post_get_put(http, auth):
    path = "/payments/prepare"
    created = check(await http.post("/v1/payments/prepare", json={"merchant_uid": "order-p", "amount": 5000}, headers=auth), path, ok=True)
    assert created["response"] == {"merchant_uid": "order-p", "amount": 5000, "currency": None}
    dup = await http.post("/v1/payments/prepare", data={"merchant_uid": "order-p", "amount": "5000"}, headers=auth)
    assert dup.status_code == 200
    check(dup, path, ok=False)  # registering twice is refused in the body
    edited = check(await http.put("/v1/payments/prepare", json={"merchant_uid": "order-p", "amount": 7000, "currency": "KRW"}, headers=auth), path, ok=True)
    assert edited["response"]["amount"] == 7000
    fetched = check(await http.get("/v1/payments/prepare/order-p", headers=auth), "/payments/prepare/{merchant_uid}", ok=True)
    assert fetched["response"] == {"merchant_uid": "order-p", "amount": 7000, "currency": "KRW"}
    missing = await http.put("/v1/payments/prepare", json={"merchant_uid": "order-none", "amount": 1}, headers=auth)
    assert missing.status_code == 404
    check(missing, path, ok=False)
    missing = await http.get("/v1/payments/prepare/order-none", headers=auth)
    check(missing, "/payments/prepare/{merchant_uid}", ok=False)


async def test_cancel_response_is_payment_response_with_history(http, auth):
    paid = await create(http, amount=10000)
    resp = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"], "amount": 3000, "checksum": 10000, "reason": "부분 환불"}, headers=auth)
    body = check(resp, "/payments/cancel", ok=True)
    payment = body["response"]
    assert_exact_payment_fields(payment)
    assert payment["cancel_history"][0]["amount"] == 3000
    assert payment["cancel_history"][0]["reason"] == "부분 환불"


async def test_cancel_failures_are_http_200_with_nonzero_code(http, auth):
    # docs/v1-cancel.md: "응답 코드가 200이라도 응답 body의 code가 0이 아니면 환불에 실패"
    resp = await http.post("/v1/payments/cancel", json={"imp_uid": "imp_000000000000"}, headers=auth)
    assert resp.status_code == 200
    check(resp, "/payments/cancel", ok=False)
    resp = await http.post("/v1/payments/cancel", json={}, headers=auth)
    check(resp, "/payments/cancel", ok=False)
    resp = await http.post("/v1/payments/cancel", json={"imp_uid": "x"})
    assert resp.status_code == 401
    check(resp, "/payments/cancel", ok=False)
