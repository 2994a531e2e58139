"""부트페이 (Bootpay) in the example apps (issue 24), in headless Chromium against a real API over HTTP
with its mounted Bootpay sandbox, the SDK and checkout window proxied through `vite preview`.

Card: the 결제사 switch shows (the sandbox server has both gateways on); the buyer closes Bootpay's
window first (a user cancel, said as PortOne's is), then approves a card: the window answers
`confirm` (separately_confirmed), the server confirms it with Bootpay and credits 5,000; the
history's 취소 cancels it by receiptId and the balance goes back to 0, the receipt cancelled at
Bootpay. Virtual account: `issued` is PAYMENT_PENDING, the account is listed as pending with its
receipt_id, the sandbox's 입금하기 button deposits into it (POST
/sandbox/bootpay/_control/receipts/{id}/deposit), Bootpay's webhook credits it and the app's
polling shows the balance without a reload.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_demo_browser import run_async
from tests.conftest import ledger_invariants
from tests.examples.support import APPS, shot, sign_up

pytestmark = pytest.mark.browser


def receipt(api: str, receipt_id: str) -> dict:
    """The receipt as Bootpay has it (the sandbox's control API)."""
    r = httpx.get(f"{api}/sandbox/bootpay/_control/receipts/{receipt_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def open_bootpay(page, amount: int, method: str):
    """부트페이, the method, 충전하기: Bootpay's checkout window (the sandbox's, in an iframe)."""
    page.click(f'.package[data-amount="{amount}"]')
    page.click('.gateway[data-gateway="BOOTPAY"]')
    page.click(f'.pay-method[data-method="{method}"]')
    page.click("#btn-pay")
    return page.frame_locator("#bootpay-sandbox-frame")


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_bootpay_card_charge_then_cancel(page_of, api: str, preview: str, database_url: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="bootpay-card-failure")
    balance, message = page.locator("#balance"), page.locator("#message")
    page.goto(preview + "/")
    sign_up(page, f"bootpay-{app}@example.com")

    # given a server with both gateways on: a switch, PortOne first
    expect(page.locator(".gateway")).to_have_text(["PortOne", "부트페이"])
    expect(page.locator('.gateway[data-gateway="PORTONE"]')).to_have_attribute("aria-checked", "true")
    expect(page.locator(".pay-method")).to_have_count(0)  # 카드 | 가상계좌 is Bootpay's

    # when the buyer closes Bootpay's window: a user cancel, nothing credited
    frame = open_bootpay(page, 5000, "card")
    expect(frame.locator(".price")).to_have_text("5,000원")
    page.get_by_role("button", name="결제창 닫기").click()
    expect(message).to_contain_text("결제를 취소했습니다.")
    expect(message).to_have_class("message warn")
    expect(balance).to_have_text("0")

    # when a card is approved: the server confirms it with Bootpay and credits it
    open_bootpay(page, 5000, "card").locator('button[data-action="card"]').click()
    expect(message).to_have_text("5,000P 충전이 완료되었습니다. 잔액 5,000P")
    expect(balance).to_have_text("5,000")
    row = page.locator('#history-rows tr[data-status="충전"]')
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-gateway", "BOOTPAY")
    receipt_id = row.get_attribute("data-imp-uid")
    assert receipt_id
    paid = receipt(api, receipt_id)
    assert (paid["status"], paid["price"]) == (1, 5000)  # confirmed by the server
    shot(page, app, "bootpay-card-charged")

    # when it is cancelled from the history: by its receipt_id, at Bootpay too
    row.locator(".cancel-charge").click()
    row.locator(".confirm-cancel").click()
    expect(message).to_have_text("5,000P 충전을 취소했습니다. 잔액 0P")
    expect(balance).to_have_text("0")
    expect(page.locator('#history-rows tr[data-status="취소"]')).to_have_attribute("data-imp-uid", receipt_id)
    cancelled = receipt(api, receipt_id)
    assert (cancelled["status"], cancelled["cancelled_price"]) == (20, 5000)
    assert list(run_async(ledger_invariants(database_url)).values()) == [0]  # type: ignore[union-attr]


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_bootpay_virtual_account_pending_then_deposited(page_of, api: str, preview: str, database_url: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="bootpay-vbank-failure")
    balance, message = page.locator("#balance"), page.locator("#message")
    page.goto(preview + "/")
    sign_up(page, f"bootpay-vbank-{app}@example.com")

    # when Bootpay issues a virtual account: pending, as PortOne's is
    open_bootpay(page, 30000, "vbank").locator('button[data-action="vbank"]').click()
    expect(message).to_have_attribute("data-code", "PAYMENT_PENDING")
    pending = page.locator("#pending li")
    expect(pending).to_have_count(1)
    expect(pending).to_have_attribute("data-gateway", "BOOTPAY")
    expect(pending).to_contain_text("30,000원")
    receipt_id = pending.get_attribute("data-receipt-id")
    assert receipt_id and receipt(api, receipt_id)["status"] == 5
    expect(balance).to_have_text("0")
    shot(page, app, "bootpay-vbank-pending")

    # when the buyer deposits (the sandbox's button: POST /sandbox/bootpay/_control/receipts/{id}/deposit):
    # Bootpay's webhook credits it, and the app, polling while an account waits, shows it
    pending.locator(".deposit").click()
    expect(balance).to_have_text("30,000")
    expect(page.locator("#pending")).to_have_count(0)
    expect(message).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
    assert receipt(api, receipt_id)["status"] == 1
    row = page.locator('#history-rows tr[data-status="충전"]')
    expect(row).to_have_attribute("data-gateway", "BOOTPAY")
    expect(row.locator("td.amount")).to_have_text("+30,000P")
    assert list(run_async(ledger_invariants(database_url)).values()) == [30000]  # type: ignore[union-attr]


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_a_refused_held_payment_says_nothing_was_charged(page_of, api: str, preview: str, database_url: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot="bootpay-not-charged-failure")
    message = page.locator("#message")
    page.goto(preview + "/")
    sign_up(page, f"bootpay-tamper-{app}@example.com")
    # given the SDK loaded (the window opened once and closed) and then tampered with: the page asks
    # Bootpay for 1,000 on an order of 5,000 (a card, held for the server's confirm)
    open_bootpay(page, 5000, "card")
    page.get_by_role("button", name="결제창 닫기").click()
    expect(message).to_contain_text("결제를 취소했습니다.")
    page.evaluate("""() => {
      const sdk = window.Bootpay, original = sdk.requestPayment.bind(sdk);
      sdk.requestPayment = (p) => original({...p, price: 1000, items: [{id: "p", name: "포인트", qty: 1, price: 1000}]});
    }""")
    frame = open_bootpay(page, 5000, "card")
    expect(frame.locator(".price")).to_have_text("1,000원")
    # when the buyer approves it
    frame.locator('button[data-action="card"]').click()
    # then the app says what the server says: not confirmed, so not charged (not "자동으로 취소")
    expect(message).to_contain_text("결제를 승인하지 않았으므로 청구되지 않습니다")
    expect(message).not_to_contain_text("자동으로 취소")
    rows = httpx.get(f"{api}/sandbox/bootpay/_control/receipts", timeout=10).json()
    assert [(r["price"], r["status"]) for r in rows if r["price"] == 1000] == [(1000, 2)]  # never confirmed
    assert list(run_async(ledger_invariants(database_url)).values()) == [0]  # type: ignore[union-attr]
