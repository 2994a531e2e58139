"""Every V2 billing answer of the sandbox, success or error, against v2.openapi.yml: a status the spec
documents for that operation, and a body that fits its success schema or one of its error types."""

from __future__ import annotations

import json

import httpx

from tests.sandbox.spec import v2_spec
from tests.sandbox.test_billing_v2 import AUTH, CARD, CHANNEL, _iso, charge, control_key, issue


def assert_per_spec(method: str, path: str, r: httpx.Response) -> None:
    """The status is one the spec documents for this operation, and the body is its success schema
    or one of the error types its error union lists (with their required fields, e.g. pgCode)."""
    spec = v2_spec()
    op = spec.doc["paths"][path][method.lower()]
    assert r.status_code in spec.documented_statuses(path, method), (method, path, r.status_code, r.text)
    if r.status_code == 200:
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    else:
        schema = op["x-portone-error"]["$ref"].rsplit("/", 1)[1]
    spec.validate(schema, r.json())


async def test_every_answer_is_a_documented_status_and_shape(http):
    key = (await issue(http))["billingKey"]
    declining = await control_key(http, decline=True)
    now = (await http.post("/_control/clock", json={"advance_s": 0})).json()["now"]
    later = {"timeToPay": _iso(now + 3600)}
    sid_holder: list[str] = []

    async def call(method: str, template: str, url: str, **kw) -> httpx.Response:
        r = await http.request(method, "/v2" + url, headers=AUTH, **kw)
        assert_per_spec(method, template, r)
        return r

    card = {"channelKey": CHANNEL, "method": {"card": {"credential": CARD}}}
    await call("POST", "/billing-keys", "/billing-keys", json=card)
    await call("POST", "/billing-keys", "/billing-keys", json={**card, "channelKey": "nope"})
    await call("POST", "/billing-keys", "/billing-keys", json={"channelKey": CHANNEL})
    await call("GET", "/billing-keys", "/billing-keys", params={"requestBody": "{}"})
    await call("GET", "/billing-keys", "/billing-keys", params={"requestBody": '{"page": {"size": 0}}'})
    await call("GET", "/billing-keys/{billingKey}", f"/billing-keys/{key}")
    await call("GET", "/billing-keys/{billingKey}", "/billing-keys/none")
    await call("POST", "/payments/{paymentId}/billing-key", "/payments/spec-1/billing-key", json=charge(key))
    await call("POST", "/payments/{paymentId}/billing-key", "/payments/spec-1/billing-key", json=charge(key))
    await call("POST", "/payments/{paymentId}/billing-key", "/payments/spec-2/billing-key", json=charge(declining))
    await call("POST", "/payments/{paymentId}/billing-key", "/payments/spec-3/billing-key", json=charge("none"))
    r = await call("POST", "/payments/{paymentId}/schedule", "/payments/spec-4/schedule",
                   json={"payment": charge(key), **later})
    sid_holder.append(r.json()["schedule"]["id"])
    await call("POST", "/payments/{paymentId}/schedule", "/payments/spec-4/schedule", json={"payment": charge(key), **later})
    await call("POST", "/payments/{paymentId}/schedule", "/payments/spec-1/schedule", json={"payment": charge(key), **later})
    await call("POST", "/payments/{paymentId}/schedule", "/payments/spec-5/schedule", json={"payment": charge("none"), **later})
    await call("GET", "/payment-schedules/{paymentScheduleId}", f"/payment-schedules/{sid_holder[0]}")
    await call("GET", "/payment-schedules/{paymentScheduleId}", "/payment-schedules/none")
    await call("GET", "/payment-schedules", "/payment-schedules", params={"requestBody": json.dumps(
        {"filter": {"from": _iso(now), "until": _iso(now + 7200)}, "sort": {"by": "CREATED_AT", "order": "ASC"}})})
    await call("DELETE", "/billing-keys/{billingKey}", f"/billing-keys/{key}")
    await call("DELETE", "/payment-schedules", "/payment-schedules", params={"requestBody": json.dumps({"scheduleIds": ["none"]})})
    await call("DELETE", "/payment-schedules", "/payment-schedules", params={"requestBody": "{}"})
    await call("DELETE", "/payment-schedules", "/payment-schedules", params={"requestBody": json.dumps({"billingKey": key})})
    await call("DELETE", "/payment-schedules", "/payment-schedules", params={"requestBody": json.dumps({"scheduleIds": sid_holder})})
    await call("DELETE", "/billing-keys/{billingKey}", f"/billing-keys/{key}")
    await call("DELETE", "/billing-keys/{billingKey}", f"/billing-keys/{key}")
    await call("DELETE", "/billing-keys/{billingKey}", "/billing-keys/none")
    await call("POST", "/payments/{paymentId}/billing-key", "/payments/spec-6/billing-key", json=charge(key))
    await call("DELETE", "/payment-schedules", "/payment-schedules", params={"requestBody": json.dumps({"billingKey": key})})
