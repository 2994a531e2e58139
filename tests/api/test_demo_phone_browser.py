"""The demo page on a 375 px phone (issue 27): nothing wider than the screen with a long e-mail
logged in and the cancel (refund account) form open; a deposit made elsewhere shows up by itself
(the page polls while an account is pending); a cancel PortOne cannot find says so."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_demo_browser import (  # noqa: F401 - fixtures
    browser,
    context,
    demo_url,
    open_checkout,
    open_demo,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.browser

LONG_EMAIL = "kim.cheolsu.very.long.mailbox.name@example-company-mail.co.kr"
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
# The first word of an element's text that is split over two lines ("신용카/드"), or null.
SPLIT_WORD = """e => {
  const text = e.firstChild;
  let at = 0;
  for (const word of text.textContent.split(" ")) {
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + word.length);
    if (range.getClientRects().length > 1) return word;
    at += word.length + 1;
  }
  return null;
}"""


def assert_no_split_words(page) -> None:
    for cell in page.locator("#history-rows td.when, #history-rows .detail").all():
        assert cell.evaluate(SPLIT_WORD) is None, cell.text_content()


def test_phone_fits_polls_deposits_and_names_a_cancel_portone_lost(context, demo_url) -> None:
    from playwright.sync_api import expect

    base, _ = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    page.set_viewport_size({"width": 375, "height": 812})
    message = page.locator("#message")
    try:
        # given a 375 px phone and a long e-mail logged in
        sign_up(page, LONG_EMAIL, "김철수")
        assert page.evaluate(SCROLL_WIDTH) <= 375
        expect(page.locator("#btn-logout")).to_be_in_viewport()

        # when a virtual account is issued and the deposit is made elsewhere (the buyer's bank)
        open_checkout(page, 30000).locator("#btn-vbank").click()
        pending = page.locator("#pending-list li")
        expect(pending).to_have_count(1)
        imp_uid = pending.first.get_attribute("data-imp-uid")
        deposit = httpx.post(f"{base}/sandbox/portone/_control/payments/{imp_uid}/deposit", json={}, timeout=10)
        assert deposit.status_code == 200, deposit.text
        # then the page sees it by itself: balance, pending list and a message
        expect(page.locator("#balance")).to_have_text("30,000")
        expect(page.locator("#pending")).to_be_hidden()
        expect(message).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
        screenshot(page, "375-deposit-polled")

        # when the cancel form (the refund account) is open, it fits the screen too
        page.locator("button.cancel-charge").first.click()
        dialog = page.locator("#refund-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#refund-amount")).to_have_text("30,000원")
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
        assert page.evaluate(SCROLL_WIDTH) <= 375
        screenshot(page, "375-cancel-form")
        page.select_option("#refund-bank", "088")
        page.fill("#refund-number", "110-123-456789")
        dialog.locator("button[value=cancel]").click()
        expect(dialog).to_be_hidden()
        # and it opens empty again: an earlier account never rides along unnoticed
        page.locator("button.cancel-charge").first.click()
        expect(page.locator("#refund-bank")).to_have_value("004")
        expect(page.locator("#refund-number")).to_have_value("")
        dialog.locator("button[value=cancel]").click()
        expect(dialog).to_be_hidden()

        # when PortOne has lost a card charge (the sandbox reset), its 취소 says so in its own words
        open_checkout(page, 5000).locator("#btn-approve").click()
        expect(page.locator("#balance")).to_have_text("35,000")
        assert httpx.post(f"{base}/sandbox/portone/_control/reset", timeout=10).status_code == 200
        page.locator('#history-rows tr[data-status="충전"]', has_text="+5,000P").locator("button.cancel-charge").click()
        expect(message).to_contain_text("PortOne에서 이 결제를 찾을 수 없어 취소하지 못했습니다")
        expect(page.locator("#balance")).to_have_text("35,000")
        assert page.evaluate(SCROLL_WIDTH) <= 375
        assert_no_split_words(page)  # "신용카드 충전", "2026.12.06 10:45" break between words only
        screenshot(page, "375-cancel-lost-at-portone")
    except Exception:
        screenshot(page, "failure")
        raise
    assert js_errors == []
