"""The demo page's 상점 tab sends the price it displayed (issue 23 #4): a seller's change after the
page loaded is shown as PRICE_CHANGED, nothing is bought, and the list shows the new price."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_demo_browser import (  # noqa: F401
    browser, context, demo_url, open_checkout, open_demo, screenshot, seller_lists_item, sign_up,
)

pytestmark = pytest.mark.browser

LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
ITEMS = "{ fetchUseditems { _id name } }"
REPRICE = "mutation($id: ID!, $p: Int!) { updateUseditem(useditemId: $id, updateUseditemInput: {price: $p}) { price } }"


def test_shop_buy_refused_when_the_seller_changed_the_price(context, demo_url: tuple[str, str]) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, _database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message = page.locator("#message")
    try:
        # given a seller's item at 1,000 …
        seller_lists_item(page, "헬멧", 1000)
        # … shown to a buyer with 5,000 points
        sign_up(page, "buyer@example.com", "구매자")
        open_checkout(page, 5000).locator("#btn-approve").click()
        expect(page.locator("#balance")).to_have_text("5,000")
        page.click("#tab-shop")
        row = page.locator("#item-rows tr", has_text="헬멧")
        expect(row).to_contain_text("1,000P")
        # when the seller raises it to 4,000 while the buyer's page shows 1,000, and the buyer clicks 구매
        token = httpx.post(f"{base}/graphql", json={"query": LOGIN, "variables": {"e": "seller@example.com", "p": "password123"}}).json()["data"]["loginUser"]["accessToken"]
        items = httpx.post(f"{base}/graphql", json={"query": ITEMS}).json()["data"]["fetchUseditems"]
        item_id = next(i["_id"] for i in items if i["name"] == "헬멧")
        changed = httpx.post(f"{base}/graphql", json={"query": REPRICE, "variables": {"id": item_id, "p": 4000}},
                             headers={"Authorization": f"Bearer {token}"}).json()
        assert "errors" not in changed, changed
        row.locator("button.buy-item").click()
        # then nothing is bought, the page says why, and the row shows the new price
        expect(message).to_have_text(
            "판매자가 ‘헬멧’의 가격을 1,000P에서 4,000P로 바꿨습니다. 새 가격을 확인한 뒤 다시 구매해 주세요."
        )
        expect(page.locator("#balance")).to_have_text("5,000")
        expect(page.locator("#item-rows tr", has_text="헬멧")).to_contain_text("4,000P")
        expect(page.locator('#trade-rows tr[data-status="구매"]')).to_have_count(0)
        screenshot(page, "7-shop-price-changed")
        # and buying again at the price now shown works
        page.locator("#item-rows tr", has_text="헬멧").locator("button.buy-item").click()
        expect(message).to_have_text("‘헬멧’을(를) 4,000P에 구매했습니다.")
        expect(page.locator("#balance")).to_have_text("1,000")
    except Exception:
        screenshot(page, "failure")
        raise
    assert js_errors == []
