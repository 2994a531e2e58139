"""PortOne V2 end to end (API + sandbox over real HTTP): paymentId charging, signed webhooks,
idempotent cancels, and V1 and V2 side by side."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from services.gateways.portone.v2 import PortOneV2Client
from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

PREPARE_V2 = """mutation($a: Int!) { preparePointCharge(amount: $a, version: V2) {
  version merchantUid paymentId storeId channelKey amount status } }"""
CHARGE_V2 = "mutation($p: ID!) { createPointTransactionOfLoading(paymentId: $p) { _id impUid amount balance status statusDetail } }"
CHARGE_V1 = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount balance } }"
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { amount balance } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def eventually(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def sign(secret: str, body: str, *, timestamp: int | None = None, msg_id: str | None = None) -> dict[str, str]:
    """Standard Webhooks signature, as PortOne V2 sends it."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = str(timestamp if timestamp is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


@pytest.fixture
def v2_hooks(api: GQL, sandbox: SandboxControl) -> str:
    url = str(api.client.base_url).rstrip("/") + "/webhooks/portone/v2"
    sandbox.config.v2_webhook_url = url  # type: ignore[attr-defined]
    return url


async def test_v2_prepared_charge(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a V2 order: the browser SDK needs paymentId, storeId and channelKey
    user_id = await api.signup_and_login()
    config = (await api("{ fetchPointChargeConfig { storeId channelKey } }"))["data"]["fetchPointChargeConfig"]
    order = (await api(PREPARE_V2, {"a": 5000}))["data"]["preparePointCharge"]
    assert order["version"] == "V2" and order["paymentId"] == order["merchantUid"]
    assert order["storeId"] == config["storeId"] == sandbox.config.store_id
    assert order["channelKey"] == config["channelKey"]
    # when the user pays with PortOne.requestPayment and the frontend sends paymentId
    await sandbox.pay(5000, version="v2", payment_id=order["paymentId"])
    tx = (await api(CHARGE_V2, {"p": order["paymentId"]}))["data"]["createPointTransactionOfLoading"]
    # then it is credited like V1, once
    assert (tx["amount"], tx["balance"], tx["status"], tx["impUid"]) == (5000, 5000, "충전", order["paymentId"])
    again = (await api(CHARGE_V2, {"p": order["paymentId"]}))["data"]["createPointTransactionOfLoading"]
    assert again["_id"] == tx["_id"]
    assert await ledger_invariants(clean_db) == {user_id: 5000}


async def test_v2_pre_registered_amount_is_enforced(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]
    # the browser asks PortOne for less than the pre-registered amount: PortOne refuses it
    tampered = await sandbox.pay(100, version="v2", payment_id=order["paymentId"])
    assert tampered["status"] == "FAILED"
    assert error_code(await api(CHARGE_V2, {"p": order["paymentId"]})) == "PAYMENT_NOT_PAID"
    assert await balance(api) == 0


async def test_v2_virtual_account_then_signed_deposit_webhook(api: GQL, sandbox: SandboxControl, v2_hooks: str) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 30000}))["data"]["preparePointCharge"]
    await sandbox.pay(30000, version="v2", payment_id=order["paymentId"], pay_method="vbank", outcome="ready", webhook=True)
    result = await api(CHARGE_V2, {"p": order["paymentId"]})
    assert error_code(result) == "PAYMENT_PENDING"
    assert result["errors"][0]["extensions"]["vbankNum"]
    await sandbox.deposit(order["paymentId"])
    await eventually(lambda: _balance_is(api, 30000))


async def _balance_is(api: GQL, expected: int) -> bool:
    return await balance(api) == expected


async def test_v2_webhook_alone_credits(api: GQL, sandbox: SandboxControl, v2_hooks: str, clean_db: str) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]
    await sandbox.pay(10000, version="v2", payment_id=order["paymentId"], webhook=True)
    await eventually(lambda: _balance_is(api, 10000))
    # the delivery is marked processed just after the credit commits
    await eventually(lambda: _processed_v2_deliveries(clean_db))


async def _processed_v2_deliveries(db: str) -> bool:
    sql = "SELECT COUNT(*) FROM webhook_deliveries WHERE provider = 'portone_v2' AND outcome = 'processed'"
    return await count_rows(db, sql) >= 1


@pytest.mark.parametrize("problem", ["wrong_secret", "stale", "tampered_body", "missing_headers"])
async def test_v2_bad_signatures_are_rejected(
    api: GQL, sandbox: SandboxControl, clean_db: str, problem: str
) -> None:
    # given a paid V2 order whose webhook someone forges or replays
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 5000}))["data"]["preparePointCharge"]
    await sandbox.pay(5000, version="v2", payment_id=order["paymentId"])
    body = json.dumps({"type": "Transaction.Paid", "timestamp": "2026-11-30T00:00:00Z",
                       "data": {"paymentId": order["paymentId"], "storeId": sandbox.config.store_id, "transactionId": "tx"}})
    secret = sandbox.config.v2_webhook_secret
    headers = {
        "wrong_secret": sign("whsec_" + base64.b64encode(b"x" * 32).decode(), body),
        "stale": sign(secret, body, timestamp=int(time.time()) - 3600),
        "tampered_body": sign(secret, body.replace("Paid", "Paid ")),
        "missing_headers": {"content-type": "application/json"},
    }[problem]
    response = await api.client.post("/webhooks/portone/v2", content=body, headers=headers)
    # then 400, the delivery is stored as rejected, and nothing is credited
    assert response.status_code == 400
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'rejected'") == 1
    await asyncio.sleep(0.2)
    assert await balance(api) == 0


async def test_v2_valid_signature_and_unknown_events(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 5000}))["data"]["preparePointCharge"]
    await sandbox.pay(5000, version="v2", payment_id=order["paymentId"])
    secret = sandbox.config.v2_webhook_secret
    unknown = json.dumps({"type": "BillingKey.Issued", "timestamp": "2026-11-30T00:00:00Z",
                          "data": {"storeId": sandbox.config.store_id, "billingKey": "bk"}})
    r1 = await api.client.post("/webhooks/portone/v2", content=unknown, headers=sign(secret, unknown))
    assert r1.status_code == 200 and r1.json()["status"] == "ignored"
    paid = json.dumps({"type": "Transaction.Paid", "timestamp": "2026-11-30T00:00:00Z",
                       "data": {"paymentId": order["paymentId"], "storeId": sandbox.config.store_id, "transactionId": "t"}})
    r2 = await api.client.post("/webhooks/portone/v2", content=paid, headers=sign(secret, paid))
    assert r2.status_code == 200 and r2.json()["status"] == "accepted"
    await eventually(lambda: _balance_is(api, 5000))


async def test_v2_rotation_accepts_the_previous_secret(clean_db: str, sandbox: SandboxControl) -> None:
    from api.app import create_app
    from tests.conftest import api_settings
    from tests.servers import run_server

    old = sandbox.config.v2_webhook_secret
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    settings = api_settings(clean_db, sandbox, portone_webhook_secret=new, portone_webhook_secret_previous=old)
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            body = json.dumps({"type": "Transaction.Paid", "timestamp": "2026-11-30T00:00:00Z",
                               "data": {"paymentId": "nope", "storeId": "s", "transactionId": "t"}})
            for secret in (old, new):
                assert (await http.post("/webhooks/portone/v2", content=body, headers=sign(secret, body))).status_code == 200
            stranger = "whsec_" + base64.b64encode(b"z" * 32).decode()
            assert (await http.post("/webhooks/portone/v2", content=body, headers=sign(stranger, body))).status_code == 400


async def test_v2_cancel_retried_with_one_idempotency_key_refunds_once(
    api: GQL, sandbox: SandboxControl, v2_hooks: str, clean_db: str
) -> None:
    # given a 10,000 V2 charge
    user_id = await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]
    await sandbox.pay(10000, version="v2", payment_id=order["paymentId"])
    await api(CHARGE_V2, {"p": order["paymentId"]})
    # when a partial cancel reaches PortOne but every answer is lost on the way back
    await sandbox.faults(malformed_rate=1.0, endpoints=["POST /v2/payments/{paymentId}/cancel"])
    await sandbox.http.delete("/_control/stats")
    result = await api(CANCEL, {"i": order["paymentId"], "a": 3000})
    assert error_code(result) == "PORTONE_UNAVAILABLE"
    # then our client retried with the same Idempotency-Key and PortOne refunded exactly once
    stats = await sandbox.stats()
    assert stats["POST /v2/payments/{paymentId}/cancel"] == 3
    payment = (await sandbox.http.get(f"/_control/payments/{order['paymentId']}")).json()
    assert payment["amount"]["cancelled"] == 3000 and len(payment["cancellations"]) == 1
    # and PortOne's webhook settles our pending cancel: the points are taken back once
    await sandbox.clear_faults()
    await eventually(lambda: _balance_is(api, 7000))
    assert await ledger_invariants(clean_db) == {user_id: 7000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests WHERE status = 'succeeded'") == 1


async def test_v2_client_cancel_same_key_twice(sandbox: SandboxControl) -> None:
    payment = await sandbox.pay(8000, version="v2")
    cfg = sandbox.config
    async with httpx.AsyncClient() as http:
        client = PortOneV2Client(http, base_url=f"{sandbox.base_url}/v2", secret=cfg.v2_api_secret, store_id=cfg.store_id)
        first = await client.cancel(payment["id"], amount=2000, checksum=8000, reason="r", request_id="same")
        second = await client.cancel(payment["id"], amount=2000, checksum=8000, reason="r", request_id="same")
    assert first.cancelled_amount == second.cancelled_amount == 2000


async def test_v1_and_v2_in_one_history(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    user_id = await api.signup_and_login()
    v1 = await sandbox.pay(1000)
    await api(CHARGE_V1, {"i": v1["imp_uid"]})
    order = (await api(PREPARE_V2, {"a": 5000}))["data"]["preparePointCharge"]
    await sandbox.pay(5000, version="v2", payment_id=order["paymentId"])
    await api(CHARGE_V2, {"p": order["paymentId"]})
    rows = (await api("{ fetchPointTransactionsOfLoading { impUid amount balance } }"))["data"]["fetchPointTransactionsOfLoading"]
    assert rows == [
        {"impUid": order["paymentId"], "amount": 5000, "balance": 6000},
        {"impUid": v1["imp_uid"], "amount": 1000, "balance": 1000},
    ]
    # a V2 cancel works through the same mutation (the history's impUid is the paymentId)
    assert (await api(CANCEL, {"i": order["paymentId"]}))["data"]["cancelPointTransaction"]["balance"] == 1000
    assert await ledger_invariants(clean_db) == {user_id: 1000}


async def test_v2_redirect(api: GQL, sandbox: SandboxControl) -> None:
    await api.signup_and_login()
    order = (await api(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]
    await sandbox.pay(10000, version="v2", payment_id=order["paymentId"])
    response = await api.client.get("/payments/complete", params={"paymentId": order["paymentId"], "code": "whatever"})
    assert response.status_code == 303
    assert "outcome=credited" in response.headers["location"]
    assert await balance(api) == 10000
