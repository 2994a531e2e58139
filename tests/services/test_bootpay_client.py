"""The Bootpay REST client against the Bootpay emulator over real HTTP: both credential styles,
receipts → normalised payments (card, virtual account, separately confirmed), confirm, cancels
(partial, cancel_id de-dup, virtual-account refunds), errors and token renewal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from services import payment_state as st
from services.errors import DomainError
from services.gateways.bootpay import BootpayClient
from services.gateways.refund_account import RefundAccount
from tests.sandbox.bootpay import Bootpay, bootpay, bootpay_session  # noqa: F401 - fixtures
from tests.servers import reserve_socket, socket_url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def basic_client(bp: Bootpay, http: httpx.AsyncClient, **overrides: str) -> BootpayClient:
    cfg = bp.config
    keys = {"client_key": cfg.client_key, "secret_key": cfg.secret_key, **overrides}
    return BootpayClient(http, base_url=bp.v2, timeout_s=2.0, **keys)


def token_client(bp: Bootpay, http: httpx.AsyncClient, **overrides: str) -> BootpayClient:
    cfg = bp.config
    keys = {"application_id": cfg.application_id, "private_key": cfg.private_key, **overrides}
    return BootpayClient(http, base_url=bp.v2, timeout_s=2.0, **keys)


def stats(bp: Bootpay) -> dict[str, int]:
    return bp.control("GET", "/stats").json()


@pytest.mark.parametrize("make", [basic_client, token_client], ids=["basic", "token"])
async def test_a_paid_card_receipt_is_a_paid_payment(bootpay: Bootpay, http: httpx.AsyncClient, make) -> None:
    # given a card payment of 12,000 for our order
    paid = bootpay.pay(price=12000, order_id="pc_order_card", method="card")
    # when we look it up
    payment = await make(bootpay, http).get_payment(paid["receipt_id"])
    # then it is paid, under Bootpay's ids, for the amount it says
    assert (payment.provider, payment.payment_key, payment.order_key) == ("bootpay", paid["receipt_id"], "pc_order_card")
    assert (payment.status, payment.amount, payment.cancelled_amount, payment.currency) == (st.PAID, 12000, 0, "KRW")
    assert payment.pay_method == "card" and payment.virtual_account is None
    assert payment.paid_at is not None and payment.paid_at.utcoffset() is not None
    assert stats(bootpay)["GET /v2/receipt/{receipt_id}"] == 1


async def test_a_virtual_account_is_ready_until_the_deposit(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    client = basic_client(bootpay, http)
    # given an issued virtual account
    issued = bootpay.pay(price=30000, order_id="pc_order_vbank", method="vbank")
    # when we look it up before the deposit
    ready = await client.get_payment(issued["receipt_id"])
    # then it waits for the deposit, with the account the buyer must pay into
    assert (ready.status, ready.amount, ready.pay_method, ready.paid_at) == (st.READY, 30000, "vbank", None)
    va = ready.virtual_account
    assert va is not None and va.account_number == issued["vbank_data"]["bank_account"]
    assert (va.bank_code, va.bank_name) == ("004", "국민은행") and va.due_at is not None
    # and once the buyer deposits, it is paid
    bootpay.deposit(issued["receipt_id"])
    paid = await client.get_payment(issued["receipt_id"])
    assert (paid.status, paid.amount) == (st.PAID, 30000) and paid.paid_at is not None


async def test_an_authorized_payment_is_captured_only_by_confirm(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    client = token_client(bootpay, http)
    # given a card payment the browser started with separately_confirmed
    held = bootpay.pay(price=5000, order_id="pc_order_confirm", separately_confirmed=True)
    # when we look it up: authorized, not paid
    authorized = await client.get_payment(held["receipt_id"])
    assert (authorized.status, authorized.amount, authorized.paid_at) == (st.AUTHORIZED, 5000, None)
    # when we confirm it: paid, from Bootpay's answer to the confirm
    confirmed = await client.confirm(held["receipt_id"])
    assert (confirmed.status, confirmed.amount) == (st.PAID, 5000) and confirmed.paid_at is not None
    # and a second confirm (a concurrent claim's) is refused by Bootpay, answered with the receipt
    again = await client.confirm(held["receipt_id"])
    assert again.status == st.PAID
    assert stats(bootpay)["POST /v2/confirm"] == 2
    assert bootpay.control("GET", f"/receipts/{held['receipt_id']}").json()["status"] == 1


async def test_a_partial_cancel_is_done_once_per_cancel_id(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    client = basic_client(bootpay, http)
    paid = bootpay.pay(price=10000)
    # when we cancel 3,000 under our request id
    first = await client.cancel(paid["receipt_id"], amount=3000, checksum=10000, reason="부분 취소", request_id="req-1")
    # then 3,000 is cancelled and the rest is still paid
    assert (first.status, first.cancelled_amount, first.cancellable_amount) == (st.PARTIALLY_CANCELLED, 3000, 7000)
    # when the same request is sent again (a retry after a lost answer)
    again = await client.cancel(paid["receipt_id"], amount=3000, checksum=10000, reason="부분 취소", request_id="req-1")
    # then Bootpay refunded nothing more, and we see the receipt as it is
    assert (again.status, again.cancelled_amount) == (st.PARTIALLY_CANCELLED, 3000)
    cancels = bootpay.control("GET", f"/receipts/{paid['receipt_id']}/cancellations").json()
    assert [(c["cancel_id"], c["price"], c["message"]) for c in cancels] == [("req-1", 3000, "부분 취소")]
    # and the rest, under another id, cancels it in full
    rest = await client.cancel(paid["receipt_id"], amount=7000, checksum=7000, reason="전액", request_id="req-2")
    assert (rest.status, rest.cancelled_amount, rest.cancellable_amount) == (st.CANCELLED, 10000, 0)


async def test_a_cancel_whose_answer_was_lost_is_retried_without_a_second_refund(
    bootpay: Bootpay, http: httpx.AsyncClient
) -> None:
    client = basic_client(bootpay, http)
    paid = bootpay.pay(price=10000)
    # given Bootpay processes the cancel but answers 500, once (seed 1: the first roll fails, the
    # second passes)
    bootpay.control("PUT", "/faults", json={"error_rate": 0.5, "process_before_fault": True,
                                            "endpoints": ["POST /v2/cancel"], "seed": 1})
    # when we cancel: the client retries under the same cancel_id
    result = await client.cancel(paid["receipt_id"], amount=4000, checksum=10000, reason="t", request_id="req-lost")
    assert stats(bootpay)["POST /v2/cancel"] == 2
    # then the cancel is reported as done, and done once
    assert (result.status, result.cancelled_amount) == (st.PARTIALLY_CANCELLED, 4000)
    cancels = bootpay.control("GET", f"/receipts/{paid['receipt_id']}/cancellations").json()
    assert [(c["cancel_id"], c["price"]) for c in cancels] == [("req-lost", 4000)]


async def test_a_deposited_virtual_account_is_refunded_to_the_buyers_account(
    bootpay: Bootpay, http: httpx.AsyncClient
) -> None:
    client = basic_client(bootpay, http)
    issued = bootpay.pay(price=20000, method="vbank")
    bootpay.deposit(issued["receipt_id"])
    account = RefundAccount(bank_code="088", number="110123456789", holder="김환불")
    # when we cancel it with the buyer's refund account
    cancelled = await client.cancel(
        issued["receipt_id"], amount=20000, checksum=20000, reason="환불", request_id="req-vb", refund_account=account
    )
    # then it is cancelled, and Bootpay has the account to send the money to
    assert (cancelled.status, cancelled.cancelled_amount) == (st.CANCELLED, 20000)
    cancels = bootpay.control("GET", f"/receipts/{issued['receipt_id']}/cancellations").json()
    assert cancels[0]["refund"] == {"bank_account": "110123456789", "bank_username": "김환불", "bank_code": "088"}


async def test_refusals_and_unknown_receipts(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    client = basic_client(bootpay, http)
    # an unknown receipt: not found
    with pytest.raises(DomainError) as unknown:
        await client.get_payment("0123456789abcdef01234567")
    assert unknown.value.code == "PAYMENT_NOT_FOUND"
    # an id that cannot be a receipt id: not found without asking Bootpay
    with pytest.raises(DomainError) as odd:
        await client.get_payment("../cancel")
    assert odd.value.code == "PAYMENT_NOT_FOUND"
    assert stats(bootpay).get("GET /v2/receipt/{receipt_id}") == 1
    # a cancel Bootpay refuses (more than is left): rejected, with Bootpay's error code
    paid = bootpay.pay(price=1000)
    with pytest.raises(DomainError) as refused:
        await client.cancel(paid["receipt_id"], amount=5000, checksum=1000, reason="t", request_id="req-x")
    assert refused.value.code == "BOOTPAY_UNAVAILABLE"
    assert getattr(refused.value, "error_code") == "CANCEL_PRICE_EXCEEDED"
    assert bootpay.control("GET", f"/receipts/{paid['receipt_id']}").json()["cancelled_price"] == 0


@pytest.mark.parametrize(
    "make", [lambda bp, h: basic_client(bp, h, secret_key="wrong"), lambda bp, h: token_client(bp, h, private_key="wrong")],
    ids=["basic", "token"],
)
async def test_bad_keys_are_unavailable_not_not_found(bootpay: Bootpay, http: httpx.AsyncClient, make) -> None:
    paid = bootpay.pay(price=1000)
    with pytest.raises(DomainError) as exc:
        await make(bootpay, http).get_payment(paid["receipt_id"])
    assert exc.value.code == "BOOTPAY_UNAVAILABLE"
    assert "부트페이" in exc.value.message


async def test_bootpay_down_or_failing_is_unavailable(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    # given nothing listens where Bootpay should be
    sock = reserve_socket()
    dead = BootpayClient(http, base_url=socket_url(sock) + "/v2", client_key="ck", secret_key="sk", timeout_s=1.0)
    sock.close()
    with pytest.raises(DomainError) as down:
        await dead.get_payment("0123456789abcdef01234567")
    assert down.value.code == "BOOTPAY_UNAVAILABLE"
    # given Bootpay answers 5xx: a read is retried twice, then unavailable
    paid = bootpay.pay(price=1000)
    bootpay.control("PUT", "/faults", json={"error_rate": 1.0, "endpoints": ["GET /v2/receipt/{receipt_id}"]})
    with pytest.raises(DomainError) as failing:
        await basic_client(bootpay, http).get_payment(paid["receipt_id"])
    assert failing.value.code == "BOOTPAY_UNAVAILABLE"
    assert stats(bootpay)["GET /v2/receipt/{receipt_id}"] == 3
    # given a confirm answered 5xx: never repeated blindly
    held = bootpay.pay(price=1000, separately_confirmed=True)
    bootpay.control("PUT", "/faults", json={"error_rate": 1.0, "endpoints": ["POST /v2/confirm"]})
    with pytest.raises(DomainError) as confirm_failed:
        await basic_client(bootpay, http).confirm(held["receipt_id"])
    assert confirm_failed.value.code == "BOOTPAY_UNAVAILABLE"
    assert stats(bootpay)["POST /v2/confirm"] == 1


async def test_the_token_is_shared_cached_and_renewed(bootpay: Bootpay, http: httpx.AsyncClient) -> None:
    client = token_client(bootpay, http)
    receipts = [bootpay.pay(price=1000 + i)["receipt_id"] for i in range(10)]
    # when ten lookups start at once on a cold client: one token serves them all
    payments = await asyncio.gather(*(client.get_payment(r) for r in receipts))
    assert [p.amount for p in payments] == [1000 + i for i in range(10)]
    assert stats(bootpay)["POST /v2/request/token"] == 1
    # when Bootpay's 30 minutes pass (our clock says the token still lives): the 401 renews it once
    bootpay.control("POST", "/clock", json={"advance_s": 1801})
    again = await client.get_payment(receipts[0])
    assert again.status == st.PAID
    assert stats(bootpay)["POST /v2/request/token"] == 2
    # and a revoked token (the fault) the same way
    bootpay.control("PUT", "/faults", json={"token_expired": True})
    assert (await client.get_payment(receipts[1])).amount == 1001
    assert stats(bootpay)["POST /v2/request/token"] == 3
    # a Basic client never asks for a token
    await basic_client(bootpay, http).get_payment(receipts[2])
    assert stats(bootpay)["POST /v2/request/token"] == 3


def test_no_credentials_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        BootpayClient(httpx.AsyncClient(), base_url="http://127.0.0.1:9/v2", client_key="ck")
