"""examples/vue's 상점 (/market) in headless Chromium against a real API over HTTP.

Seller A puts up an item with a photo (a PNG made by Pillow, sent by uploadFile as a multipart request);
buyer B sees the photo in the list and on the item page, asks a question, A answers under it, B
sees the answer; A changes the price while B's page is open: B's 구매하기 (expectedPrice: the price
B saw) answers PRICE_CHANGED with the new price and refreshes the item, and the second 구매하기
buys at the new price, which the balances show.
"""

from __future__ import annotations

import pytest

from tests.api.test_demo_browser import run_async
from tests.conftest import ledger_invariants
from tests.examples.test_example_apps import api, browser, preview  # noqa: F401 (fixtures)
from tests.examples.test_vue_issue27 import charge_by_card, page_of, shot, sign_up  # noqa: F401 (page_of)
from tests.uploads import png

pytestmark = pytest.mark.browser


def natural_width(locator) -> int:
    locator.wait_for()
    locator.page.wait_for_function("img => img.complete", arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth")


@pytest.mark.parametrize("preview", ["vue"], indirect=True)
def test_vue_market_photo_questions_and_a_price_changed_purchase(page_of, preview: str, database_url: str) -> None:
    from playwright.sync_api import expect

    seller, buyer = page_of(), page_of()
    try:
        # --- A puts up an item with a photo
        seller.goto(preview + "/")
        sign_up(seller, "seller@example.com", name="판매자")
        seller.get_by_role("link", name="상점").click()
        expect(seller.locator("#market")).to_be_visible()
        expect(seller.locator("#items-empty")).to_be_visible()
        # a file that is no image is refused at the photo input, in words, and nothing is created
        seller.fill("#item-name", "중고 자전거")
        seller.fill("#item-remarks", "거의 새것")
        seller.fill("#item-contents", "한 달 탔습니다.\n직거래 환영")
        seller.fill("#item-price", "3000")
        seller.set_input_files("#item-photo", files=[{"name": "bike.png", "mimeType": "image/png", "buffer": b"not a png"}])
        seller.click("#btn-create-item")
        expect(seller.locator("#item-photo-error.field-error")).to_have_text(
            "이미지 파일(PNG, JPEG, GIF, WebP)만 올릴 수 있습니다."
        )
        expect(seller.locator("#item-photo")).to_have_attribute("aria-invalid", "true")
        expect(seller).to_have_url(preview + "/market")
        # a real photo then

        seller.fill("#item-remarks", "거의 새것")
        seller.fill("#item-contents", "한 달 탔습니다.\n직거래 환영")
        seller.fill("#item-price", "3000")
        seller.set_input_files("#item-photo", files=[{"name": "bike.png", "mimeType": "image/png", "buffer": png((8, 6))}])
        seller.click("#btn-create-item")
        seller.wait_for_url(f"{preview}/market/**")
        item_url = seller.url
        expect(seller.locator("#item-title")).to_have_text("중고 자전거")
        assert natural_width(seller.locator("#item-photo-view")) == 8
        expect(seller.locator("#btn-buy")).to_have_count(0)  # one's own item: no 구매하기

        # --- B (5,000P) sees it with its photo, in the list and on its page
        buyer.goto(preview + "/")
        sign_up(buyer, "buyer@example.com", name="구매자")
        charge_by_card(buyer, 5000, "5,000")
        buyer.get_by_role("link", name="상점").click()
        card = buyer.locator("#items .item").filter(has_text="중고 자전거")
        expect(card).to_contain_text("3,000P")
        expect(card).to_contain_text("판매자")
        assert natural_width(card.locator("img.thumb")) == 8
        shot(buyer, "market-list")
        card.locator("a").click()
        expect(buyer).to_have_url(item_url)
        assert natural_width(buyer.locator("#item-photo-view")) == 8
        expect(buyer.locator("#item-price-view")).to_have_text("3,000P")
        expect(buyer.locator("#item-seller")).to_have_text("판매자")

        # --- B asks; A answers under the question; B sees the answer
        buyer.fill('#ask textarea[name="question"]', "직거래 가능한가요?")
        buyer.get_by_role("button", name="질문 등록").click()
        question = buyer.locator("#question-list .question").filter(has_text="직거래 가능한가요?")
        expect(question).to_contain_text("구매자")
        expect(question.locator("form.answer-form")).to_have_count(0)  # only the seller answers

        seller.reload()
        asked = seller.locator("#question-list .question").filter(has_text="직거래 가능한가요?")
        asked.locator('textarea[name="answer"]').fill("네, 강남역에서 가능합니다.")
        asked.get_by_role("button", name="답변 등록").click()
        expect(asked.locator(".answer")).to_contain_text("네, 강남역에서 가능합니다.")
        expect(seller.locator("#ask")).to_have_count(0)  # the seller does not ask himself

        buyer.reload()
        expect(question.locator(".answer-text")).to_have_text("네, 강남역에서 가능합니다.")
        shot(buyer, "market-item")

        # --- A changes the price while B's page shows 3,000P
        seller.fill('#edit-price input[name="price"]', "4000")
        seller.get_by_role("button", name="가격 수정").click()
        expect(seller.locator("#item-price-view")).to_have_text("4,000P")
        expect(buyer.locator("#item-price-view")).to_have_text("3,000P")

        # B's 구매하기 sends the price B saw: refused, said with the new price, the item refreshed
        buyer.locator("#btn-buy").click()
        message = buyer.locator("#message")
        expect(message).to_have_attribute("data-code", "PRICE_CHANGED")
        expect(message).to_contain_text("가격이 3,000P에서 4,000P로 바뀌었습니다.")
        expect(buyer.locator("#item-price-view")).to_have_text("4,000P")
        expect(buyer.locator("#btn-buy")).to_have_text("4,000P 구매하기")
        expect(buyer.locator("#balance")).to_have_text("5,000")
        shot(buyer, "market-price-changed")

        # and the second one buys at the new price
        buyer.locator("#btn-buy").click()
        expect(message).to_have_text('"중고 자전거" 구매를 완료했습니다. 4,000P를 사용했습니다.')
        expect(buyer.locator("#balance")).to_have_text("1,000")
        expect(buyer.locator("#item-sold")).to_contain_text("구매자")
        shot(buyer, "market-bought")
        seller.reload()
        expect(seller.locator("#balance")).to_have_text("4,000")

        # a phone's width: the item page and the market fit
        buyer.set_viewport_size({"width": 375, "height": 812})
        for url in (item_url, preview + "/market"):
            buyer.goto(url)
            expect(buyer.locator("#item, #market").first).to_be_visible()
            assert buyer.evaluate("document.documentElement.scrollWidth") <= 375, url
        expect(buyer.locator("#items-empty")).to_be_visible()  # sold: no longer listed
        shot(buyer, "market-375")
    except Exception:
        shot(seller, "market-failure-seller")
        shot(buyer, "market-failure-buyer")
        raise

    assert sorted(run_async(ledger_invariants(database_url)).values()) == [1000, 4000]  # type: ignore[union-attr]
