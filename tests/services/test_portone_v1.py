"""The V1 client against the sandbox over real HTTP: token caching, single flight, retries, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.errors import DomainError
from services.gateways.portone.v1 import PortOneV1Client
from tests.conftest import SandboxControl


def client_for(sandbox: SandboxControl, http: httpx.AsyncClient, **kw: object) -> PortOneV1Client:
    cfg = sandbox.config
    return PortOneV1Client(
        http,
        base_url=f"{sandbox.base_url}/v1",
        imp_key=kw.pop("imp_key", cfg.imp_key),  # type: ignore[attr-defined,arg-type]
        imp_secret=cfg.imp_secret,  # type: ignore[attr-defined]
        timeout_s=kw.pop("timeout_s", 2.0),  # type: ignore[arg-type]
    )


async def test_concurrent_callers_share_one_token(sandbox: SandboxControl) -> None:
    # given 20 payments and a cold client
    payments = [await sandbox.pay(1000 + i) for i in range(20)]
    async with httpx.AsyncClient() as http:
        client = client_for(sandbox, http)
        await sandbox.http.delete("/_control/stats")
        # when 20 verifications start at once
        fetched = await asyncio.gather(*(client.get_payment(p["imp_uid"]) for p in payments))
    # then one token request served them all, and amounts are ints
    stats = await sandbox.stats()
    assert stats["POST /v1/users/getToken"] == 1
    assert stats["GET /v1/payments/{imp_uid}"] == 20
    assert [f.amount for f in fetched] == [1000 + i for i in range(20)]
    assert all(isinstance(f.amount, int) and f.status == "paid" for f in fetched)


async def test_revoked_token_is_refreshed_once(sandbox: SandboxControl) -> None:
    paid = await sandbox.pay(1000)
    async with httpx.AsyncClient() as http:
        client = client_for(sandbox, http)
        await client.get_payment(paid["imp_uid"])
        await sandbox.faults(token_expired=True)
        await sandbox.http.delete("/_control/stats")
        again = await client.get_payment(paid["imp_uid"])
    assert again.payment_key == paid["imp_uid"]
    stats = await sandbox.stats()
    assert stats["POST /v1/users/getToken"] == 1
    assert stats["GET /v1/payments/{imp_uid}"] == 2  # the 401, then the retry


async def test_reads_are_retried_on_5xx_but_cancels_are_not(sandbox: SandboxControl) -> None:
    paid = await sandbox.pay(1000)
    async with httpx.AsyncClient() as http:
        client = client_for(sandbox, http)
        await client.get_payment(paid["imp_uid"])  # warm the token
        await sandbox.faults(error_rate=1.0)
        await sandbox.http.delete("/_control/stats")
        with pytest.raises(DomainError) as read_error:
            await client.get_payment(paid["imp_uid"])
        with pytest.raises(DomainError) as cancel_error:
            await client.cancel(paid["imp_uid"], amount=1000, checksum=1000, reason="t", request_id="r1")
    assert read_error.value.code == cancel_error.value.code == "PORTONE_UNAVAILABLE"
    stats = await sandbox.stats()
    assert stats["GET /v1/payments/{imp_uid}"] == 3  # first try + 2 retries
    assert stats["POST /v1/payments/cancel"] == 1  # never blindly repeated


async def test_wrong_keys_are_unavailable_not_a_crash(sandbox: SandboxControl) -> None:
    async with httpx.AsyncClient() as http:
        client = client_for(sandbox, http, imp_key="wrong")
        with pytest.raises(DomainError) as exc:
            await client.get_payment("imp_123412341234")
    assert exc.value.code == "PORTONE_UNAVAILABLE"


async def test_unknown_payment_is_not_found(sandbox: SandboxControl) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(DomainError) as exc:
            await client_for(sandbox, http).get_payment("imp_999999999999")
    assert exc.value.code == "PAYMENT_NOT_FOUND"


async def test_partial_cancel_is_reported_as_such(sandbox: SandboxControl) -> None:
    paid = await sandbox.pay(10000)
    async with httpx.AsyncClient() as http:
        client = client_for(sandbox, http)
        partial = await client.cancel(paid["imp_uid"], amount=3000, checksum=10000, reason="부분", request_id="r")
        assert (partial.status, partial.cancelled_amount, partial.cancellable_amount) == ("partially_cancelled", 3000, 7000)
        # a stale checksum is refused by PortOne: a retried cancel cannot refund twice
        with pytest.raises(DomainError):
            await client.cancel(paid["imp_uid"], amount=3000, checksum=10000, reason="부분", request_id="r")
        full = await client.cancel(paid["imp_uid"], amount=7000, checksum=7000, reason="전액", request_id="r2")
    assert (full.status, full.cancelled_amount) == ("cancelled", 10000)
