"""The API over real HTTP with the Bootpay emulator (and the PortOne one) over real HTTP, for the
Bootpay charge tests: import the fixtures into a test module.

    from tests.schema.bootpay_api import bootpay_api, bootpay, bootpay_session  # noqa: F401
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import GQL, SandboxControl, api_settings
from tests.sandbox.bootpay import Bootpay, bootpay, bootpay_session  # noqa: F401 - fixtures
from tests.servers import run_server

PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a, gateway: BOOTPAY) { _id gateway version merchantUid amount status receiptId } }"
CHARGE = "mutation($r: ID!) { createPointTransactionOfLoading(receiptId: $r) { _id impUid amount balance status statusDetail gateway } }"
CANCEL = """mutation($r: ID!, $a: Int, $acc: RefundAccountInput) {
  cancelPointTransaction(receiptId: $r, amount: $a, refundAccount: $acc) { amount balance status gateway impUid }
}"""
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"


@dataclass
class BootpayAPI:
    gql: GQL
    bootpay: Bootpay
    url: str

    async def __call__(self, query: str, variables: dict | None = None, **kw: object) -> dict:
        return await self.gql(query, variables, **kw)

    async def as_another_user(self, email: str) -> GQL:
        other = GQL(self.gql.client)
        await other.signup_and_login(email=email)
        return other

    async def prepare(self, amount: int, gql: GQL | None = None) -> dict:
        result = await (gql or self.gql)(PREPARE, {"a": amount})
        assert "errors" not in result, result
        return result["data"]["preparePointCharge"]

    async def charge(self, receipt_id: str, gql: GQL | None = None) -> dict:
        return await (gql or self.gql)(CHARGE, {"r": receipt_id})

    async def balance(self, gql: GQL | None = None) -> int:
        return (await (gql or self.gql)(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]

    async def balance_becomes(self, expected: int, *, timeout_s: float = 10.0) -> int:
        """The balance once a webhook has had time to move it (or the last one seen)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            current = await self.balance()
            if current == expected or asyncio.get_running_loop().time() > deadline:
                return current
            await asyncio.sleep(0.05)

    def send_webhooks_here(self) -> None:
        self.bootpay.config.webhook_url = self.url + "/webhooks/bootpay"


def bootpay_settings(bp: Bootpay) -> dict[str, object]:
    cfg = bp.config
    return {
        "bootpay_base_url": bp.v2,
        "bootpay_client_key": cfg.client_key,
        "bootpay_secret_key": cfg.secret_key,
        "bootpay_web_application_id": cfg.application_id,
        "bootpay_timeout_s": 2.0,
        # Only saves Bootpay calls (every sync is idempotent); short, so that an issue-then-deposit
        # pair of webhooks does not wait out the window.
        "webhook_dedup_s": 0.2,
    }


@pytest.fixture
async def bootpay_api(clean_db: str, sandbox: SandboxControl, bootpay: Bootpay) -> AsyncIterator[BootpayAPI]:  # noqa: F811
    """The API (both gateways on) over real HTTP; the emulator sends no webhooks until asked."""
    from api.app import create_app

    with run_server(create_app(api_settings(clean_db, sandbox, **bootpay_settings(bootpay)))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield BootpayAPI(GQL(http), bootpay, url)
