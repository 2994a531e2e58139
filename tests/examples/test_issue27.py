"""The example apps (examples/react, examples/vue), issue 27: an API outage (the API stopped and
started again on its port: the #offline banner, the session kept across a reload while it is down,
recovery without a reload), errors where the action is (field errors under their inputs, codes only
behind 개발자 정보), a 375 px phone, virtual accounts that update by themselves, the cancel form and
the pager, a cross-site build whose refresh cookie is not sent (the login form says why).
Same set-up as test_example_apps.py (vite preview of the build, proxying to the API in sandbox mode
over HTTP, headless Chromium). Scenarios both apps share run for both; the others are the app's own."""

from __future__ import annotations

import contextlib
import time

import pytest

from tests.api.test_demo_browser import run_async
from tests.conftest import ledger_invariants
from tests.examples.support import (
    APPS, EXAMPLES, PHONE, RestartableApi, charge_by_card, fits, issue_virtual_account, shot, sign_up,
)

pytestmark = pytest.mark.browser

# The retry's backoff tops out at 10 s (src/connection.ts): recovery comes within one period,
# with room for a loaded machine.
RECOVERY_MS = 40_000


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_outage_keeps_the_session_and_recovers_without_a_reload(
    page_of, api_server: RestartableApi, preview: str, request
) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot={"react": "failure", "vue": "outage-failure"}[app])
    offline = page.locator("#offline")
    # given a signed-up user with a charge
    page.goto(preview + "/")
    sign_up(page, "outage@example.com")
    expect(page.locator("#balance")).to_have_text("0")
    charge_by_card(page, 5000, "5,000")
    expect(offline).to_have_count(0)

    # when the API stops, the next request shows the banner instead of a dead card
    api_server.stop()
    page.get_by_role("tab", name="충전").click()
    expect(offline).to_contain_text("서버에 연결할 수 없습니다. 다시 연결되면 자동으로 불러옵니다.")
    expect(offline.get_by_role("button", name="다시 시도")).to_be_visible()
    offline.get_by_role("button", name="다시 시도").click()  # still down: the banner stays
    expect(offline).to_be_visible()

    # a reload while it is down keeps the session: no login form, still waiting, a manual retry
    page.reload()
    expect(offline).to_be_visible()
    expect(page.get_by_text("불러오는 중…")).to_be_visible()
    expect(page.locator("#auth")).to_have_count(0)
    offline.get_by_role("button", name="다시 시도").click()
    expect(offline).to_be_visible()
    shot(page, app, "offline")

    # then the API comes back on its port: the app recovers by itself (timed retry), no reload
    api_server.start()
    expect(page.locator("#user-name")).to_have_text("김철수", timeout=RECOVERY_MS)
    expect(page.locator("#balance")).to_have_text("5,000")
    expect(offline).to_have_count(0)
    expect(page.locator("#history-rows tr")).to_have_count(1)
    expect(page.locator("#auth")).to_have_count(0)

    # down again: the tab that failed meanwhile is fetched again on recovery (다시 시도 this time)
    api_server.stop()
    page.get_by_role("tab", name="구매").click()
    expect(offline).to_be_visible()
    expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_be_visible()
    api_server.start()
    # the app's own timed retry may recover first and take the banner (and its button) away:
    # then there is nothing to click, which is no failure
    with contextlib.suppress(PlaywrightError):
        offline.get_by_role("button", name="다시 시도").click(timeout=5_000)
    expect(offline).to_have_count(0)
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_have_count(0)
    shot(page, app, {"react": "reconnected", "vue": "recovered"}[app])
    # (page_of: the failed requests are not page errors)


@pytest.mark.parametrize("preview", APPS, indirect=True)
def test_errors_are_shown_where_the_action_is(page_of, preview: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["preview"]
    page = page_of(failure_shot={"react": "failure", "vue": "errors-failure"}[app])
    page.goto(preview + "/")
    message = page.locator("#message")
    # given an empty form, when signing up, then each missing field says so under itself
    page.click("#btn-signup")
    expect(page.locator("#email-error")).to_have_text("이메일을 입력해 주세요.")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name-error")).to_have_text("이름을 입력해 주세요.")
    # when the server refuses a field (extensions.field), its message is shown at that field
    page.fill("#email", "fields@example.com")
    page.fill("#password", "short")
    page.fill("#name", "김철수")
    page.click("#btn-signup")
    password_error = page.locator("#password-error.field-error")
    expect(password_error).to_have_text("비밀번호는 8자 이상이어야 합니다.")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-error")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "false")
    expect(page.get_by_text("입력값을 확인해 주세요.")).to_have_count(0)
    expect(message).to_have_count(0)
    shot(page, app, "field-error")
    page.fill("#password", "password123")  # typing again clears it; a good password signs up
    expect(password_error).to_have_count(0)
    page.click("#btn-signup")
    expect(page.locator("#user-name")).to_have_text("김철수")
    page.click("#btn-logout")
    page.fill("#email", "fields@example.com")
    page.fill("#password", "password123")
    page.fill("#name", "김철수")
    page.click("#btn-signup")
    expect(page.locator("#email-error")).to_contain_text("이미 가입된 이메일입니다.")

    # an error about no field: words in #message next to the form, the code only for developers
    # behind a collapsed 개발자 정보
    page.fill("#password", "wrong-password")
    page.click("#btn-login")
    auth_message = page.locator("#auth #message")
    expect(auth_message).to_contain_text("이메일 또는 비밀번호가 일치하지 않습니다.")
    details = auth_message.locator("details.dev-info")
    expect(details).not_to_have_attribute("open", "")
    expect(details.locator("summary")).to_have_text("개발자 정보")
    expect(details.locator("code")).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator("code")).to_have_text("UNAUTHENTICATED")

    # the charge box's failure is said in the charge box, in view
    page.fill("#password", "password123")
    page.click("#btn-login")
    page.click('.package[data-amount="1000"]')
    page.click("#btn-pay")
    page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-decline").click()
    charge_message = page.locator("#charge #message")
    expect(charge_message).to_contain_text("결제에 실패했습니다.")
    expect(charge_message).to_have_attribute("role", "alert")
    expect(charge_message).to_be_in_viewport()
    shot(page, app, "charge-error")


@pytest.mark.parametrize("preview", ["react"], indirect=True)
def test_react_fits_a_375px_phone(page_of, preview: str) -> None:
    from playwright.sync_api import expect

    page = page_of(**PHONE)
    page.goto(preview + "/")
    email = "a-rather-long-address-123456@example.com"
    assert len(email) == 40
    sign_up(page, email)
    charge_by_card(page, 1000)
    page.locator("#history-rows tr").first.locator(".cancel-charge").click()
    expect(page.locator("form.cancel-form")).to_be_visible()
    fits(page)
    logout = page.locator("#btn-logout").bounding_box()
    assert logout is not None and logout["x"] + logout["width"] <= 375
    shot(page, "react", "375px-cancel-form")


@pytest.mark.parametrize("preview", ["react"], indirect=True)
def test_react_virtual_account_deposit_shows_without_a_reload(page_of, preview: str) -> None:
    from playwright.sync_api import expect

    page = page_of()
    orders_asked: list[float] = []
    page.on("request", lambda r: "ChargeOrders" in (r.post_data or "") and orders_asked.append(time.monotonic()))
    page.goto(preview + "/")
    sign_up(page, "vbank@example.com")
    # given a virtual account issued in the sandbox
    pending = issue_virtual_account(page, 30000)
    shot(page, "react", "vbank-pending")
    # when the buyer deposits (the sandbox's test button), then the balance and lists update
    pending.first.get_by_role("button", name="입금하기 (테스트)").click()
    expect(page.locator("#balance")).to_have_text("30,000")
    expect(page.locator("#pending")).to_have_count(0)
    expect(page.locator("#history-rows tr")).to_have_count(1)
    expect(page.locator("#history-rows tr td.amount")).to_have_text("+30,000P")
    expect(page.locator("#message")).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
    shot(page, "react", "vbank-deposited")
    # and with nothing pending the polling stops (the refetches that follow the deposit aside)
    time.sleep(4)
    settled = len(orders_asked)
    time.sleep(7)  # more than two polling periods
    assert len(orders_asked) == settled


@pytest.mark.parametrize("preview", ["react"], indirect=True)
def test_react_cancel_form_resets_and_pager_hides(page_of, preview: str) -> None:
    from playwright.sync_api import expect

    page = page_of()
    page.goto(preview + "/")
    sign_up(page, "small@example.com")
    # an empty history has no pager
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.locator(".pager")).to_have_count(0)
    charge_by_card(page, 1000)
    charge_by_card(page, 5000)
    rows = page.locator("#history-rows tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".pager")).to_be_visible()

    # part of the 1,000 cancelled: the form offers no more than what is left
    small = rows.filter(has_text="+1,000P")
    small.locator(".cancel-charge").click()
    form = small.locator("form.cancel-form")
    form.locator('input[name="amount"]').fill("300")
    form.locator('input[name="reason"]').fill("일부 취소")
    form.locator(".confirm-cancel").click()
    expect(page.locator("#message")).to_have_text("300P 충전을 취소했습니다. 잔액 5,700P")
    small.locator(".cancel-charge").click()
    expect(form.locator('input[name="amount"]')).to_have_attribute("max", "700")
    expect(form.locator('input[name="amount"]')).to_have_value("")
    expect(form.locator('input[name="reason"]')).to_have_value("")
    form.locator('input[name="amount"]').fill("5000")  # more than is left: the button stays at the cap
    expect(form.locator(".confirm-cancel")).to_have_text("700P 환불")
    form.locator('input[name="reason"]').fill("다른 사유")

    # opening another row's form closes this one; the other starts empty
    big = rows.filter(has_text="+5,000P")
    big.locator(".cancel-charge").click()
    expect(page.locator("form.cancel-form")).to_have_count(1)
    expect(big.locator('input[name="reason"]')).to_have_value("")
    expect(big.locator('input[name="amount"]')).to_have_attribute("max", "5000")


@pytest.mark.parametrize("preview", ["vue"], indirect=True)
def test_vue_phone_width_vbank_deposit_and_cancel_form(page_of, preview: str, database_url: str) -> None:
    from playwright.sync_api import expect

    page = page_of(**PHONE, failure_shot="phone-failure")
    email = "a.very.long.address.for.a.phone@example.com"  # 40+ characters
    assert len(email) >= 40
    balance = page.locator("#balance")
    page.goto(preview + "/")
    sign_up(page, email)
    # an empty history: no pager to page through nothing
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.locator("#history .pager")).to_have_count(0)
    expect(page.locator("#btn-logout")).to_be_in_viewport()
    fits(page)

    # a virtual account: pending, with the sandbox's 입금하기 (테스트)
    pending = issue_virtual_account(page, 30000)
    fits(page)
    shot(page, "vue", "phone-pending")
    # the deposit: the sandbox's webhook credits it; the app sees it with no reload
    pending.first.get_by_role("button", name="입금하기 (테스트)").click()
    expect(balance).to_have_text("30,000")
    expect(page.locator("#pending")).to_have_count(0)
    expect(page.locator("#message")).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
    rows = page.locator("#history-rows tr")
    expect(rows).to_have_count(1)
    expect(page.locator("#history .pager")).to_be_visible()

    # a second charge, by card
    charge_by_card(page, 1000, "31,000")
    expect(rows).to_have_count(2)
    card_row = rows.filter(has_text="+1,000P")
    vbank_row = rows.filter(has_text="+30,000P")

    # the cancel form: one at a time, empty on each opening, capped at what is left
    card_row.locator(".cancel-charge").click()
    card_form = card_row.locator("form.cancel-form")
    card_form.locator('input[name="reason"]').fill("단순 변심")
    expect(card_form.locator('input[name="amount"]')).to_have_attribute("max", "1000")
    vbank_row.locator(".cancel-charge").click()
    expect(card_form).to_have_count(0)
    form = vbank_row.locator("form.cancel-form")
    expect(form.locator('input[name="amount"]')).to_have_attribute("max", "30000")
    fits(page)
    shot(page, "vue", "phone-cancel-form")

    # without a refund account: the error is inside the form, at the bank, in words
    form.locator('input[name="amount"]').fill("10000")
    form.locator(".confirm-cancel").click()
    message = form.locator("#message")
    expect(message).to_contain_text("환불 계좌를 입력해 주세요.")
    expect(message).to_be_in_viewport()
    expect(message.locator("details.dev-info code")).to_be_hidden()
    expect(form.locator('select[name="refund-bank"]')).to_have_attribute("aria-invalid", "true")
    fits(page)
    shot(page, "vue", "phone-cancel-error")

    # with it: the sentence reads, and the form closes
    form.locator('select[name="refund-bank"]').select_option("088")
    form.locator('input[name="refund-number"]').fill("110-432-1987654")
    form.locator('input[name="refund-holder"]').fill("김철수")
    form.locator(".confirm-cancel").click()
    expect(page.locator("#message")).to_have_text(
        "10,000P 충전을 취소했습니다. 입력한 계좌로 환불됩니다. 잔액 21,000P"
    )
    expect(balance).to_have_text("21,000")
    # reopened: empty again, and capped at the 20,000 that is left
    card_row.locator(".cancel-charge").click()
    expect(card_row.locator('input[name="reason"]')).to_have_value("")
    vbank_row.locator(".cancel-charge").click()
    expect(form.locator('input[name="amount"]')).to_have_value("")
    expect(form.locator('input[name="amount"]')).to_have_attribute("max", "20000")
    expect(form.locator(".confirm-cancel")).to_have_text("20,000P 환불")
    form.locator('input[name="amount"]').fill("25000")  # more than is left: the label stays at the cap
    expect(form.locator(".confirm-cancel")).to_have_text("20,000P 환불")
    fits(page)
    shot(page, "vue", "phone-375")

    assert list(run_async(ledger_invariants(database_url)).values()) == [21000]  # type: ignore[union-attr]


@pytest.mark.parametrize("app", APPS)
def test_build_loads_the_sdk_at_runtime(app: str) -> None:
    """index.html has no classic script for Vite to warn about; src/portone.ts adds it."""
    index = (EXAMPLES / app / "index.html").read_text()
    assert "iamport" not in index and "VITE_IAMPORT_SDK_URL" not in index


@pytest.mark.parametrize("cross_site_preview", APPS, indirect=True)
def test_cross_site_build_without_cookie_says_why(page_of, cross_site_preview: str, request) -> None:
    from playwright.sync_api import expect

    app = request.node.callspec.params["cross_site_preview"]
    page = page_of(failure_shot={"react": "failure", "vue": "cross-site-failure"}[app])
    # given a login in this tab, through the API on another site (CORS lets it through)
    page.goto(cross_site_preview + "/")
    sign_up(page, "crosssite@example.com")
    expect(page.locator("#balance")).to_have_text("0")
    # when the page reloads, restoreAccessToken finds no cookie (SameSite=Lax, cross-site)
    page.reload()
    # then the login form says why instead of silently looking logged out
    notice = page.locator("#message")
    expect(notice).to_have_attribute("data-code", "CROSS_SITE_COOKIE")
    expect(notice).to_contain_text("API가 다른 사이트에 있어 브라우저가 로그인 쿠키(refresh cookie)를 보내지 않았습니다.")
    expect(notice).to_contain_text("README: Cross-site, when you cannot proxy")
    expect(page.locator("#auth")).to_be_visible()
    shot(page, app, "cross-site-cookie")
    # logged out on purpose: a plain login form, no explanation
    page.fill("#email", "crosssite@example.com")
    page.fill("#password", "password123")
    page.click("#btn-login")
    expect(page.locator("#user-name")).to_have_text("김철수")
    page.click("#btn-logout")
    # the logout finishes before the reload (a reload mid-logout is another test's question)
    expect(page.locator("#auth")).to_be_visible()
    page.reload()
    expect(page.locator("#auth")).to_be_visible()
    expect(notice).to_have_count(0)
