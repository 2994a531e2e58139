"""V2 through the official portone-server-sdk, plus raw checks against openapi/v2.openapi.yml."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from portone_server_sdk import PaymentClient
from portone_server_sdk import errors as sdk_errors
from portone_server_sdk.common import PageInput
from portone_server_sdk.payment import CancelPaymentBodyRefundAccount, PaymentFilterInput

from tests.sandbox.conftest import Sandbox, create
from tests.sandbox.spec import v2_spec


@pytest.fixture
async def portone(sandbox: Sandbox) -> AsyncIterator[PaymentClient]:
    client = PaymentClient(secret=sandbox.config.v2_api_secret, base_url=sandbox.v2)
    yield client
    await client._async_client.aclose()


async def v2_payment(http: httpx.AsyncClient, **body) -> dict:
    return await create(http, version="v2", **body)


@pytest.mark.parametrize(
    "setup, sdk_class, status",
    [
        ({"outcome": "paid"}, "PaidPayment", "PAID"),
        ({"outcome": "ready"}, "ReadyPayment", "READY"),
        ({"outcome": "ready", "pay_method": "vbank"}, "VirtualAccountIssuedPayment", "VIRTUAL_ACCOUNT_ISSUED"),
        ({"outcome": "failed"}, "FailedPayment", "FAILED"),
        ({"outcome": "pending"}, "PayPendingPayment", "PAY_PENDING"),
        ({"outcome": "paid", "pay_method": "trans"}, "PaidPayment", "PAID"),
    ],
)
async def test_every_status_deserializes_with_the_sdk_and_matches_the_spec(http, portone, setup, sdk_class, status):
    # given a V2 payment in this state
    created = await v2_payment(http, amount=12000, name="포인트 12,000", buyer_email="a@b.kr", custom_data={"k": "v"}, **setup)
    # when the official SDK fetches it
    payment = await portone.get_payment_async(payment_id=created["id"])
    # then it is the right SDK type with our values, and the raw body fits the OpenAPI schema
    assert type(payment).__name__ == sdk_class  # the SDK picks the class from "status"
    assert created["status"] == status
    assert payment.id == created["id"]
    assert payment.amount.total == 12000
    assert payment.custom_data == '{"k":"v"}'
    assert payment.store_id == "store-00000000-0000-4000-8000-000000000000"
    v2_spec().validate("Payment", created)


async def test_cancelled_and_partial_cancelled_deserialize(http, portone):
    created = await v2_payment(http, amount=10000)
    await portone.cancel_payment_async(payment_id=created["id"], amount=4000, reason="부분")
    partial = await portone.get_payment_async(payment_id=created["id"])
    assert type(partial).__name__ == "PartialCancelledPayment"
    assert (partial.amount.cancelled, len(partial.cancellations)) == (4000, 1)
    await portone.cancel_payment_async(payment_id=created["id"], reason="나머지")
    full = await portone.get_payment_async(payment_id=created["id"])
    assert type(full).__name__ == "CancelledPayment"
    assert full.amount.cancelled == 10000
    assert [c.total_amount for c in full.cancellations] == [4000, 6000]
    raw = (await http.get(f"/_control/payments/{created['id']}")).json()
    v2_spec().validate("Payment", raw)


async def test_unknown_payment_and_bad_secret(sandbox, portone):
    with pytest.raises(sdk_errors.PaymentNotFoundError):
        await portone.get_payment_async(payment_id="no-such-payment")
    wrong = PaymentClient(secret="wrong", base_url=sandbox.v2)
    with pytest.raises(sdk_errors.UnauthorizedError):
        await wrong.get_payment_async(payment_id="whatever")
    await wrong._async_client.aclose()
    async with httpx.AsyncClient() as raw:
        r = await raw.get(sandbox.v2 + "/payments/x", headers={"Authorization": "Bearer sandbox_v2_api_secret"})
    assert r.status_code == 401 and r.json()["type"] == "UNAUTHORIZED"
    assert r.status_code in v2_spec().documented_statuses("/payments/{paymentId}", "get")


async def test_pre_register_guards_the_amount(http, portone):
    payment_id = f"order-{uuid.uuid4()}"
    # given 50,000 pre-registered
    assert await portone.pre_register_payment_async(payment_id=payment_id, total_amount=50000, currency="KRW") is not None
    # when the buyer pays 5,000 instead, the attempt fails; the right amount then succeeds
    tampered = await v2_payment(http, payment_id=payment_id, amount=5000)
    assert tampered["status"] == "FAILED" and "50000" in tampered["failure"]["reason"]
    paid = await v2_payment(http, payment_id=payment_id, amount=50000)
    assert paid["status"] == "PAID" and paid["transactionId"] != tampered["transactionId"]
    # and once paid, pre-registering again is refused
    with pytest.raises(sdk_errors.AlreadyPaidError):
        await portone.pre_register_payment_async(payment_id=payment_id, total_amount=1)


async def test_cancel_errors_map_to_sdk_errors(http, portone):
    paid = await v2_payment(http, amount=10000)
    with pytest.raises(sdk_errors.CancellableAmountConsistencyBrokenError):
        await portone.cancel_payment_async(payment_id=paid["id"], amount=1000, reason="x", current_cancellable_amount=9999)
    with pytest.raises(sdk_errors.CancelAmountExceedsCancellableAmountError):
        await portone.cancel_payment_async(payment_id=paid["id"], amount=10001, reason="x")
    ok = await portone.cancel_payment_async(payment_id=paid["id"], reason="x", current_cancellable_amount=10000)
    assert ok.cancellation.total_amount == 10000
    with pytest.raises(sdk_errors.PaymentAlreadyCancelledError):
        await portone.cancel_payment_async(payment_id=paid["id"], reason="again")
    ready = await v2_payment(http, amount=1000, outcome="ready")
    with pytest.raises(sdk_errors.PaymentNotPaidError):
        await portone.cancel_payment_async(payment_id=ready["id"], reason="x")
    with pytest.raises(sdk_errors.PaymentNotFoundError):
        await portone.cancel_payment_async(payment_id="nope", reason="x")


async def test_virtual_account_refund_needs_refund_account(http, portone):
    issued = await v2_payment(http, amount=30000, pay_method="vbank", outcome="ready")
    await http.post(f"/_control/payments/{issued['id']}/deposit", json={"webhook": False})
    with pytest.raises(sdk_errors.InvalidRequestError):
        await portone.cancel_payment_async(payment_id=issued["id"], reason="환불")
    account = CancelPaymentBodyRefundAccount(bank="SHINHAN", number="56211105948400", holder_name="홍길동")
    done = await portone.cancel_payment_async(payment_id=issued["id"], reason="환불", refund_account=account)
    assert done.cancellation.total_amount == 30000


async def test_cancel_retried_with_idempotency_key_refunds_once(http, portone):
    # given a cancel that PortOne performs but whose answer is lost (500 after processing)
    paid = await v2_payment(http, amount=10000)
    await http.put(
        "/_control/faults",
        json={"error_rate": 1.0, "process_before_fault": True, "endpoints": ["POST /v2/payments/{paymentId}/cancel"]},
    )
    # the SDK has no per-call headers; an Idempotency-Key on its httpx client covers its requests
    portone._async_client.headers["Idempotency-Key"] = "refund-order-1"
    with pytest.raises(sdk_errors.UnknownError):
        await portone.cancel_payment_async(payment_id=paid["id"], amount=3000, reason="환불")
    await http.delete("/_control/faults")
    # when the client retries with the same key
    first = await portone.cancel_payment_async(payment_id=paid["id"], amount=3000, reason="환불")
    second = await portone.cancel_payment_async(payment_id=paid["id"], amount=3000, reason="환불")
    # then it gets the original cancellation back and only 3,000 was refunded
    assert first.cancellation.id == second.cancellation.id
    after = await portone.get_payment_async(payment_id=paid["id"])
    assert after.amount.cancelled == 3000 and len(after.cancellations) == 1
    # and reusing the key for a different request is refused, not silently replayed
    with pytest.raises(sdk_errors.InvalidRequestError):
        await portone.cancel_payment_async(payment_id=paid["id"], amount=5000, reason="환불")
    # while a fresh key is a fresh refund
    portone._async_client.headers["Idempotency-Key"] = "refund-order-2"
    await portone.cancel_payment_async(payment_id=paid["id"], amount=5000, reason="환불")
    assert (await portone.get_payment_async(payment_id=paid["id"])).amount.cancelled == 8000


async def test_page_listing_filters_by_status_and_pages(http, portone):
    made = [await v2_payment(http, amount=1000 + i) for i in range(3)]
    await v2_payment(http, amount=500, outcome="failed")
    await create(http, amount=700)  # a V1 payment is not part of the V2 listing here
    page = await portone.get_payments_async(
        page=PageInput(number=0, size=2), filter=PaymentFilterInput(status=["PAID"], sort_order="ASC")
    )
    assert page.page.total_count == 3
    assert [p.id for p in page.items] == [made[0]["id"], made[1]["id"]]
    rest = await portone.get_payments_async(page=PageInput(number=1, size=2), filter=PaymentFilterInput(status=["PAID"], sort_order="ASC"))
    assert [p.id for p in rest.items] == [made[2]["id"]]
    everything = await portone.get_payments_async()
    assert everything.page.total_count == 4


async def test_cursor_listing_visits_each_payment_once_in_creation_order(http, portone):
    made = [await v2_payment(http, amount=1000 + i) for i in range(5)]
    seen, cursor = [], None
    while True:
        batch = await portone.get_all_payments_by_cursor_async(size=2, cursor=cursor)
        if not batch.items:
            break
        seen += [item.payment.id for item in batch.items]
        cursor = batch.items[-1].cursor
    assert seen == [p["id"] for p in made]
    raw = (await http.get("/v2/payments-by-cursor", params={"requestBody": '{"size": 1}'},
                          headers={"Authorization": "PortOne sandbox_v2_api_secret"})).json()
    v2_spec().validate("GetAllPaymentsByCursorResponse", raw)


async def test_invalid_v2_bodies_are_invalid_request_errors(http, sandbox):
    paid = await v2_payment(http, amount=1000)
    headers = {"Authorization": "PortOne sandbox_v2_api_secret", "Content-Type": "application/json"}
    for body in (b"{not json", b'{"amount": 100}', b'{"reason": "x", "amount": 10.5}', b'{"reason": "x", "amount": -1}'):
        r = await http.post(f"/v2/payments/{paid['id']}/cancel", content=body, headers=headers)
        assert r.status_code == 400 and r.json()["type"] == "INVALID_REQUEST", body
    r = await http.get("/v2/payments", params={"requestBody": '{"filter": {"status": ["NOPE"]}}'}, headers=headers)
    assert r.status_code == 400 and r.json()["type"] == "INVALID_REQUEST"
    after = (await http.get(f"/_control/payments/{paid['id']}")).json()
    assert after["status"] == "PAID"
