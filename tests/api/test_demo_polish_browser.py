"""The demo page and the sandbox checkout in Chromium: phone width, closing the checkout,
the favicon, the sandbox's deposit button. (The main flows: test_demo_browser.py.)"""

from __future__ import annotations

import pytest

from tests.api.test_demo_browser import (  # noqa: F401 - fixtures
    browser,
    context,
    demo_url,
    open_checkout,
    open_demo,
    run_async,
    screenshot,
    sign_up,
)
from tests.conftest import ledger_invariants

pytestmark = pytest.mark.browser

# Lines of text in an element: its content height over its line height.
LINES = """e => {
  const s = getComputedStyle(e);
  const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.5;
  const box = parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)
            + parseFloat(s.borderTopWidth) + parseFloat(s.borderBottomWidth);
  return (e.getBoundingClientRect().height - box) / line;
}"""


def test_phone_width_labels_favicon_and_closing_the_checkout(context, demo_url) -> None:
    from playwright.sync_api import expect

    base, _ = demo_url
    js_errors: list[str] = []
    failed: list[str] = []
    context.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page = open_demo(context, base, js_errors)
    page.set_viewport_size({"width": 375, "height": 800})
    message = page.locator("#message")
    try:
        sign_up(page, "park@example.com", "박지민")
        frame = open_checkout(page, 5000)
        frame.locator("#btn-approve").click()
        expect(page.locator("#balance")).to_have_text("5,000")

        # given a 375 px phone, then 로그아웃, 취소 and the 충전 badge each keep one line
        for selector in ["#btn-logout", "button.cancel-charge", '#history-rows tr[data-status="충전"] .status']:
            lines = page.locator(selector).first.evaluate(LINES)
            assert lines < 1.5, f"{selector} wraps onto {lines:.1f} lines at 375 px"
        screenshot(page, "375px")

        # Escape in the page closes the checkout like its ×: a user cancel, nothing charged
        open_checkout(page, 1000)
        page.keyboard.press("Escape")
        expect(page.locator("#imp-sandbox-overlay")).to_have_count(0)
        expect(message).to_have_text("결제를 취소했습니다.")
        # Escape with the focus inside the checkout (the iframe forwards it)
        frame = open_checkout(page, 1000)
        frame.locator("#order-name").click()
        frame.locator("body").press("Escape")
        expect(page.locator("#imp-sandbox-overlay")).to_have_count(0)
        expect(message).to_have_text("결제를 취소했습니다.")
        # a click on the backdrop; a click inside the window does not close it
        frame = open_checkout(page, 1000)
        frame.locator("#order-amount").click()
        expect(page.locator("#imp-sandbox-overlay")).to_have_count(1)
        page.locator("#imp-sandbox-overlay").click(position={"x": 3, "y": 3})
        expect(page.locator("#imp-sandbox-overlay")).to_have_count(0)
        expect(message).to_have_text("결제를 취소했습니다.")
        expect(page.locator("#balance")).to_have_text("5,000")
    except Exception:
        screenshot(page, "failure")
        raise
    assert js_errors == []
    assert failed == []  # no favicon (or other) 404


def test_sandbox_deposit_button_credits_a_virtual_account(context, demo_url) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    try:
        sign_up(page, "choi@example.com", "최유리")
        open_checkout(page, 30000).locator("#btn-vbank").click()
        pending = page.locator("#pending-list li")
        expect(pending).to_have_count(1)
        expect(page.locator("#balance")).to_have_text("0")
        # when the buyer "deposits" from the pending list (sandbox only)
        pending.first.locator("button.deposit").click()
        # then the sandbox's webhook credits it
        expect(page.locator("#message")).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
        expect(page.locator("#balance")).to_have_text("30,000")
        expect(page.locator("#pending")).to_be_hidden()
    except Exception:
        screenshot(page, "failure")
        raise
    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [30000]  # type: ignore[union-attr]
