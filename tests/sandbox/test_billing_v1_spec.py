"""The V1 billing answers against openapi/v1.openapi.yml: the envelopes and statuses each endpoint
documents, and the exact field sets of CustomerAnnotation, ScheduleResultAnnotation and
PaymentAnnotation. (The schedule listings are paged {total, previous, next, list} as the official
clients read them, where the spec's schema says a bare array: their items are checked instead.)"""

from __future__ import annotations

import httpx
import jsonschema

from tests.sandbox.conftest import v1_token
from tests.sandbox.spec import v1_spec

CARD = {"card_number": "5361-8100-0000-4321", "expiry": "2099-12"}


def check(resp: httpx.Response, spec_path: str, *, ok: bool) -> dict:
    body = resp.json()
    v1_spec().validate(spec_path, resp.request.method, resp.status_code, body, ok=ok)
    return body


def check_definition(name: str, item: dict) -> None:
    spec = v1_spec()
    assert set(item) == spec.properties(name), set(item) ^ spec.properties(name)
    jsonschema.Draft4Validator({"definitions": spec.definitions, "$ref": f"#/definitions/{name}"}).validate(item)


async def test_every_billing_endpoint_answers_as_the_spec_documents(http):
    http.headers["Authorization"] = await v1_token(http)
    now = int((await http.post("/_control/clock", json={})).json()["now"])
    # keys
    key = check(await http.post("/v1/subscribe/customers/spec-1", json=CARD), "/subscribe/customers/{customer_uid}",
                ok=True)["response"]
    check_definition("CustomerAnnotation", key)
    check(await http.get("/v1/subscribe/customers/spec-1"), "/subscribe/customers/{customer_uid}", ok=True)
    check(await http.get("/v1/subscribe/customers/nobody"), "/subscribe/customers/{customer_uid}", ok=False)
    many = check(await http.get("/v1/subscribe/customers", params=[("customer_uid[]", "spec-1"),
                                                                     ("customer_uid[]", "nobody")]),
                 "/subscribe/customers", ok=True)
    assert len(many["response"]) == 1
    # charges
    paid = check(await http.post("/v1/subscribe/payments/again", json={
        "customer_uid": "spec-1", "merchant_uid": "spec-again", "amount": 1000}), "/subscribe/payments/again",
        ok=True)["response"]
    check_definition("PaymentAnnotation", paid)
    check(await http.post("/v1/subscribe/payments/again", json={
        "customer_uid": "nobody", "merchant_uid": "spec-again-2", "amount": 1000}), "/subscribe/payments/again", ok=False)
    once = check(await http.post("/v1/subscribe/payments/onetime", json={
        **CARD, "merchant_uid": "spec-once", "amount": 1000}), "/subscribe/payments/onetime", ok=True)["response"]
    check_definition("PaymentAnnotation", once)
    listed = check(await http.get("/v1/subscribe/customers/spec-1/payments"),
                   "/subscribe/customers/{customer_uid}/payments", ok=True)
    assert listed["response"]["total"] == 1
    # schedules
    booked = check(await http.post("/v1/subscribe/payments/schedule", json={"customer_uid": "spec-1", "schedules": [
        {"merchant_uid": "spec-sub-1", "schedule_at": now + 600, "amount": 1000, "name": "정기"},
        {"merchant_uid": "spec-sub-2", "schedule_at": now + 900, "amount": 1000, "name": "정기"}]}),
        "/subscribe/payments/schedule", ok=True)["response"]
    for item in booked:
        check_definition("ScheduleResultAnnotation", item)
    one = check(await http.get("/v1/subscribe/payments/schedule/spec-sub-1"),
                "/subscribe/payments/schedule/{merchant_uid}", ok=True)["response"]
    check_definition("ScheduleResultAnnotation", one)
    check(await http.get("/v1/subscribe/payments/schedule/nothing"), "/subscribe/payments/schedule/{merchant_uid}",
          ok=False)
    page = (await http.get("/v1/subscribe/payments/schedule",
                           params={"schedule_from": now, "schedule_to": now + 3600})).json()["response"]
    assert set(page) == {"total", "previous", "next", "list"}
    for item in page["list"]:
        check_definition("ScheduleResultAnnotation", item)
    bad = await http.get("/v1/subscribe/payments/schedule", params={"schedule_from": now})
    assert bad.status_code == 400 and "400" in v1_spec().responses("/subscribe/payments/schedule", "get")
    revoked = check(await http.post("/v1/subscribe/payments/unschedule", json={
        "customer_uid": "spec-1", "merchant_uid": ["spec-sub-2"]}), "/subscribe/payments/unschedule", ok=True)
    check_definition("ScheduleResultAnnotation", revoked["response"][0])
    check(await http.delete("/v1/subscribe/customers/spec-1"), "/subscribe/customers/{customer_uid}", ok=True)
    check(await http.delete("/v1/subscribe/customers/spec-1"), "/subscribe/customers/{customer_uid}", ok=False)
