"""examples/react's 상점 (market) in headless Chromium against the API over HTTP: a seller puts up an
item with a photo (uploadFile as a GraphQL multipart request, then createUseditem with its url), a
buyer on a phone-sized screen sees the photo, asks a question and reads the seller's answer; the
seller changes the price while the buyer's page still shows the old one, so the buyer's 구매하기
(expectedPrice = the price shown) is PRICE_CHANGED with the new price, and buys after the refresh
at the new price."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tests.api.test_demo_browser import run_async
from tests.browser import ARTIFACTS
from tests.conftest import ledger_invariants
from tests.examples.test_example_apps import TIMEOUT_MS, api, browser, preview  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def small_png(path: Path, width: int = 24, height: int = 16) -> Path:
    """A real PNG (orange), so that the API's content check and the browser's decoder accept it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xf9\x73\x16" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def shot(page, state: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"example-react-{state}.png"), full_page=True)


def sign_up(page, email: str, name: str) -> None:
    from playwright.sync_api import expect

    page.fill("#email", email)
    page.fill("#password", "password123")
    page.fill("#name", name)
    page.click("#btn-signup")
    expect(page.locator("#user-name")).to_have_text(name)


def decoded(img) -> bool:
    return img.evaluate("el => el.complete && el.naturalWidth > 0")


@pytest.mark.parametrize("preview", ["react"], indirect=True)
def test_react_market_photo_questions_and_price_change(
    browser, preview: str, database_url: str, tmp_path: Path  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []
    js_errors: list[str] = []

    def open_page(width: int, height: int):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: js_errors.append(str(exc)))
        return page

    seller = open_page(800, 900)
    buyer = open_page(375, 812)  # a phone

    def fits(page) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width}px wide at 375px"

    try:
        # --- A puts up an item with a photo
        seller.goto(preview + "/")
        sign_up(seller, "seller@example.com", "이판매")
        seller.click("#nav-market")
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
        seller.set_input_files("#item-photo", str(small_png(tmp_path / "bike.png")))
        expect(seller.locator("#item-photo-error")).to_have_count(0)
        seller.click("#btn-create-item")
        seller.wait_for_url(f"{preview}/market/**")
        expect(seller.locator("#message")).to_have_text("상품을 등록했습니다.")
        expect(seller.locator("#item-title")).to_have_text("접이식 자전거")
        photo = seller.locator("#item-photo-view")
        expect(photo).to_be_visible()
        assert decoded(photo)
        item_url = seller.url

        # --- B (on a phone, with 5,000P) sees the item and its photo in the list, and asks
        buyer.goto(preview + "/")
        sign_up(buyer, "buyer@example.com", "김구매")
        buyer.click('.package[data-amount="5000"]')
        buyer.click("#btn-pay")
        buyer.frame_locator("iframe.imp-sandbox-frame").locator("#btn-approve").click()
        expect(buyer.locator("#balance")).to_have_text("5,000")
        buyer.click("#nav-market")
        card = buyer.locator("#items .item").filter(has_text="접이식 자전거")
        expect(card.locator(".item-price")).to_have_text("2,000P")
        expect(card).to_contain_text("판매자 이판매")
        thumb = card.locator("img.thumb")
        expect(thumb).to_be_visible()
        assert decoded(thumb)
        fits(buyer)
        shot(buyer, "market-list")
        card.locator("a").click()
        expect(buyer.locator("#item-price-view")).to_have_text("2,000P")
        expect(buyer.locator("#item-seller")).to_have_text("이판매")
        assert decoded(buyer.locator("#item-photo-view"))
        expect(buyer.locator("#questions-empty")).to_be_visible()
        buyer.fill('#ask textarea[name="question"]', "직거래 장소는 어디인가요?")
        buyer.get_by_role("button", name="질문 등록").click()
        question = buyer.locator("#question-list .question")
        expect(question.locator(".question-text")).to_have_text("직거래 장소는 어디인가요?")
        expect(question).to_contain_text("김구매")

        # --- A sees the question with an answer box (the seller's only) and answers
        seller.reload()
        asked = seller.locator("#question-list .question").filter(has_text="직거래 장소는 어디인가요?")
        expect(asked).to_be_visible()
        expect(seller.locator("#ask")).to_have_count(0)
        asked.locator('textarea[name="answer"]').fill("강남역 2번 출구입니다.")
        asked.get_by_role("button", name="답변 등록").click()
        expect(asked.locator(".answer-text")).to_have_text("강남역 2번 출구입니다.")

        # --- B sees the answer; there is no answer box for B
        buyer.reload()
        answered = buyer.locator("#question-list .question").first
        expect(answered.locator(".answer-text")).to_have_text("강남역 2번 출구입니다.")
        expect(answered).to_contain_text("이판매")
        expect(buyer.locator(".answer-form")).to_have_count(0)
        expect(buyer.locator("#item-price-view")).to_have_text("2,000P")
        fits(buyer)
        shot(buyer, "market-item-qna")

        # --- the seller raises the price while B's page still shows 2,000P
        assert seller.url == item_url
        seller.fill('#edit-price input[name="price"]', "3000")
        seller.get_by_role("button", name="가격 수정").click()
        expect(seller.locator("#message")).to_have_text("가격을 3,000P로 바꿨습니다.")
        expect(seller.locator("#item-price-view")).to_have_text("3,000P")

        # --- B's 구매하기 sends the price shown: PRICE_CHANGED, nothing moves, the page refreshes
        buyer.click("#btn-buy")
        message = buyer.locator("#item #message")
        expect(message).to_have_attribute("data-code", "PRICE_CHANGED")
        expect(message).to_contain_text("가격이 2,000P에서 3,000P로 바뀌었습니다. 새 가격을 확인하고 다시 구매해 주세요.")
        expect(buyer.locator("#item-price-view")).to_have_text("3,000P")
        expect(buyer.locator("#btn-buy")).to_have_text("3,000P 구매하기")
        expect(buyer.locator("#balance")).to_have_text("5,000")
        fits(buyer)
        shot(buyer, "market-price-changed")

        # --- bought at the new price
        buyer.click("#btn-buy")
        expect(message).to_have_text('"접이식 자전거" 구매를 완료했습니다. 3,000P를 사용했습니다.')
        expect(buyer.locator("#balance")).to_have_text("2,000")
        expect(buyer.locator("#item-sold")).to_contain_text("구매자 김구매")
        shot(buyer, "market-bought")
        seller.reload()
        expect(seller.locator("#balance")).to_have_text("3,000")
        expect(seller.locator("#item-sold")).to_be_visible()
    except Exception:
        shot(seller, "market-failure-seller")
        shot(buyer, "market-failure-buyer")
        raise
    finally:
        for ctx in contexts:
            ctx.close()

    assert js_errors == []
    assert sorted(run_async(ledger_invariants(database_url)).values()) == [2000, 3000]  # type: ignore[union-attr]
