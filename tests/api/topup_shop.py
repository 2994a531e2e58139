"""Helpers of the auto top-up tests (tests/api/test_auto_top_up*.py): a shop with a seller and a
buyer who has points and a saved card, made through the API; the billing runner's services built
as the CLI builds them, in the test's own loop; waits on the background top-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.app import build_services, open_database, portone_http
from schema.app_services import Services
from services.settings import Settings
from tests.api.test_payment_cards import register_card, second_user
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, ledger_invariants

SET = (
    "mutation($c: ID, $t: Int!, $a: Int!, $l: Int!, $e: Boolean!) { setPointAutoTopUp(paymentCardId: $c,"
    " threshold: $t, amount: $a, monthlyLimit: $l, enabled: $e) { enabled paymentCard { _id } threshold amount"
    " monthlyLimit chargedThisMonth lastFailureReason } }"
)
FETCH = "{ fetchPointAutoTopUp { enabled paymentCard { _id } threshold amount monthlyLimit chargedThisMonth lastFailureReason } }"
CONFIG = "{ fetchPointChargeConfig { autoTopUpAvailable } }"
LOAD = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { balance } }"
CREATE = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id } }"
BUY = "mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { _id } }"
DELETE = "mutation($c: ID!) { deletePaymentCard(paymentCardId: $c) }"
TOPUPS = "SELECT COUNT(*) FROM auto_top_up_charges"
PENDING = "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'pending'"


def topup_settings(database_url: str, sandbox: SandboxControl, **overrides: object) -> Settings:
    return api_settings(database_url, sandbox, auto_topup_enabled=True, **overrides)


@asynccontextmanager
async def runner(settings: Settings) -> AsyncIterator[Services]:
    """The services as `pointcharge billing run` builds them, in this loop."""
    db = open_database(settings)
    http = portone_http(settings)
    try:
        yield build_services(settings, db, http)
    finally:
        await http.aclose()
        await db.dispose()


class Shop:
    """A seller listing items, a buyer with points and a saved card."""

    def __init__(self, buyer: GQL, seller: GQL, sandbox: SandboxControl) -> None:
        self.buyer, self.seller, self.sandbox = buyer, seller, sandbox
        self.buyer_id = ""
        self.card_id = ""

    async def item(self, price: int) -> str:
        item = {"name": "중고 상품", "remarks": "요약", "contents": "설명", "price": price}
        created = await self.seller(CREATE, {"i": item})
        return created["data"]["createUseditem"]["_id"]

    async def buy(self, price: int) -> dict:
        return await self.buyer(BUY, {"id": await self.item(price)})


async def shop(api: GQL, sandbox: SandboxControl, *, balance: int = 10_000, decline: bool = False) -> Shop:
    s = Shop(api, await second_user(api), sandbox)
    s.buyer_id = await api.signup_and_login("buyer@example.com")
    paid = await sandbox.pay(balance)
    assert (await api(LOAD, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]["balance"] == balance
    s.card_id = await register_card(api, sandbox, decline=decline)
    return s


async def auto(s: Shop, *, threshold: int = 5_000, amount: int = 10_000, limit: int = 30_000) -> dict:
    result = await s.buyer(SET, {"c": s.card_id, "t": threshold, "a": amount, "l": limit, "e": True})
    assert "errors" not in result, result
    return result["data"]["setPointAutoTopUp"]


async def settled(database_url: str, total: int, *, timeout_s: float = 20.0) -> None:
    """Waits until ``total`` top-ups exist and none is in flight, then a moment for stragglers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await count_rows(database_url, TOPUPS) >= total and await count_rows(database_url, PENDING) == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a second trigger, if any, would have made its row by now


async def topup_payments(sandbox: SandboxControl) -> list[dict]:
    listed = (await sandbox.http.get("/_control/payments")).json()
    return [p["payment"] for p in listed if str(p["payment"].get("merchant_uid", "")).startswith("pca_")]


async def balance_of(database_url: str, user_id: str) -> int:
    return (await ledger_invariants(database_url))[user_id]
