"""examples/vue, issue 27's app items, in headless Chromium against a real API over HTTP.

- An API outage: the API server is stopped (and restarted on the same port): the #offline banner,
  the session kept across a reload while it is down (the login form never shows), and recovery
  without a reload once it is back (the timed retry restores the session and refetches).
- Errors where the action is: sign-up's field errors under their inputs (aria-invalid,
  .field-error, the server's words); the cancel form's error inside the form; codes only behind
  개발자 정보.
- A phone (375×812): a 40-character e-mail and an open cancel form fit the screen; a virtual
  account's 입금하기 (테스트) credits it with no reload (the app polls while one is pending); one
  cancel form at a time, empty on each opening, its amount capped at what is left; no pager for an
  empty history.
- A cross-site build (VITE_POINTCHARGE_API_URL on another site) whose refresh cookie is not sent:
  after a reload the login form says why, naming the README's section.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.api.test_demo_browser import run_async
from tests.browser import ARTIFACTS
from tests.conftest import ledger_invariants, make_settings, wipe_tables
from tests.examples.test_example_apps import (  # noqa: F401 (browser, preview: fixtures)
    EXAMPLES,
    TIMEOUT_MS,
    browser,
    ensure_built,
    free_port,
    preview,
)
from tests.servers import reserve_socket, run_server, socket_url

pytestmark = pytest.mark.browser

# The retry's backoff tops out at 10 s (src/connection.ts): recovery comes within one period.
RECOVERY_MS = 25_000


class RestartableApi:
    """The API in sandbox mode on one port that a test can stop and start again."""

    def __init__(self, database_url: str) -> None:
        sock = reserve_socket()
        self.url = socket_url(sock)
        self.port = sock.getsockname()[1]
        self.settings = make_settings(database_url, public_url=self.url, portone_timeout_s=5.0)
        self._running: contextlib.ExitStack | None = None
        self._start(sock)

    def _start(self, sock: socket.socket) -> None:
        stack = contextlib.ExitStack()
        stack.enter_context(run_server(create_app(self.settings), sock=sock))
        self._running = stack

    def stop(self) -> None:
        assert self._running is not None
        self._running.close()  # uvicorn stops and the listening socket is closed
        self._running = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._start(sock)

    def close(self) -> None:
        if self._running is not None:
            self.stop()


@pytest.fixture
def server(database_url: str) -> Iterator[RestartableApi]:
    run_async(wipe_tables(database_url))
    api = RestartableApi(database_url)
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def api(server: RestartableApi) -> str:
    """Overrides test_example_apps' `api`: the preview proxies to the restartable server."""
    return server.url


@pytest.fixture
def page_of(browser):  # noqa: F811
    from playwright.sync_api import expect

    contexts = []
    errors: list[str] = []

    def open_page(width: int = 800, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    expect.set_options(timeout=TIMEOUT_MS)
    yield open_page
    for ctx in contexts:
        ctx.close()
    assert errors == []


def shot(page, state: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"example-vue-{state}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_up(page, email: str, name: str = "김철수") -> None:
    from playwright.sync_api import expect

    page.fill("#email", email)
    page.fill("#password", "password123")
    page.fill("#name", name)
    page.click("#btn-signup")
    expect(page.locator("#user-name")).to_have_text(name)


def charge_by_card(page, amount: int, balance_after: str) -> None:
    from playwright.sync_api import expect

    page.click(f'.package[data-amount="{amount}"]')
    page.click("#btn-pay")
    page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-approve").click()
    expect(page.locator("#balance")).to_have_text(balance_after)


@pytest.mark.parametrize("preview", ["vue"], indirect=True)
def test_vue_outage_keeps_the_session_and_recovers_without_a_reload(
    page_of, server: RestartableApi, preview: str
) -> None:
    from playwright.sync_api import expect

    page = page_of()
    banner = page.locator("#offline")
    try:
        # given a signed-up user on the app
        page.goto(preview + "/")
        sign_up(page, "outage@example.com")
        expect(page.locator("#balance")).to_have_text("0")
        expect(banner).to_have_count(0)

        # when the API goes away, the next request shows the banner, not "…불러오지 못했습니다." alone
        server.stop()
        page.get_by_role("tab", name="충전").click()
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("서버에 연결할 수 없습니다. 다시 연결되면 자동으로 불러옵니다.")

        # a reload while it is down keeps the session: no login form, the banner, a manual retry
        page.reload()
        expect(banner).to_be_visible()
        expect(page.locator("#auth")).to_have_count(0)
        banner.get_by_role("button", name="다시 시도").click()
        expect(banner).to_be_visible()
        expect(page.locator("#auth")).to_have_count(0)
        shot(page, "offline")

        # then the API comes back on the same port: the app recovers by itself (no reload, no click)
        server.start()
        expect(page.locator("#balance")).to_have_text("0", timeout=RECOVERY_MS)
        expect(banner).to_have_count(0)
        expect(page.locator("#user-name")).to_have_text("김철수")
        expect(page.locator("#history-empty")).to_be_visible()
        expect(page.locator("#auth")).to_have_count(0)

        # and down again: the tab that failed meanwhile is refetched on recovery (다시 시도 this time)
        server.stop()
        page.get_by_role("tab", name="구매").click()
        expect(banner).to_be_visible()
        expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_be_visible()
        server.start()
        banner.get_by_role("button", name="다시 시도").click()
        expect(banner).to_have_count(0)
        expect(page.locator("#history-empty")).to_be_visible()
        expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_have_count(0)
        shot(page, "recovered")
    except Exception:
        shot(page, "outage-failure")
        raise


@pytest.mark.parametrize("preview", ["vue"], indirect=True)
def test_vue_sign_up_errors_are_shown_at_their_fields(page_of, preview: str) -> None:
    from playwright.sync_api import expect

    page = page_of()
    try:
        page.goto(preview + "/")
        # empty inputs: each one says what it needs
        page.click("#btn-signup")
        expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#email-error")).to_have_text("이메일을 입력해 주세요.")
        expect(page.locator("#name-error")).to_have_text("이름을 입력해 주세요.")

        # the server names the field and says why (extensions.field): shown under that input
        page.fill("#email", "short@example.com")
        page.fill("#password", "short")
        page.fill("#name", "김철수")
        page.click("#btn-signup")
        password_error = page.locator("#password-error.field-error")
        expect(password_error).to_have_text("비밀번호는 8자 이상이어야 합니다.")
        expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-error")
        expect(page.locator("#email")).to_have_attribute("aria-invalid", "false")
        expect(page.get_by_text("입력값을 확인해 주세요.")).to_have_count(0)
        shot(page, "field-error")

        # typing again clears it; a good password signs up
        page.fill("#password", "password123")
        expect(password_error).to_have_count(0)
        page.click("#btn-signup")
        expect(page.locator("#user-name")).to_have_text("김철수")

        # an error that is about no field: words in #message next to the form, the code only for
        # developers behind a collapsed 개발자 정보
        page.click("#btn-logout")
        page.fill("#email", "short@example.com")
        page.fill("#password", "wrong-password")
        page.click("#btn-login")
        message = page.locator("#auth #message")
        expect(message).to_contain_text("이메일 또는 비밀번호가 일치하지 않습니다.")
        details = message.locator("details.dev-info")
        expect(details).not_to_have_attribute("open", "")
        expect(details.locator("summary")).to_have_text("개발자 정보")
        expect(details.locator("code")).to_have_text("UNAUTHENTICATED")
        expect(details.locator("code")).to_be_hidden()
    except Exception:
        shot(page, "errors-failure")
        raise


@pytest.mark.parametrize("preview", ["vue"], indirect=True)
def test_vue_phone_width_vbank_deposit_and_cancel_form(page_of, preview: str, database_url: str) -> None:
    from playwright.sync_api import expect

    page = page_of(375, 812)
    email = "a.very.long.address.for.a.phone@example.com"  # 40+ characters
    assert len(email) >= 40
    balance = page.locator("#balance")

    def fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width}px wide at 375px"

    try:
        page.goto(preview + "/")
        sign_up(page, email)
        # an empty history: no pager to page through nothing
        expect(page.locator("#history-empty")).to_be_visible()
        expect(page.locator("#history .pager")).to_have_count(0)
        expect(page.locator("#btn-logout")).to_be_in_viewport()
        fits()

        # a virtual account: pending, with the sandbox's 입금하기 (테스트)
        page.click('.package[data-amount="30000"]')
        page.click("#btn-pay")
        page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-vbank").click()
        pending = page.locator("#pending li")
        expect(pending).to_have_count(1)
        fits()
        shot(page, "phone-pending")
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
        fits()
        shot(page, "phone-cancel-form")

        # without a refund account: the error is inside the form, at the bank, in words
        form.locator('input[name="amount"]').fill("10000")
        form.locator(".confirm-cancel").click()
        message = form.locator("#message")
        expect(message).to_contain_text("환불 계좌를 입력해 주세요.")
        expect(message).to_be_in_viewport()
        expect(message.locator("details.dev-info code")).to_be_hidden()
        expect(form.locator('select[name="refund-bank"]')).to_have_attribute("aria-invalid", "true")
        fits()
        shot(page, "phone-cancel-error")

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
        fits()
        shot(page, "phone-375")
    except Exception:
        shot(page, "phone-failure")
        raise

    assert list(run_async(ledger_invariants(database_url)).values()) == [21000]  # type: ignore[union-attr]


@pytest.fixture
def cross_site_preview(server: RestartableApi, tmp_path: Path) -> Iterator[str]:
    """The app built to call the API at 127.0.0.1 directly (no proxy) and opened on localhost:
    another site, so the API's SameSite=Lax refresh cookie never comes back."""
    app_dir = EXAMPLES / "vue"
    ensure_built(app_dir)  # node_modules
    out = tmp_path / "dist"
    vite = str(app_dir / "node_modules" / "vite" / "bin" / "vite.js")
    env = {**os.environ, "VITE_POINTCHARGE_API_URL": server.url, "POINTCHARGE_API_URL": server.url}
    build = subprocess.run(
        ["node", vite, "build", "--outDir", str(out), "--emptyOutDir"],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    port = free_port()
    log = (tmp_path / "vite.log").open("w")
    proc = subprocess.Popen(
        ["node", vite, "preview", "--outDir", str(out), "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "vite preview did not start"
            time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_vue_cross_site_build_that_loses_the_cookie_says_why(page_of, cross_site_preview: str) -> None:
    from playwright.sync_api import expect

    page = page_of()
    try:
        # given a login in this tab, through the API on another site (CORS allows it)
        page.goto(cross_site_preview + "/")
        sign_up(page, "cross@example.com")
        expect(page.locator("#balance")).to_have_text("0")
        # when the page reloads, restoreAccessToken finds no cookie (SameSite=Lax, cross-site)
        page.reload()
        # then the login form says why instead of silently looking logged out
        expect(page.locator("#auth")).to_be_visible()
        message = page.locator("#message")
        expect(message).to_contain_text("API가 다른 사이트에 있어")
        expect(message).to_contain_text("README: Cross-site, when you cannot proxy")
        expect(message).to_have_attribute("data-code", "CROSS_SITE_COOKIE")
        shot(page, "cross-site-cookie")
    except Exception:
        shot(page, "cross-site-failure")
        raise
