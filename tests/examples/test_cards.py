"""카드 / 정기 충전 in the example apps (issue 25), in headless Chromium against a real API over HTTP
with its mounted PortOne sandbox, the SDK and the checkout window proxied through `vite preview`.

카드 등록 in the sandbox window (IMP.request_pay with customer_uid, amount 0) → registerPaymentCard;
원클릭 충전 with a double click charges once and the balance goes up; an over-limit card (issued
through the sandbox's control API as the window would) is declined with the card company's reason
and credits nothing; 삭제 removes it. 정기 충전 (when the API has subscriptions): subscribe charges
month 1, 해지 cancels.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_demo_browser import run_async
from tests.api.test_demo_cards_browser import (
    OVER_LIMIT_CARD, card_charges, customer_uid_of, has_bootpay_cards, has_subscriptions, has_v2_cards, next_charge_of,
    run_billing,
)
from tests.conftest import ledger_invariants
from tests.examples.support import APPS, PHONE, fits, shot, sign_up

pytestmark = pytest.mark.browser


def register_card_in_window(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="카드 등록").click()
    frame = page.frame_locator("iframe.imp-sandbox-frame")
    expect(frame.locator("#order-amount")).to_have_text("0원")
    frame.locator("#btn-approve").click()
    expect(page.locator("#message")).to_have_text("카드를 등록했습니다: 신한카드 536181******1234")


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_register_a_card_then_one_click_charge_and_a_decline(page_of, api: str, preview: str, database_url: str,
                                                              request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="cards-failure")
    page.on("dialog", lambda dialog: dialog.accept())  # 삭제 asks for confirmation
    balance, message = page.locator("#balance"), page.locator("#message")
    cards = page.locator("#card-list li")
    page.goto(preview + "/")
    sign_up(page, f"cards-{app}@example.com")
    expect(page.locator("#cards-empty")).to_be_visible()

    # when a card is registered in the window: listed (masked) and picked
    register_card_in_window(page)
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_role("radio")).to_be_checked()

    # when 10,000 is charged with a double click: no window, one charge, the balance up
    page.click('#cards .card-package[data-amount="10000"]')
    charge = page.get_by_role("button", name="10,000원 카드로 충전하기")
    charge.dblclick()
    expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
    expect(balance).to_have_text("10,000")
    expect(charge).to_be_enabled()
    assert card_charges(api) == [(10000, "paid")]
    shot(page, app, "cards-charged")

    # given an over-limit card registered next (picked, as the newest)
    page.evaluate(OVER_LIMIT_CARD)
    page.get_by_role("button", name="카드 등록").click()
    expect(message).to_have_text("카드를 등록했습니다: 신한카드 400000******0002")
    declining = page.locator("#card-list li", has_text="400000******0002")
    expect(declining.get_by_role("radio")).to_be_checked()
    # when it is charged: the card company's reason, no points
    page.click('#cards .card-package[data-amount="5000"]')
    page.get_by_role("button", name="5,000원 카드로 충전하기").click()
    expect(message).to_contain_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
    expect(message).to_have_attribute("data-code", "CARD_DECLINED")
    expect(balance).to_have_text("10,000")
    assert card_charges(api) == [(5000, "failed"), (10000, "paid")]

    # when it is deleted: the first card stays, picked
    declining.get_by_role("button", name="신한카드 400000******0002 삭제").click()
    expect(message).to_have_text("카드를 삭제했습니다: 신한카드 400000******0002")
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_role("radio")).to_be_checked()
    # and the section fits a phone
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, app, "cards-phone")
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_subscribe_then_cancel(page_of, api_server, api: str, preview: str, database_url: str, request) -> None:
    from playwright.sync_api import expect

    if not has_subscriptions(api):
        pytest.skip("this API has no 정기 충전 (createPointSubscription) yet")
    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="subscription-failure")
    page.on("dialog", lambda dialog: dialog.accept())  # 해지 asks for confirmation
    balance, message = page.locator("#balance"), page.locator("#message")
    subs = page.locator("#sub-list li")
    page.goto(preview + "/")
    sign_up(page, f"subs-{app}@example.com")
    expect(page.locator("#subs-empty")).to_be_visible()
    register_card_in_window(page)
    page.evaluate(OVER_LIMIT_CARD)
    page.get_by_role("button", name="카드 등록").click()
    expect(message).to_have_text("카드를 등록했습니다: 신한카드 400000******0002")

    # when the over-limit card (picked) is subscribed: month 1 declined, no subscription
    page.click('#cards .card-package[data-amount="30000"]')
    subscribe = page.get_by_role("button", name="매월 30,000원 정기 충전 신청")
    subscribe.click()
    expect(message).to_contain_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
    expect(page.locator("#subs-empty")).to_be_visible()
    expect(balance).to_have_text("0")

    # when 30,000 a month is subscribed with the other card: month 1 is charged at once
    page.locator("#card-list li", has_text="536181******1234").get_by_role("radio").check()
    subscribe.click()
    expect(message).to_contain_text("정기 충전을 시작했습니다. 첫 달 30,000P가 충전되었고")
    expect(balance).to_have_text("30,000")
    expect(subs).to_have_count(1)
    expect(subs.first).to_have_attribute("data-status", "ACTIVE")
    expect(subs.first.locator(".sub-status")).to_have_text("이용 중")
    expect(subs.first).to_contain_text("다음 충전")
    shot(page, app, "cards-subscribed")

    # when the card starts declining and month 2 is run: 결제 실패(재시도 예정) with the reason
    uid = run_async(customer_uid_of(database_url, "536181******1234"))
    r = httpx.post(f"{api}/sandbox/portone/_control/billing-keys",
                   json={"version": "v1", "customer_uid": uid, "decline": True}, timeout=10)
    assert r.status_code == 200, r.text
    counts = run_async(run_billing(api_server.settings, run_async(next_charge_of(database_url))))
    assert counts == {"claimed": 1, "declined": 1}
    page.reload()
    expect(subs.first).to_have_attribute("data-status", "PAST_DUE")
    expect(subs.first.locator(".sub-status")).to_have_text("결제 실패(재시도 예정)")
    expect(subs.first.locator(".sub-failure")).to_have_text("최근 실패 사유: 한도초과")

    # when it is cancelled: 해지됨, no next charge, month 1's points stay
    subs.first.get_by_role("button", name="매월 30,000원 정기 충전 해지").click()
    expect(message).to_have_text("정기 충전을 해지했습니다. 다음 달부터 충전되지 않습니다.")
    expect(subs.first).to_have_attribute("data-status", "CANCELLED")
    expect(subs.first.locator(".sub-status")).to_have_text("해지됨")
    expect(subs.first).not_to_contain_text("다음 충전")
    expect(balance).to_have_text("30,000")
    assert list(run_async(ledger_invariants(database_url)).values()) == [30000]  # type: ignore[union-attr]


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_a_v2_card_registers_in_the_v2_window_and_charges(page_of, api: str, preview: str, database_url: str,
                                                           request) -> None:
    from playwright.sync_api import expect

    if not has_v2_cards(api):
        pytest.skip("this API has no PortOne V2 cards (preparePaymentCard(version: V2)) yet")
    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="cards-v2-failure")
    balance, message = page.locator("#balance"), page.locator("#message")
    cards = page.locator("#card-list li")
    page.goto(preview + "/")
    sign_up(page, f"cards-v2-{app}@example.com")

    # given an API with V2 (a storeId): the 등록 방식 choice, V1 first
    versions = page.locator("#card-versions .card-version")
    expect(versions).to_have_text(["PortOne V1", "PortOne V2", "부트페이"])
    expect(versions.first).to_have_attribute("aria-checked", "true")
    # when a card is registered in PortOne.requestIssueBillingKey's window
    page.get_by_role("radio", name="PortOne V2").click()
    page.get_by_role("button", name="카드 등록").click()
    page.frame_locator("iframe.portone-sandbox-frame").locator("#btn-approve").click()
    expect(message).to_contain_text("카드를 등록했습니다: ")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".card-tag")).to_have_text("V2")
    # when it is charged with one click: a V2 order, paid with the key
    page.click('#cards .card-package[data-amount="10000"]')
    page.get_by_role("button", name="10,000원 카드로 충전하기").click()
    expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
    expect(balance).to_have_text("10,000")
    # when the buyer registers a card over its limit in the window: issued, and declined on charge
    page.get_by_role("button", name="카드 등록").click()
    page.frame_locator("iframe.portone-sandbox-frame").locator("#btn-limit").click()
    expect(cards).to_have_count(2)
    page.click('#cards .card-package[data-amount="5000"]')
    page.get_by_role("button", name="5,000원 카드로 충전하기").click()
    expect(message).to_contain_text("카드 결제가 거절되었습니다: 한도초과. 다른 카드로 다시 시도해 주세요.")
    expect(balance).to_have_text("10,000")
    shot(page, app, "cards-v2-declined")
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_a_bootpay_card_registers_in_bootpays_window_and_charges(page_of, api: str, preview: str, database_url: str,
                                                                request) -> None:
    from playwright.sync_api import expect

    if not has_bootpay_cards(api):
        pytest.skip("this API has no Bootpay cards (preparePaymentCard(gateway: BOOTPAY)) yet")
    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="cards-bootpay-failure")
    balance, message = page.locator("#balance"), page.locator("#message")
    cards = page.locator("#card-list li")
    page.goto(preview + "/")
    sign_up(page, f"cards-bootpay-{app}@example.com")

    # when the buyer closes Bootpay's card window: nothing registered
    page.get_by_role("radio", name="부트페이").last.click()  # the 등록 방식 (the charge box has its own 결제사)
    expect(page.locator('#card-versions .card-version[data-version="BOOTPAY"]')).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="카드 등록").click()
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="취소").click()
    expect(message).to_contain_text("카드 등록을 취소했습니다.")
    expect(message).to_have_class("message warn")
    # when a card is registered in Bootpay.requestSubscription's window
    page.get_by_role("button", name="카드 등록").click()
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="카드 등록").click()
    expect(message).to_contain_text("카드를 등록했습니다: ")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".card-tag")).to_have_text("부트페이")
    # when it is charged with one click: a Bootpay order, paid with the key
    page.click('#cards .card-package[data-amount="10000"]')
    page.get_by_role("button", name="10,000원 카드로 충전하기").click()
    expect(message).to_have_text("10,000P 충전이 완료되었습니다. 잔액 10,000P")
    expect(balance).to_have_text("10,000")
    # when the buyer registers a card over its limit: issued, and declined with the reason on charge
    page.get_by_role("button", name="카드 등록").click()
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="한도초과 카드로 등록 (테스트)").click()
    expect(cards).to_have_count(2)
    page.click('#cards .card-package[data-amount="5000"]')
    page.get_by_role("button", name="5,000원 카드로 충전하기").click()
    expect(message).to_contain_text("카드 결제가 거절되었습니다: 한도초과")
    expect(balance).to_have_text("10,000")
    shot(page, app, "cards-bootpay-declined")
    assert list(run_async(ledger_invariants(database_url)).values()) == [10000]  # type: ignore[union-attr]
