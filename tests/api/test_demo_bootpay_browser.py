"""부트페이 (Bootpay) on the checkout demo page (issue 24), in headless Chromium against the real API
over HTTP with its mounted Bootpay sandbox (the page loads /sandbox/bootpay/bootpay.js).

Card: the 결제사 switch; the window's 결제 취소 is a user cancel; an approved card (`confirm`,
separately_confirmed) is confirmed by the server and credited; 취소 refunds it by receiptId.
Virtual account: `issued` is PAYMENT_PENDING and listed as pending; a deposit made elsewhere (POST
/sandbox/bootpay/_control/receipts/{id}/deposit) is credited by Bootpay's webhook and shows up by
itself (the page polls while an account waits).
"""

from __future__ import annotations

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
from tests.conftest import ledger_invariants

pytestmark = pytest.mark.browser


def receipt(base: str, receipt_id: str) -> dict:
    """The receipt as Bootpay has it (the sandbox's control API)."""
    r = httpx.get(f"{base}/sandbox/bootpay/_control/receipts/{receipt_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def open_bootpay(page, amount: int, method: str):
    page.click(f'#packages .package[data-amount="{amount}"]')
    page.click('#gateways .gateway[data-gateway="BOOTPAY"]')
    page.click(f'#bootpay-methods .pay-method[data-method="{method}"]')
    page.click("#btn-pay")
    frame = page.frame_locator("#bootpay-sandbox-frame")
    frame.locator(".price").wait_for(state="visible")
    return frame


def test_bootpay_card_charge_then_cancel(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    try:
        sign_up(page)
        # given both gateways on: the switch, PortOne first; Bootpay's methods only once it is picked
        expect(page.locator("#gateways .gateway")).to_have_text(["PortOne", "부트페이"])
        expect(page.locator('#gateways .gateway[data-gateway="PORTONE"]')).to_have_attribute("aria-checked", "true")
        expect(page.locator("#bootpay-methods")).to_be_hidden()

        # the window's 결제 취소: a user cancel, nothing credited
        frame = open_bootpay(page, 5000, "card")
        expect(page.locator("#mobile-redirect")).to_be_hidden()  # PortOne's m_redirect_url
        expect(frame.locator(".price")).to_have_text("5,000원")
        frame.locator('button[data-action="cancel"]').click()
        expect(message).to_have_text("결제를 취소했습니다.")
        expect(balance).to_have_text("0")

        # an approved card: confirmed by the server with Bootpay, credited
        open_bootpay(page, 5000, "card").locator('button[data-action="card"]').click()
        expect(message).to_have_text("5,000P 충전이 완료되었습니다. 잔액 5,000P")
        expect(balance).to_have_text("5,000")
        row = page.locator('#history-rows tr[data-status="충전"]')
        expect(row).to_have_attribute("data-gateway", "BOOTPAY")
        receipt_id = row.get_attribute("data-imp-uid")
        assert receipt_id
        paid = receipt(base, receipt_id)
        assert (paid["status"], paid["price"]) == (1, 5000)
        screenshot(page, "bootpay-card-charged")

        # 취소 (the page's confirm is accepted): by receipt_id, cancelled at Bootpay too
        row.locator(".cancel-charge").click()
        expect(message).to_have_text("5,000P 충전을 취소했습니다. 결제 금액은 카드사를 통해 환불됩니다.")
        expect(balance).to_have_text("0")
        expect(page.locator('#history-rows tr[data-status="취소"]')).to_have_attribute("data-imp-uid", receipt_id)
        cancelled = receipt(base, receipt_id)
        assert (cancelled["status"], cancelled["cancelled_price"]) == (20, 5000)
    except Exception:
        screenshot(page, "bootpay-card-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [0]  # type: ignore[union-attr]


def test_bootpay_virtual_account_deposit_shows_up_by_itself(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message, balance = page.locator("#message"), page.locator("#balance")
    try:
        sign_up(page, "lee@example.com", "이영희")
        # when Bootpay issues a virtual account: information, not an error; listed as pending
        open_bootpay(page, 30000, "vbank").locator('button[data-action="vbank"]').click()
        expect(message).to_have_text("가상계좌 입금을 기다리고 있습니다. 입금이 확인되면 포인트가 자동으로 충전됩니다.")
        expect(message).to_have_class("message info")
        pending = page.locator("#pending-list li")
        expect(pending).to_have_count(1)
        expect(pending).to_have_attribute("data-gateway", "BOOTPAY")
        expect(pending).to_contain_text("30,000원")
        receipt_id = pending.get_attribute("data-receipt-id")
        assert receipt_id and receipt(base, receipt_id)["status"] == 5
        expect(balance).to_have_text("0")
        screenshot(page, "bootpay-vbank-pending")

        # when the deposit is made elsewhere: Bootpay's webhook credits it, the page shows it unreloaded
        r = httpx.post(f"{base}/sandbox/bootpay/_control/receipts/{receipt_id}/deposit", json={}, timeout=10)
        assert r.status_code == 200, r.text
        expect(balance).to_have_text("30,000")
        expect(page.locator("#pending")).to_be_hidden()
        expect(message).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
        row = page.locator('#history-rows tr[data-status="충전"]')
        expect(row).to_have_attribute("data-gateway", "BOOTPAY")
        expect(row.locator(".num").first).to_have_text("+30,000P")
    except Exception:
        screenshot(page, "bootpay-vbank-failure")
        raise

    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [30000]  # type: ignore[union-attr]


# A tampering buyer: the page asks Bootpay for less than the order's amount.
TAMPER = """() => {
  const sdk = window.Bootpay, original = sdk.requestPayment.bind(sdk);
  sdk.requestPayment = (p) => original({...p, price: 1000, items: [{id: "p", name: "포인트", qty: 1, price: 1000}]});
}"""


def test_a_refused_held_payment_says_nothing_was_charged(context, demo_url: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base, database_url = demo_url
    js_errors: list[str] = []
    page = open_demo(context, base, js_errors)
    message = page.locator("#message")
    try:
        sign_up(page)
        # given a buyer whose page asks Bootpay for 1,000 on an order of 5,000 (a held card payment)
        page.click('#packages .package[data-amount="5000"]')
        page.click('#gateways .gateway[data-gateway="BOOTPAY"]')
        page.click('#bootpay-methods .pay-method[data-method="card"]')
        page.wait_for_function("() => window.Bootpay && window.Bootpay.requestPayment")
        page.evaluate(TAMPER)
        page.click("#btn-pay")
        frame = page.frame_locator("#bootpay-sandbox-frame")
        expect(frame.locator(".price")).to_have_text("1,000원")
        # when the buyer approves it
        frame.locator('button[data-action="card"]').click()
        # then the page says what the server says: not confirmed, so not charged (nothing was
        # captured, so not "결제를 자동으로 취소했습니다")
        expect(message).to_have_class("message error")
        expect(message).to_contain_text("결제를 승인하지 않았으므로 청구되지 않습니다")
        expect(message).not_to_contain_text("자동으로 취소")
        rows = httpx.get(f"{base}/sandbox/bootpay/_control/receipts", timeout=10).json()
        assert [(r["price"], r["status"]) for r in rows] == [(1000, 2)]  # held, never confirmed
    except Exception:
        screenshot(page, "bootpay-not-charged-failure")
        raise
    assert js_errors == []
    assert list(run_async(ledger_invariants(database_url)).values()) == [0]  # type: ignore[union-attr]
