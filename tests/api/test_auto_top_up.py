"""Auto top-up (issue 25): the API over real HTTP against the PortOne sandbox over real HTTP; cards
issued as a browser would; purchases made as users make them. The runner's job (``run_due``) runs
in the test's own loop on services built as the CLI builds them (tests/api/topup_shop.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from api.app import create_app
from services.billing.topup_rows import month_of
from services.models import AutoTopUp, AutoTopUpCharge, AutoTopUpMonth, Order, utcnow
from services.orders import new_order_key
from tests.api.test_payment_cards import register_card
from tests.api.topup_shop import (
    BUY, CONFIG, DELETE, FETCH, PENDING, SET, TOPUPS, auto, balance_of, runner, settled, shop, topup_payments,
    topup_settings,
)
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code
from tests.servers import run_server


@pytest.fixture
async def topup_api(clean_db: str, sandbox: SandboxControl) -> AsyncIterator[GQL]:
    """The API with auto top-up turned on (the server switch)."""
    with run_server(create_app(topup_settings(clean_db, sandbox))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield GQL(http)


async def test_off_by_default(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a server with default settings and a buyer with a card
    s = await shop(api, sandbox)
    # then the switch is off and the setting is refused with a clear code
    assert (await api(CONFIG))["data"]["fetchPointChargeConfig"]["autoTopUpAvailable"] is False
    refused = await api(SET, {"c": s.card_id, "t": 5000, "a": 10000, "l": 30000, "e": True})
    assert error_code(refused) == "AUTO_TOPUP_UNAVAILABLE"
    assert (await api(FETCH))["data"]["fetchPointAutoTopUp"] is None
    # when a purchase leaves the balance low, even with enabled settings written behind the API's back
    async with runner(api_settings(clean_db, sandbox)) as services:
        async with services.auto_topups.db.transaction() as tx:  # type: ignore[union-attr]
            tx.add(AutoTopUp(user_id=s.buyer_id, card_id=s.card_id, enabled=True, threshold=5000, amount=10000,
                             monthly_limit=30000))
    assert "errors" not in await s.buy(9_000)
    await settled(clean_db, 0)
    # then nothing is charged
    assert await count_rows(clean_db, TOPUPS) == 0 and await topup_payments(sandbox) == []
    assert await balance_of(clean_db, s.buyer_id) == 1_000


async def test_a_purchase_under_the_threshold_tops_up_once(
    topup_api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a buyer with 10,000 points, auto top-up of 10,000 under 5,000, and a slow PortOne
    s = await shop(topup_api, sandbox)
    assert (await topup_api(CONFIG))["data"]["fetchPointChargeConfig"]["autoTopUpAvailable"] is True
    view = await auto(s)
    assert view == {"enabled": True, "paymentCard": {"_id": s.card_id}, "threshold": 5000, "amount": 10000,
                    "monthlyLimit": 30000, "chargedThisMonth": 0, "lastFailureReason": None}
    item = await s.item(6_000)
    await sandbox.faults(latency_ms=1500, endpoints=["POST /v1/subscribe/payments/again"])
    # when a purchase leaves 4,000
    started = time.monotonic()
    bought = await s.buyer(BUY, {"id": item})
    took = time.monotonic() - started
    # then the purchase answered without waiting for the card charge
    assert "errors" not in bought, bought
    assert took < 1.2, took
    await settled(clean_db, 1)
    await sandbox.clear_faults()
    # and one top-up was charged and credited: 4,000 + 10,000
    assert [(p["status"], p["amount"]) for p in await topup_payments(sandbox)] == [("paid", 10_000)]
    assert await balance_of(clean_db, s.buyer_id) == 14_000
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status = '구매'") == 1
    fetched = (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"]
    assert fetched["chargedThisMonth"] == 10_000 and fetched["lastFailureReason"] is None
    # when a purchase leaves the balance above the threshold
    assert "errors" not in await s.buy(1_000)
    await settled(clean_db, 1)
    # then nothing more is charged
    assert await count_rows(clean_db, TOPUPS) == 1 and len(await topup_payments(sandbox)) == 1


async def test_two_concurrent_purchases_make_one_top_up(
    topup_api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given auto top-up of 10,000 under 5,000, a balance of 10,000 and PortOne answering slowly
    s = await shop(topup_api, sandbox)
    await auto(s)
    first, second = await s.item(3_000), await s.item(3_000)
    await sandbox.faults(latency_ms=500, endpoints=["POST /v1/subscribe/payments/again"])
    # when two purchases land together (4,000 left)
    results = await asyncio.gather(s.buyer(BUY, {"id": first}), s.buyer(BUY, {"id": second}))
    assert all("errors" not in r for r in results), results
    await settled(clean_db, 1)
    await sandbox.clear_faults()
    # then one top-up
    assert await count_rows(clean_db, TOPUPS) == 1
    assert len(await topup_payments(sandbox)) == 1
    assert await balance_of(clean_db, s.buyer_id) == 14_000


async def test_the_monthly_cap_stops_top_ups(topup_api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given auto top-up of 5,000 under 5,000, at most 10,000 a month
    s = await shop(topup_api, sandbox)
    await auto(s, amount=5_000, limit=10_000)
    # when three purchases each leave the balance under the threshold
    for expected_topups in (1, 2):
        assert "errors" not in await s.buy(6_000)
        await settled(clean_db, expected_topups)
    assert "errors" not in await s.buy(6_000)
    await settled(clean_db, 3, timeout_s=1.5)
    # then two top-ups, the cap's worth, and the third purchase went through without one
    assert await count_rows(clean_db, TOPUPS) == 2
    assert [p["status"] for p in await topup_payments(sandbox)] == ["paid", "paid"]
    assert await balance_of(clean_db, s.buyer_id) == 10_000 - 18_000 + 10_000
    assert (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"]["chargedThisMonth"] == 10_000


async def test_a_decline_is_recorded_and_pauses_top_ups(topup_api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given auto top-up on a card that is declined (한도초과)
    s = await shop(topup_api, sandbox, decline=True)
    await auto(s)
    # when a purchase leaves the balance under the threshold
    assert "errors" not in await s.buy(6_000)
    await settled(clean_db, 1)
    # then the top-up is declined: no points, the reason kept, the cap given back
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'declined'") == 1
    assert [p["status"] for p in await topup_payments(sandbox)] == ["failed"]
    assert await balance_of(clean_db, s.buyer_id) == 4_000
    fetched = (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"]
    assert fetched["lastFailureReason"] == "한도초과" and fetched["chargedThisMonth"] == 0
    # when another purchase follows at once
    assert "errors" not in await s.buy(1_000)
    await settled(clean_db, 2, timeout_s=1.5)
    # then no new attempt (paused)
    assert await count_rows(clean_db, TOPUPS) == 1
    # when the user saves the settings again, then buys
    assert (await auto(s))["lastFailureReason"] is None
    assert "errors" not in await s.buy(1_000)
    await settled(clean_db, 2)
    # then one new attempt
    assert await count_rows(clean_db, TOPUPS) == 2 and len(await topup_payments(sandbox)) == 2
    assert await balance_of(clean_db, s.buyer_id) == 2_000


async def test_settings_are_validated_and_someone_elses_card_refused(
    topup_api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a buyer with a card, and another user with theirs
    s = await shop(topup_api, sandbox)
    other = GQL(topup_api.client)
    await other.signup_and_login("third@example.com")
    other_card = await register_card(other, sandbox)

    async def code(card: str | None, t: int, a: int, lim: int, e: bool = True) -> str | None:
        return error_code(await topup_api(SET, {"c": card, "t": t, "a": a, "l": lim, "e": e}))

    # then someone else's card is not found, and bad amounts are refused
    assert await code(other_card, 5000, 10000, 30000) == "PAYMENT_CARD_NOT_FOUND"
    assert await code("0" * 32, 5000, 10000, 30000) == "PAYMENT_CARD_NOT_FOUND"
    assert await code(s.card_id, 5000, 1234, 30000) == "BAD_USER_INPUT"  # not one of the packages
    assert await code(s.card_id, -1, 10000, 30000) == "BAD_USER_INPUT"
    assert await code(s.card_id, 5000, 10000, 5000) == "BAD_USER_INPUT"  # cap under the amount
    assert await code(None, 5000, 10000, 30000) == "BAD_USER_INPUT"  # no card chosen yet
    assert (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"] is None
    # and disabled settings without a card are kept
    assert await code(None, 0, 1000, 1000, e=False) is None
    # and a caller without a login reads and writes nothing
    anonymous = GQL(topup_api.client)
    assert error_code(await anonymous(FETCH)) == "UNAUTHENTICATED"
    assert error_code(await anonymous(SET, {"c": s.card_id, "t": 0, "a": 1000, "l": 1000, "e": True})) == "UNAUTHENTICATED"


async def test_deleting_the_card_turns_auto_top_up_off(topup_api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given auto top-up on a card
    s = await shop(topup_api, sandbox)
    await auto(s)
    # when the card is deleted, then a purchase leaves the balance low
    assert (await s.buyer(DELETE, {"c": s.card_id}))["data"]["deletePaymentCard"] == s.card_id
    assert "errors" not in await s.buy(6_000)
    await settled(clean_db, 0)
    # then auto top-up is off, without a card, and nothing was charged
    fetched = (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"]
    assert fetched["enabled"] is False and fetched["paymentCard"] is None
    assert await count_rows(clean_db, TOPUPS) == 0 and await topup_payments(sandbox) == []
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_months") == 0  # nothing written
    # and it cannot be enabled again on the deleted card
    again = await s.buyer(SET, {"c": None, "t": 5000, "a": 10000, "l": 30000, "e": True})
    assert error_code(again) == "PAYMENT_CARD_NOT_FOUND"


async def test_run_due_finishes_a_top_up_a_dead_process_left(
    topup_api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given auto top-up on, and what a process that died right after starting a top-up leaves:
    # the counter raised, the order and the pending row committed, nothing asked of PortOne
    s = await shop(topup_api, sandbox)
    await auto(s)
    now = utcnow()
    order = Order(provider="portone_v1", order_key=new_order_key().replace("pc_", "pca_", 1), user_id=s.buyer_id,
                  amount=10_000)
    settings = topup_settings(clean_db, sandbox)
    async with runner(settings) as services:
        async with services.auto_topups.db.transaction() as tx:  # type: ignore[union-attr]
            tx.add(order)
            tx.add(AutoTopUpMonth(user_id=s.buyer_id, month=month_of(now), charged=10_000, count=1))
            await tx.flush()
            tx.add(AutoTopUpCharge(
                user_id=s.buyer_id, month=month_of(now), seq=1, order_id=order.id, card_id=s.card_id, amount=10_000,
                state="pending", attempts=1, next_attempt_at=now + timedelta(seconds=35),
            ))
        # when a runner runs before the dead process's lease is over, then two runners (as two
        # processes: their own engines and HTTP clients) race after it, then one runs again
        early = await services.auto_topups.run_due(now)  # type: ignore[union-attr]
        async with runner(settings) as other:
            raced = await asyncio.gather(
                services.auto_topups.run_due(now + timedelta(minutes=1)),  # type: ignore[union-attr]
                other.auto_topups.run_due(now + timedelta(minutes=1)),  # type: ignore[union-attr]
            )
        again = await services.auto_topups.run_due(now + timedelta(minutes=10))  # type: ignore[union-attr]
    # then it waited, then one runner charged and credited it once; the counter was not raised again
    assert (early, sorted(raced), again) == (0, [0, 1], 0)
    assert [(p["status"], p["merchant_uid"]) for p in await topup_payments(sandbox)] == [("paid", order.order_key)]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'paid'") == 1
    assert await balance_of(clean_db, s.buyer_id) == 20_000
    assert (await topup_api(FETCH))["data"]["fetchPointAutoTopUp"]["chargedThisMonth"] == 10_000


async def test_a_lost_answer_is_found_at_portone_by_the_runner(
    topup_api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given auto top-up on, and PortOne charging but its answer lost (a timeout after processing)
    s = await shop(topup_api, sandbox)
    await auto(s)
    await sandbox.faults(timeout_rate=1.0, timeout_s=5, process_before_fault=True,
                         endpoints=["POST /v1/subscribe/payments/again"])
    # when a purchase triggers a top-up
    assert "errors" not in await s.buy(6_000)
    unknown = "SELECT COUNT(*) FROM card_charges WHERE state = 'unknown'"
    for _ in range(200):
        if await count_rows(clean_db, unknown) == 1:
            break
        await asyncio.sleep(0.05)
    await sandbox.clear_faults()
    # then the top-up waits, pending, with no points yet (PortOne holds a paid payment)
    assert await count_rows(clean_db, PENDING) == 1
    assert await balance_of(clean_db, s.buyer_id) == 4_000
    assert [p["status"] for p in await topup_payments(sandbox)] == ["paid"]
    # when the runner runs later
    async with runner(topup_settings(clean_db, sandbox)) as services:
        taken = await services.auto_topups.run_due(utcnow() + timedelta(hours=2))  # type: ignore[union-attr]
    # then it found the payment at PortOne and credited it, charging nothing more
    assert taken == 1
    assert [p["status"] for p in await topup_payments(sandbox)] == ["paid"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM auto_top_up_charges WHERE state = 'paid'") == 1
    assert await balance_of(clean_db, s.buyer_id) == 14_000
