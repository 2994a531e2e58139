"""Monthly subscriptions on PortOne V2 and Bootpay cards (issue 25; test_point_subscriptions.py covers
V1): the API over real HTTP against the sandboxes over real HTTP, and the runner
(``BillingRunner.run(at)``, what ``pointcharge billing run --at`` calls) on the same database.

Neither sandbox turns an issued key into a declining one, so "the card starts declining after month
1" is a declining key issued for the same customer put in the card's row (payment_cards.customer_uid
holds the gateway's key): what a card over its limit looks like to us."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import httpx

from api.app import create_app
from api.runtime import runtime
from tests.api.test_payment_cards_bootpay import issue as issue_bootpay
from tests.api.test_payment_cards_bootpay import receipts_of
from tests.api.test_payment_cards_bootpay import register_card as register_bootpay
from tests.api.test_payment_cards_v2 import PAY, issue_key, portone, register_card
from tests.api.test_payment_cards_v2 import second_user as second_user_v2
from tests.api.test_point_subscriptions import CANCEL, CREATE, LIST
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants
from tests.api.topup_shop import LOAD, Shop, auto, balance_of, settled, topup_settings
from tests.sandbox.bootpay import Bootpay
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session, bootpay_settings  # noqa: F401
from tests.servers import run_server

DELETE = "mutation($c: ID!) { deletePaymentCard(paymentCardId: $c) }"


def at_(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def run_billing(clean_db: str, sandbox: SandboxControl, at: datetime, **settings: object) -> dict[str, int]:
    async with runtime(api_settings(clean_db, sandbox, billing_every=0, **settings)) as (services, _db):
        assert services.billing is not None
        return (await services.billing.run(at))["subscriptions"]


async def swap_key(clean_db: str, card_id: str, key: str) -> None:
    engine = create_async_engine(clean_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE payment_cards SET customer_uid = :k WHERE id = :c"), {"k": key, "c": card_id})
    finally:
        await engine.dispose()


async def only_sub(api: GQL | BootpayAPI) -> dict:
    [sub] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    return sub


# --- PortOne V2 ---------------------------------------------------------------------------------


async def test_v2_subscribe_then_month_two_once(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with a V2 card
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    # when they subscribe
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    # then month 1 is charged at PortOne V2 under the attempt's paymentId and credited
    assert sub["status"] == "ACTIVE" and sub["paymentCard"] == {"_id": card_id}
    assert (await portone(sandbox, "GET", f"/payments/ps_{sub['_id']}_c1_a1"))["status"] == "PAID"
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    due = at_(sub["nextChargeAt"])
    # when the runner runs a month later, twice
    first = await run_billing(clean_db, sandbox, due + timedelta(seconds=1))
    again = await run_billing(clean_db, sandbox, due + timedelta(seconds=1))
    # then cycle 2 is charged once and credited once
    assert first == {"claimed": 1, "paid": 1} and again.get("claimed", 0) == 0
    assert (await portone(sandbox, "GET", f"/payments/ps_{sub['_id']}_c2_a1"))["status"] == "PAID"
    assert (await sandbox.stats()).get(PAY, 0) == 2
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    after = await only_sub(api)
    assert after["status"] == "ACTIVE" and at_(after["nextChargeAt"]) > due + timedelta(days=27)


async def test_v2_declined_first_month_and_declined_renewal(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with a V2 card over its limit
    user_id = await api.signup_and_login()
    bad = await register_card(api, sandbox, action="limit")
    # when they subscribe with it: CARD_DECLINED with the reason, no subscription, no points
    refused = await api(CREATE, {"c": bad, "a": 5000})
    assert error_code(refused) == "CARD_DECLINED" and refused["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert (await api(LIST))["data"]["fetchPointSubscriptions"] == []
    # given a good card subscribed, which starts declining after month 1
    good = await register_card(api, sandbox)
    sub = (await api(CREATE, {"c": good, "a": 5000}))["data"]["createPointSubscription"]
    await swap_key(clean_db, good, await issue_key(sandbox, user_id, decline=True))
    # when month 2 is run
    assert await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"])) == {"claimed": 1, "declined": 1}
    # then PAST_DUE with the card company's reason, nothing more credited, the FAILED payment recorded
    state = await only_sub(api)
    assert state["status"] == "PAST_DUE" and state["lastFailureReason"] == "한도초과"
    assert (await portone(sandbox, "GET", f"/payments/ps_{sub['_id']}_c2_a1"))["status"] == "FAILED"
    assert list((await ledger_invariants(clean_db)).values()) == [5000]
    # when the card is deleted: the subscription is cancelled, never charged again
    assert (await api(DELETE, {"c": good}))["data"]["deletePaymentCard"] == good
    state = await only_sub(api)
    assert state["status"] == "CANCELLED" and state["paymentCard"] is None and state["nextChargeAt"] is None
    assert (await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]) + timedelta(days=10))).get("claimed", 0) == 0


# --- Bootpay ------------------------------------------------------------------------------------


async def test_bootpay_subscribe_then_month_two_once(
    bootpay_api: BootpayAPI, sandbox: SandboxControl, clean_db: str
) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    card_id, _ = await register_bootpay(api)
    # when the user subscribes with a Bootpay card
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    # then month 1 is paid at Bootpay under the attempt's order_id and credited
    assert sub["status"] == "ACTIVE" and sub["paymentCard"] == {"_id": card_id}
    assert [r["status"] for r in receipts_of(api, f"ps_{sub['_id']}_c1_a1")] == [1]
    assert await ledger_invariants(clean_db) == {user_id: 10000}
    due = at_(sub["nextChargeAt"])
    # when the runner runs a month later, twice
    settings = bootpay_settings(api.bootpay)
    first = await run_billing(clean_db, sandbox, due + timedelta(seconds=1), **settings)
    again = await run_billing(clean_db, sandbox, due + timedelta(seconds=1), **settings)
    # then cycle 2 is charged once and credited once
    assert first == {"claimed": 1, "paid": 1} and again.get("claimed", 0) == 0
    assert len(receipts_of(api, f"ps_{sub['_id']}_c2_a1")) == 1
    assert await ledger_invariants(clean_db) == {user_id: 20000}
    assert (await only_sub(api))["status"] == "ACTIVE"


async def test_bootpay_declined_renewal_is_past_due_and_not_a_payment(
    bootpay_api: BootpayAPI, sandbox: SandboxControl, clean_db: str
) -> None:
    api = bootpay_api
    user_id = await api.gql.signup_and_login()
    # given a declining Bootpay card: the first month is CARD_DECLINED, no subscription
    bad, _ = await register_bootpay(api, decline=True)
    refused = await api(CREATE, {"c": bad, "a": 5000})
    assert error_code(refused) == "CARD_DECLINED" and refused["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert (await api(LIST))["data"]["fetchPointSubscriptions"] == []
    # given a good card subscribed, which starts declining after month 1
    good, _ = await register_bootpay(api)
    sub = (await api(CREATE, {"c": good, "a": 5000}))["data"]["createPointSubscription"]
    declining = issue_bootpay(api, None, decline=True)  # type: ignore[arg-type]
    await swap_key(clean_db, good, declining["billing_key"])
    # when month 2 is run
    settings = bootpay_settings(api.bootpay)
    assert await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]), **settings) == {"claimed": 1, "declined": 1}
    # then PAST_DUE with the reason; the decline (no receipt: payment_key "") is no payment of ours
    state = await only_sub(api)
    assert state["status"] == "PAST_DUE" and state["lastFailureReason"] == "한도초과"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE payment_key = ''") == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE status = 'paid'") == 1
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'declined' AND fail_reason = '한도초과'"
    ) == 2  # the first card's month 1 and this one's month 2
    assert await ledger_invariants(clean_db) == {user_id: 5000}
    # when the card is deleted: the subscription is cancelled, never charged again
    assert (await api(DELETE, {"c": good}))["data"]["deletePaymentCard"] == good
    state = await only_sub(api)
    assert state["status"] == "CANCELLED" and state["paymentCard"] is None
    later = at_(sub["nextChargeAt"]) + timedelta(days=10)
    assert (await run_billing(clean_db, sandbox, later, **settings)).get("claimed", 0) == 0
    assert await ledger_invariants(clean_db) == {user_id: 5000}


async def test_cancel_stops_v2_charges(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    card_id = await register_card(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    assert (await api(CANCEL, {"s": sub["_id"]}))["data"]["cancelPointSubscription"]["status"] == "CANCELLED"
    assert (await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]))).get("claimed", 0) == 0
    assert (await sandbox.stats()).get(PAY, 0) == 1


# --- auto top-up with V2 and Bootpay cards --------------------------------------------------------


async def _top_up_shop(api: GQL, sandbox: SandboxControl) -> Shop:
    s = Shop(api, (await second_user_v2(api))[0], sandbox)
    s.buyer_id = await api.signup_and_login("buyer@example.com")
    paid = await sandbox.pay(10_000)
    assert (await api(LOAD, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]["balance"] == 10_000
    return s


async def test_auto_top_up_with_a_v2_card(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(topup_settings(clean_db, sandbox))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            s = await _top_up_shop(GQL(http), sandbox)
            s.card_id = await register_card(s.buyer, sandbox)
            await auto(s)
            # when a purchase leaves 4,000 (under 5,000)
            assert "errors" not in await s.buy(6_000)
            await settled(clean_db, 1)
            # then the V2 card is charged 10,000 once and credited
            [order_key] = await _topup_keys(clean_db)
            assert (await portone(sandbox, "GET", f"/payments/{order_key}"))["status"] == "PAID"
            assert (await sandbox.stats()).get(PAY, 0) == 1
            assert await balance_of(clean_db, s.buyer_id) == 14_000


async def test_auto_top_up_with_a_bootpay_card(clean_db: str, sandbox: SandboxControl, bootpay: Bootpay) -> None:
    settings = topup_settings(clean_db, sandbox, **bootpay_settings(bootpay))
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            s = await _top_up_shop(GQL(http), sandbox)
            s.card_id, _ = await register_bootpay(BootpayAPI(s.buyer, bootpay, url))
            await auto(s)
            assert "errors" not in await s.buy(6_000)
            await settled(clean_db, 1)
            [order_key] = await _topup_keys(clean_db)
            assert [r["status"] for r in receipts_of(BootpayAPI(s.buyer, bootpay, url), order_key)] == [1]
            assert await balance_of(clean_db, s.buyer_id) == 14_000


async def _topup_keys(clean_db: str) -> list[str]:
    engine = create_async_engine(clean_db)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT o.order_key FROM auto_top_up_charges c JOIN orders o ON o.id = c.order_id WHERE c.state = 'paid'"))
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


# --- the balance cap: a charge that cannot be credited is refunded, whatever the gateway -------------


async def test_v2_renewal_past_the_cap_is_refunded(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(api_settings(clean_db, sandbox, balance_max=15000))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id = await register_card(api, sandbox)
            sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
            counts = await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]), balance_max=15000)
            month2 = await portone(sandbox, "GET", f"/payments/ps_{sub['_id']}_c2_a1")
            assert month2["status"] == "CANCELLED", month2
            assert counts == {"claimed": 1, "suspended": 1}
            assert list((await ledger_invariants(clean_db)).values()) == [10000]
            assert (await only_sub(api))["status"] == "SUSPENDED"


async def test_bootpay_renewal_past_the_cap_is_refunded(clean_db: str, sandbox: SandboxControl, bootpay: Bootpay) -> None:
    settings = dict(bootpay_settings(bootpay), balance_max=15000)
    with run_server(create_app(api_settings(clean_db, sandbox, **settings))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = BootpayAPI(GQL(http), bootpay, url)
            await api.gql.signup_and_login()
            card_id, _ = await register_bootpay(api)
            sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
            counts = await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]), **settings)
            [month2] = receipts_of(api, f"ps_{sub['_id']}_c2_a1")
            assert month2["status"] == 20 and month2.get("cancelled_price") == 10000, month2
            assert counts == {"claimed": 1, "suspended": 1}
            assert list((await ledger_invariants(clean_db)).values()) == [10000]
            assert (await only_sub(api))["status"] == "SUSPENDED"


async def test_subscribing_with_a_card_of_a_gateway_turned_off_leaves_nothing(
    bootpay_api: BootpayAPI, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a Bootpay card, and a server that no longer runs Bootpay (same database)
    await bootpay_api.gql.signup_and_login()
    card_id, _ = await register_bootpay(bootpay_api)
    with run_server(create_app(api_settings(clean_db, sandbox, bootpay_enabled=False))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            api.token = bootpay_api.gql.token
            # when the user subscribes with the card there
            got = await api(CREATE, {"c": card_id, "a": 10000})
            # then a clear error and no subscription holding the user's slot (nothing the runner retries forever)
            assert error_code(got) == "GATEWAY_DISABLED", got
            assert (await api(LIST))["data"]["fetchPointSubscriptions"] == []
            assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions WHERE status IN "
                                              "('CREATING', 'ACTIVE', 'PAST_DUE')") == 0
