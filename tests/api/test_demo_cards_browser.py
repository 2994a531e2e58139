"""카드 / 정기 충전 on the checkout demo page (issue 25), in headless Chromium against the real API over
HTTP with its mounted PortOne sandbox (the page loads /sandbox/portone/iamport.js).

카드 등록: preparePaymentCard → the sandbox window IMP.request_pay({customer_uid, amount: 0}) → 승인 →
registerPaymentCard; 원클릭 충전 charges the card without a window (a double click charges once);
a card that registers but is declined ("한도초과", issued through the sandbox's control API as a
buyer's over-limit card would be) shows the card company's reason, credits nothing; 삭제 removes a
card. 정기 충전 (when the server has subscriptions): subscribe charges month 1, 해지 cancels.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest

from tests.api.test_demo_browser import (  # noqa: F401 - fixtures
    browser,
    context,
    demo_url,
    open_demo,
    run_async,
    screenshot,
    sign_up,
)
from tests.conftest import ledger_invariants, make_settings

pytestmark = pytest.mark.browser

# The buyer registers an over-limit card: the key is issued (the control API, as the window would)
# and every charge with it is declined 한도초과.
OVER_LIMIT_CARD = """() => {
  const original = window.IMP.request_pay.bind(window.IMP);
  window.IMP.request_pay = (params, callback) => {
    if (!params.customer_uid) return original(params, callback);
    fetch("/sandbox/portone/_control/billing-keys", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({version: "v1", customer_uid: params.customer_uid, decline: true,
                            merchant_uid: params.merchant_uid, customer_name: params.buyer_name})
    }).then((r) => r.json()).then((body) => callback({success: true, imp_uid: body.imp_uid,
                                                       merchant_uid: params.merchant_uid}));
  };
}"""


def card_charges(base: str) -> list[tuple[int, str]]:
    """(amount, status) of every billing-key charge PortOne holds (the 0-won issuances left out)."""
    rows = [r["payment"] for r in httpx.get(f"{base}/sandbox/portone/_control/payments", timeout=10).json()]
    return sorted((p["amount"], p["status"]) for p in rows if p.get("customer_uid") and p["amount"] > 0)


def register_card_in_window(page) -> None:
    from playwright.sync_api import expect

    page.click("#btn-add-card")
    frame = page.frame_locator("iframe.imp-sandbox-frame")
    expect(frame.locator("#order-amount")).to_have_text("0원")
    frame.locator("#btn-approve").click()
    expect(page.locator("#message")).to_have_text("카드를 등록했습니다: 신한카드 536181******1234")


def test_register_one_click_charge_decline_and_delete(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    cards = page.locator("#card-list li")
    try:
        sign_up(page)
        expect(page.locator("#cards-empty")).to_be_visible()
        expect(page.locator("#btn-card-charge")).to_be_disabled()

        # when the buyer closes the window: nothing registered
        page.click("#btn-add-card")
        page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-cancel").click()
        expect(message).to_have_text("카드 등록을 취소했습니다.")
        expect(cards).to_have_count(0)

        # when a card is registered in the window: listed, masked, picked
        register_card_in_window(page)
        expect(cards).to_have_count(1)
        expect(cards.first).to_contain_text("신한카드")
        expect(cards.first.locator("input[type=radio]")).to_be_checked()

        # when 10,000 is charged with one (double) click: no window, one charge, the balance up
        page.click('#card-packages .card-package[data-amount="10000"]')
        charge = page.get_by_role("button", name="10,000원 카드로 충전하기")
        charge.dblclick()
        expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
        expect(balance).to_have_text("10,000")
        expect(page.locator('#history-rows tr[data-status="충전"]')).to_have_count(1)
        expect(charge).to_be_enabled()
        assert card_charges(base) == [(10000, "paid")]
        screenshot(page, "cards-charged")

        # given an over-limit card registered next (picked, as the newest)
        page.evaluate(OVER_LIMIT_CARD)
        page.click("#btn-add-card")
        expect(message).to_have_text("카드를 등록했습니다: 신한카드 400000******0002")
        expect(cards).to_have_count(2)
        declining = page.locator("#card-list li", has_text="400000******0002")
        expect(declining.locator("input[type=radio]")).to_be_checked()
        # when it is charged: the card company's reason, no points
        page.click('#card-packages .card-package[data-amount="5000"]')
        page.get_by_role("button", name="5,000원 카드로 충전하기").click()
        expect(message).to_have_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
        expect(message).to_have_class("message error")
        expect(balance).to_have_text("10,000")
        assert card_charges(base) == [(5000, "failed"), (10000, "paid")]
        screenshot(page, "cards-declined")

        # when the declining card is deleted: the other one stays and is picked
        declining.get_by_role("button", name="신한카드 400000******0002 삭제").click()
        expect(message).to_have_text("카드를 삭제했습니다: 신한카드 400000******0002")
        expect(cards).to_have_count(1)
        expect(cards.first).to_contain_text("536181******1234")
        expect(cards.first.locator("input[type=radio]")).to_be_checked()
        # and the section fits a phone
        page.set_viewport_size({"width": 375, "height": 812})
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "cards-phone")
    except Exception:
        screenshot(page, "cards-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]


async def customer_uid_of(database_url: str, masked: str) -> str:
    """The customer_uid of the user's card with this masked number: a key re-issued under it with
    decline takes the old one's place at PortOne (the sandbox's control API)."""
    from sqlalchemy import select

    from services.models import PaymentCard

    async with engine_of(database_url) as conn:
        uid = (await conn.execute(select(PaymentCard.customer_uid).where(
            PaymentCard.card_number == masked, PaymentCard.status == "active"))).scalar_one()
    return uid


async def next_charge_of(database_url: str):
    """The one live subscription's next charge time, as the server has it."""
    from sqlalchemy import select

    from services.models import PointSubscription

    async with engine_of(database_url) as conn:
        live = PointSubscription.next_charge_at.is_not(None)  # type: ignore[union-attr]
        return (await conn.execute(select(PointSubscription.next_charge_at).where(live))).scalar_one()


@asynccontextmanager
async def engine_of(database_url: str):
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def run_billing(settings, at) -> dict[str, int]:
    """What `pointcharge billing run --at` does, against the same database and sandbox."""
    from api.runtime import runtime

    async with runtime(settings) as (services, _db):
        return (await services.billing.run(at))["subscriptions"]


def has_subscriptions(base: str) -> bool:
    r = httpx.post(f"{base}/graphql", json={"query": "{ __type(name: \"PointSubscription\") { name } }"}, timeout=10)
    return r.json()["data"]["__type"] is not None


def test_subscribe_then_cancel(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    if not has_subscriptions(base):
        pytest.skip("this server has no 정기 충전 (createPointSubscription) yet")
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    subs = page.locator("#sub-list li")
    try:
        sign_up(page)
        expect(page.locator("#subs-empty")).to_be_visible()
        register_card_in_window(page)
        page.evaluate(OVER_LIMIT_CARD)
        page.click("#btn-add-card")
        expect(message).to_have_text("카드를 등록했습니다: 신한카드 400000******0002")
        # when the over-limit card (picked) is subscribed: month 1 declined, no subscription
        page.click('#card-packages .card-package[data-amount="30000"]')
        subscribe = page.get_by_role("button", name="매월 30,000원 정기 충전 신청")
        subscribe.click()
        expect(message).to_have_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
        expect(page.locator("#subs-empty")).to_be_visible()
        expect(balance).to_have_text("0")
        # when 30,000 a month is subscribed with the other card: the first month is charged at once
        page.locator("#card-list li", has_text="536181******1234").get_by_role("radio").check()
        subscribe.click()
        expect(message).to_contain_text("정기 충전을 시작했습니다. 첫 달 30,000P가 충전되었고")
        expect(balance).to_have_text("30,000")
        expect(subs).to_have_count(1)
        expect(subs.first).to_have_attribute("data-status", "ACTIVE")
        expect(subs.first).to_contain_text("매월 30,000원")
        expect(subs.first.locator(".sub-status")).to_have_text("이용 중")
        expect(subs.first).to_contain_text("다음 충전")
        screenshot(page, "cards-subscribed")

        # when the card starts declining and month 2 is run: 결제 실패(재시도 예정) with the reason
        uid = run_async(customer_uid_of(database_url, "536181******1234"))
        r = httpx.post(f"{base}/sandbox/portone/_control/billing-keys",
                       json={"version": "v1", "customer_uid": uid, "decline": True}, timeout=10)
        assert r.status_code == 200, r.text
        next_at = run_async(next_charge_of(database_url))
        counts = run_async(run_billing(make_settings(database_url, public_url=base, portone_timeout_s=5.0), next_at))
        assert counts == {"claimed": 1, "declined": 1}
        page.reload()
        expect(subs.first).to_have_attribute("data-status", "PAST_DUE")
        expect(subs.first.locator(".sub-status")).to_have_text("결제 실패(재시도 예정)")
        expect(subs.first.locator(".sub-failure")).to_have_text("최근 실패 사유: 한도초과")
        expect(balance).to_have_text("30,000")
        screenshot(page, "cards-past-due")

        # when it is cancelled: 해지됨, no next charge, the points of month 1 stay
        subs.first.get_by_role("button", name="매월 30,000원 정기 충전 해지").click()
        expect(message).to_have_text("정기 충전을 해지했습니다. 다음 달부터 충전되지 않습니다.")
        expect(subs.first).to_have_attribute("data-status", "CANCELLED")
        expect(subs.first.locator(".sub-status")).to_have_text("해지됨")
        expect(subs.first).not_to_contain_text("다음 충전")
        expect(subs.first.get_by_role("button")).to_have_count(0)
        expect(balance).to_have_text("30,000")
    except Exception:
        screenshot(page, "cards-subscription-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [30000]  # type: ignore[union-attr]


def has_v2_cards(base: str) -> bool:
    query = '{ __type(name: "PaymentCardRequest") { fields { name } } }'
    fields = httpx.post(f"{base}/graphql", json={"query": query}, timeout=10).json()["data"]["__type"]["fields"]
    return any(f["name"] == "billingKeyMethod" for f in fields)


def test_a_v2_card_registers_in_the_v2_window_and_charges(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    if not has_v2_cards(base):
        pytest.skip("this server has no PortOne V2 cards (preparePaymentCard(version: V2)) yet")
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    cards = page.locator("#card-list li")
    try:
        sign_up(page)
        # given a server with V2 (a storeId): the 등록 방식 choice, V1 first
        versions = page.locator("#card-versions .card-version")
        expect(versions).to_have_text(["PortOne V1", "PortOne V2", "부트페이"])
        expect(versions.first).to_have_attribute("aria-checked", "true")
        # when a card is registered in PortOne.requestIssueBillingKey's window
        page.click('#card-versions .card-version[data-version="V2"]')
        page.click("#btn-add-card")
        frame = page.frame_locator("iframe.portone-sandbox-frame")
        frame.locator("#btn-approve").click()
        expect(message).to_contain_text("카드를 등록했습니다: ")
        expect(cards).to_have_count(1)
        expect(cards.first.locator(".card-tag")).to_have_text("V2")
        # when it is charged with one click: a V2 order, paid with the key
        page.click('#card-packages .card-package[data-amount="10000"]')
        page.get_by_role("button", name="10,000원 카드로 충전하기").click()
        expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
        expect(balance).to_have_text("10,000")
        # when the buyer registers a card over its limit in the window: issued, and declined on charge
        page.click("#btn-add-card")
        page.frame_locator("iframe.portone-sandbox-frame").locator("#btn-limit").click()
        expect(cards).to_have_count(2)
        page.click('#card-packages .card-package[data-amount="5000"]')
        page.get_by_role("button", name="5,000원 카드로 충전하기").click()
        expect(message).to_have_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
        expect(balance).to_have_text("10,000")
        screenshot(page, "cards-v2-declined")
    except Exception:
        screenshot(page, "cards-v2-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]


def has_bootpay_cards(base: str) -> bool:
    query = '{ __type(name: "PaymentCardRequest") { fields { name } } }'
    fields = httpx.post(f"{base}/graphql", json={"query": query}, timeout=10).json()["data"]["__type"]["fields"]
    return any(f["name"] == "subscriptionId" for f in fields)


def test_a_bootpay_card_registers_in_bootpays_window_and_charges(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    if not has_bootpay_cards(base):
        pytest.skip("this server has no Bootpay cards (preparePaymentCard(gateway: BOOTPAY)) yet")
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    cards = page.locator("#card-list li")
    try:
        sign_up(page)
        # when the buyer closes Bootpay's card window: nothing registered
        page.click('#card-versions .card-version[data-version="BOOTPAY"]')
        page.click("#btn-add-card")
        frame = page.frame_locator("#bootpay-sandbox-frame")
        frame.get_by_role("button", name="취소").click()
        expect(message).to_have_text("카드 등록을 취소했습니다.")
        expect(cards).to_have_count(0)
        # when a card is registered in Bootpay.requestSubscription's window
        page.click("#btn-add-card")
        page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="카드 등록").click()
        expect(message).to_contain_text("카드를 등록했습니다: ")
        expect(cards).to_have_count(1)
        expect(cards.first.locator(".card-tag")).to_have_text("부트페이")
        # when it is charged with one click: a Bootpay order, paid with the key
        page.click('#card-packages .card-package[data-amount="10000"]')
        page.get_by_role("button", name="10,000원 카드로 충전하기").click()
        expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
        expect(balance).to_have_text("10,000")
        expect(page.locator('#history-rows tr[data-status="충전"]')).to_have_attribute("data-gateway", "BOOTPAY")
        # when the buyer registers a card over its limit: issued, and declined with the reason on charge
        page.click("#btn-add-card")
        page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="한도초과 카드로 등록 (테스트)").click()
        expect(cards).to_have_count(2)
        page.click('#card-packages .card-package[data-amount="5000"]')
        page.get_by_role("button", name="5,000원 카드로 충전하기").click()
        expect(message).to_contain_text("카드 결제가 거절되었습니다: 한도초과")
        expect(balance).to_have_text("10,000")
        screenshot(page, "cards-bootpay-declined")
    except Exception:
        screenshot(page, "cards-bootpay-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]
