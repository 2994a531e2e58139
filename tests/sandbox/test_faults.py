"""Fault knobs (PUT/DELETE /_control/faults): each one observable from a client's side."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.conftest import create, v1_token

GET_PAYMENT = "GET /v1/payments/{imp_uid}"


@pytest.fixture
async def auth(http: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": await v1_token(http)}


async def faults(http: httpx.AsyncClient, **knobs) -> dict:
    r = await http.put("/_control/faults", json=knobs)
    assert r.status_code == 200, r.text
    return r.json()


async def test_latency_delays_api_but_not_control(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, latency_ms=300)
    started = time.monotonic()
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert (await http.get(f"/_control/payments/{paid['imp_uid']}")).status_code == 200
    assert time.monotonic() - started < 0.3


async def test_error_rate_returns_5xx_envelopes_without_processing(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, error_rate=1.0, error_status=503)
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"]}, headers=auth)
    assert r.status_code == 503 and r.json()["code"] != 0 and r.json()["response"] is None
    r = await http.get("/v2/payments/x", headers={"Authorization": "PortOne sandbox_v2_api_secret"})
    assert r.status_code == 503 and set(r.json()) == {"type", "message"}
    # the control API is never faulted, and the failed cancel did not happen
    after = await http.get(f"/_control/payments/{paid['imp_uid']}")
    assert after.status_code == 200 and after.json()["cancel_amount"] == 0


async def test_error_after_processing_loses_only_the_answer(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, error_rate=1.0, process_before_fault=True, endpoints=["POST /v1/payments/cancel"])
    r = await http.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"]}, headers=auth)
    assert r.status_code == 500
    # the refund happened although the client saw a 500 (it must check before retrying)
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)
    assert r.json()["response"]["status"] == "cancelled"


async def test_timeout_holds_the_request_past_the_client_timeout(http, auth, sandbox):
    paid = await create(http, amount=1000)
    await faults(http, timeout_rate=1.0, timeout_s=3)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=0.4) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("/v1/payments/cancel", json={"imp_uid": paid["imp_uid"]}, headers=auth)
    assert time.monotonic() - started < 2
    await http.delete("/_control/faults")
    assert (await http.get(f"/_control/payments/{paid['imp_uid']}")).json()["cancel_amount"] == 0


async def test_timeout_that_client_waits_out_ends_in_504_envelope(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, timeout_rate=1.0, timeout_s=0.3)
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)
    assert r.status_code == 504 and r.json()["response"] is None


async def test_malformed_rate_truncates_a_200_body(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, malformed_rate=1.0)
    r = await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert r.text.startswith('{"code":0')


async def test_token_expired_invalidates_issued_tokens(http):
    old = await v1_token(http)
    paid = await create(http, amount=1000)
    await faults(http, token_expired=True)
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": old})).status_code == 401
    new = await v1_token(http)
    assert new != old
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers={"Authorization": new})).status_code == 200


async def test_endpoints_limit_faults_to_named_templates(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, error_rate=1.0, endpoints=[GET_PAYMENT])
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).status_code == 500
    assert (await http.get("/v1/payments", params={"imp_uid[]": paid["imp_uid"]}, headers=auth)).status_code == 200
    assert (await http.post("/v1/users/getToken", json={"imp_key": "sandbox_imp_key", "imp_secret": "sandbox_imp_secret"})).status_code == 200


async def test_rates_are_probabilities_reproducible_with_a_seed(http, auth):
    paid = await create(http, amount=1000)

    async def run() -> list[int]:
        await faults(http, error_rate=0.5, seed=7, endpoints=[GET_PAYMENT])
        return [(await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).status_code for _ in range(30)]

    first, second = await run(), await run()
    assert first == second
    assert {200, 500} == set(first)


async def test_delete_resets_and_bad_knobs_are_rejected(http, auth):
    paid = await create(http, amount=1000)
    await faults(http, error_rate=1.0)
    r = await http.delete("/_control/faults")
    assert r.json()["error_rate"] == 0.0
    assert (await http.get(f"/v1/payments/{paid['imp_uid']}", headers=auth)).status_code == 200
    for bad in ({"error_rate": 1.5}, {"endpoints": ["GET /v1/nope"]}, {"latency": 5}, {"error_status": 404}):
        r = await http.put("/_control/faults", json=bad)
        assert r.status_code == 400 and r.json()["error"]["message"], bad
    assert (await http.get("/_control/faults")).json()["error_rate"] == 0.0
