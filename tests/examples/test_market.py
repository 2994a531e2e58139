"""The example apps' 상점 (/market) in headless Chromium against a real API over HTTP.

Seller A puts up an item with a photo (a PNG made by Pillow, sent by uploadFile as a GraphQL
multipart request, then createUseditem with its url); a file that is no image is refused at the
photo input first. Buyer B, on a phone-sized screen, sees the photo in the list and on the item
page, asks a question, A answers under it, B sees the answer; A changes the price while B's page
still shows the old one: B's 구매하기 (expectedPrice: the price B saw) answers PRICE_CHANGED with the
new price and refreshes the item, and the second 구매하기 buys at the new price, which the balances
show. Once sold the item is no longer listed.
"""

from __future__ import annotations

import pytest

from tests.api.test_demo_browser import run_async
from tests.conftest import ledger_invariants
from tests.examples.support import APPS, PHONE, charge_by_card, fits, natural_width, shot, sign_up
from tests.uploads import png

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_market_photo_questions_and_a_price_changed_purchase(page_of, preview: str, database_url: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    seller = page_of(failure_shot="market-failure-seller")
    buyer = page_of(**PHONE, failure_shot="market-failure-buyer")
    # --- A puts up an item with a photo
    seller.goto(preview + "/")
    sign_up(seller, "seller@example.com", "이판매")
    seller.get_by_role("link", name="상점").click()
    expect(seller.locator("#market")).to_be_visible()
    expect(seller.locator("#items-empty")).to_be_visible()
    seller.fill("#item-name", "접이식 자전거")
    seller.fill("#item-remarks", "두 번 탔어요")
    seller.fill("#item-contents", "상태 좋습니다.\n직거래 선호")
    seller.fill("#item-price", "2000")
    # a file that is no image is refused at the photo input, in words, and nothing is created
    seller.set_input_files("#item-photo", files=[{"name": "bike.png", "mimeType": "image/png", "buffer": b"not a png"}])
    seller.click("#btn-create-item")
    expect(seller.locator("#item-photo-error.field-error")).to_have_text("이미지 파일(PNG, JPEG, GIF, WebP)만 올릴 수 있습니다.")
    expect(seller.locator("#item-photo")).to_have_attribute("aria-invalid", "true")
    expect(seller).to_have_url(preview + "/market")
    # a real photo then
    seller.fill("#item-remarks", "두 번 탔어요")
    seller.fill("#item-contents", "상태 좋습니다.\n직거래 선호")
    seller.fill("#item-price", "2000")
    seller.set_input_files("#item-photo", files=[{"name": "bike.png", "mimeType": "image/png", "buffer": png((8, 6))}])
    expect(seller.locator("#item-photo-error")).to_have_count(0)
    seller.click("#btn-create-item")
    seller.wait_for_url(f"{preview}/market/**")
    item_url = seller.url
    expect(seller.locator("#message")).to_have_text("상품을 등록했습니다.")
    expect(seller.locator("#item-title")).to_have_text("접이식 자전거")
    expect(seller.locator("#item-photo-view")).to_be_visible()
    assert natural_width(seller.locator("#item-photo-view")) == 8
    expect(seller.locator("#btn-buy")).to_have_count(0)  # one's own item: no 구매하기

    # --- B (on a phone, with 5,000P) sees it with its photo, in the list and on its page
    buyer.goto(preview + "/")
    sign_up(buyer, "buyer@example.com", "김구매")
    charge_by_card(buyer, 5000, "5,000")
    buyer.click("#nav-market")
    card = buyer.locator("#items .item").filter(has_text="접이식 자전거")
    expect(card.locator(".item-price")).to_have_text("2,000P")
    expect(card).to_contain_text("판매자 이판매")
    expect(card.locator("img.thumb")).to_be_visible()
    assert natural_width(card.locator("img.thumb")) == 8
    fits(buyer)
    shot(buyer, app, "market-list")
    card.locator("a").click()
    expect(buyer).to_have_url(item_url)
    expect(buyer.locator("#item-price-view")).to_have_text("2,000P")
    expect(buyer.locator("#item-seller")).to_have_text("이판매")
    assert natural_width(buyer.locator("#item-photo-view")) == 8

    # --- B asks
    expect(buyer.locator("#questions-empty")).to_be_visible()
    buyer.fill('#ask textarea[name="question"]', "직거래 장소는 어디인가요?")
    buyer.get_by_role("button", name="질문 등록").click()
    question = buyer.locator("#question-list .question").filter(has_text="직거래 장소는 어디인가요?")
    expect(question.locator(".question-text")).to_have_text("직거래 장소는 어디인가요?")
    expect(question).to_contain_text("김구매")
    expect(question.locator("form.answer-form")).to_have_count(0)  # only the seller answers

    # --- A sees the question with an answer box (the seller's only) and answers
    seller.reload()
    asked = seller.locator("#question-list .question").filter(has_text="직거래 장소는 어디인가요?")
    expect(asked).to_be_visible()
    expect(seller.locator("#ask")).to_have_count(0)  # the seller does not ask himself
    asked.locator('textarea[name="answer"]').fill("강남역 2번 출구입니다.")
    asked.get_by_role("button", name="답변 등록").click()
    expect(asked.locator(".answer")).to_contain_text("강남역 2번 출구입니다.")
    expect(asked.locator(".answer-text")).to_have_text("강남역 2번 출구입니다.")

    # --- B sees the answer; there is no answer box for B
    buyer.reload()
    expect(question.locator(".answer-text")).to_have_text("강남역 2번 출구입니다.")
    expect(question).to_contain_text("이판매")
    expect(buyer.locator(".answer-form")).to_have_count(0)
    expect(buyer.locator("#item-price-view")).to_have_text("2,000P")
    fits(buyer)
    shot(buyer, app, {"react": "market-item-qna", "vue": "market-item"}[app])

    # --- A raises the price while B's page still shows 2,000P
    assert seller.url == item_url
    seller.fill('#edit-price input[name="price"]', "3000")
    seller.get_by_role("button", name="가격 수정").click()
    expect(seller.locator("#message")).to_have_text("가격을 3,000P로 바꿨습니다.")
    expect(seller.locator("#item-price-view")).to_have_text("3,000P")
    expect(buyer.locator("#item-price-view")).to_have_text("2,000P")

    # --- B's 구매하기 sends the price B saw: PRICE_CHANGED, nothing moves, the item refreshed
    buyer.locator("#btn-buy").click()
    message = buyer.locator("#item #message")
    expect(message).to_have_attribute("data-code", "PRICE_CHANGED")
    expect(message).to_contain_text("가격이 2,000P에서 3,000P로 바뀌었습니다. 새 가격을 확인하고 다시 구매해 주세요.")
    expect(buyer.locator("#item-price-view")).to_have_text("3,000P")
    expect(buyer.locator("#btn-buy")).to_have_text("3,000P 구매하기")
    expect(buyer.locator("#balance")).to_have_text("5,000")
    fits(buyer)
    shot(buyer, app, "market-price-changed")

    # --- and the second one buys at the new price
    buyer.locator("#btn-buy").click()
    expect(message).to_have_text('"접이식 자전거" 구매를 완료했습니다. 3,000P를 사용했습니다.')
    expect(buyer.locator("#balance")).to_have_text("2,000")
    expect(buyer.locator("#item-sold")).to_contain_text("구매자 김구매")
    shot(buyer, app, "market-bought")
    seller.reload()
    expect(seller.locator("#balance")).to_have_text("3,000")
    expect(seller.locator("#item-sold")).to_be_visible()

    # --- on the phone the item page and the market fit; sold, it is no longer listed
    for url in (item_url, preview + "/market"):
        buyer.goto(url)
        expect(buyer.locator("#item, #market").first).to_be_visible()
        fits(buyer)
    expect(buyer.locator("#items-empty")).to_be_visible()
    shot(buyer, app, "market-375")

    assert sorted(run_async(ledger_invariants(database_url)).values()) == [2000, 3000]  # type: ignore[union-attr]
