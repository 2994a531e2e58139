"""examples/react, issue 27: an API outage, errors where the action is, a 375 px phone, virtual
accounts that update by themselves, the cancel form and the pager, a cross-site build without its
cookie. Same set-up as test_example_apps.py (vite preview of the build, proxying to the API in sandbox
mode over HTTP, headless Chromium); here the API can be stopped and started again on its port."""

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
from tests.conftest import make_settings, wipe_tables
from tests.examples.test_example_apps import EXAMPLES, TIMEOUT_MS, browser, ensure_built, free_port, preview  # noqa: F401
from tests.servers import reserve_socket, run_server, socket_url

pytestmark = pytest.mark.browser

REACT = [pytest.param("react", id="react")]


class RestartableApi:
    """The API in sandbox mode on a fixed 127.0.0.1 port that a test can stop and start again."""

    def __init__(self, database_url: str) -> None:
        sock = reserve_socket()
        self.port = sock.getsockname()[1]
        self.url = socket_url(sock)
        self.settings = make_settings(database_url, public_url=self.url, portone_timeout_s=5.0)
        self._running: contextlib.ExitStack | None = None
        self.start(sock)

    def start(self, sock: socket.socket | None = None) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
        stack = contextlib.ExitStack()
        stack.enter_context(run_server(create_app(self.settings), sock=sock))
        self._running = stack

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


@pytest.fixture
def api_server(database_url: str) -> Iterator[RestartableApi]:
    run_async(wipe_tables(database_url))
    server = RestartableApi(database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(api_server: RestartableApi) -> str:  # what test_example_apps' `preview` proxies to
    return api_server.url


@contextlib.contextmanager
def opened(browser, width: int = 800, height: int = 900) -> Iterator[tuple[object, list[str]]]:  # noqa: F811
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
    ctx.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = ctx.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    try:
        yield page, js_errors
    except Exception:
        shot(page, "failure")
        raise
    finally:
        ctx.close()


def shot(page, state: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"example-react-{state}.png"), full_page=True)


def sign_up(page, email: str, name: str = "김철수") -> None:
    from playwright.sync_api import expect

    page.fill("#email", email)
    page.fill("#password", "password123")
    page.fill("#name", name)
    page.click("#btn-signup")
    expect(page.locator("#user-name")).to_have_text(name)


def charge_card(page, amount: int) -> None:
    from playwright.sync_api import expect

    page.click(f'.package[data-amount="{amount}"]')
    page.click("#btn-pay")
    page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-approve").click()
    expect(page.locator("#message")).to_contain_text(f"{amount:,}P 충전이 완료되었습니다.")


@pytest.mark.parametrize("preview", REACT, indirect=True)
def test_react_outage_keeps_the_session_and_recovers_without_a_reload(
    browser, api_server: RestartableApi, preview: str  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with opened(browser) as (page, js_errors):
        # given a signed-up user with a charge
        page.goto(preview + "/")
        sign_up(page, "outage@example.com")
        charge_card(page, 5000)
        offline = page.locator("#offline")
        expect(offline).to_have_count(0)

        # when the API stops, the next request shows the banner instead of a dead card
        api_server.stop()
        page.get_by_role("tab", name="충전").click()
        expect(offline).to_contain_text("서버에 연결할 수 없습니다. 다시 연결되면 자동으로 불러옵니다.")
        expect(offline.get_by_role("button", name="다시 시도")).to_be_visible()
        offline.get_by_role("button", name="다시 시도").click()  # still down: the banner stays
        expect(offline).to_be_visible()

        # a reload while it is down keeps the session: no login form, still waiting
        page.reload()
        expect(offline).to_be_visible()
        expect(page.get_by_text("불러오는 중…")).to_be_visible()
        expect(page.locator("#auth")).to_have_count(0)
        shot(page, "offline")

        # then the API comes back on its port: the app recovers by itself (timed retry), no reload
        api_server.start()
        expect(page.locator("#user-name")).to_have_text("김철수", timeout=40_000)
        expect(page.locator("#balance")).to_have_text("5,000")
        expect(offline).to_have_count(0)
        expect(page.locator("#history-rows tr")).to_have_count(1)

        # down again: the tab that failed meanwhile is fetched again on recovery (다시 시도 this time)
        api_server.stop()
        page.get_by_role("tab", name="구매").click()
        expect(offline).to_be_visible()
        expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_be_visible()
        api_server.start()
        offline.get_by_role("button", name="다시 시도").click()
        expect(offline).to_have_count(0)
        expect(page.locator("#history-empty")).to_be_visible()
        expect(page.get_by_text("내역을 불러오지 못했습니다.")).to_have_count(0)
        shot(page, "reconnected")
    # the failed requests are not page errors
    assert js_errors == []


@pytest.mark.parametrize("preview", REACT, indirect=True)
def test_react_errors_are_shown_where_the_action_is(browser, preview: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with opened(browser) as (page, js_errors):
        page.goto(preview + "/")
        message = page.locator("#message")
        # given an empty form, when signing up, then each missing field says so under itself
        page.click("#btn-signup")
        expect(page.locator("#email-error")).to_have_text("이메일을 입력해 주세요.")
        expect(page.locator("#name-error")).to_have_text("이름을 입력해 주세요.")
        # when the server refuses a field (extensions.field), its message is shown at that field
        page.fill("#email", "fields@example.com")
        page.fill("#password", "short")
        page.fill("#name", "김철수")
        page.click("#btn-signup")
        expect(page.locator("#password-error")).to_have_text("비밀번호는 8자 이상이어야 합니다.")
        expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-error")
        expect(page.locator("#email")).to_have_attribute("aria-invalid", "false")
        expect(page.get_by_text("입력값을 확인해 주세요.")).to_have_count(0)
        expect(message).to_have_count(0)
        shot(page, "field-error")
        page.fill("#password", "password123")  # typing again clears it
        expect(page.locator("#password-error")).to_have_count(0)
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
        shot(page, "charge-error")
    assert js_errors == []


@pytest.mark.parametrize("preview", REACT, indirect=True)
def test_react_fits_a_375px_phone(browser, preview: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with opened(browser, 375, 812) as (page, js_errors):
        page.goto(preview + "/")
        email = "a-rather-long-address-123456@example.com"
        assert len(email) == 40
        sign_up(page, email)
        charge_card(page, 1000)
        page.locator("#history-rows tr").first.locator(".cancel-charge").click()
        expect(page.locator("form.cancel-form")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
        logout = page.locator("#btn-logout").bounding_box()
        assert logout is not None and logout["x"] + logout["width"] <= 375
        shot(page, "375px-cancel-form")
    assert js_errors == []


@pytest.mark.parametrize("preview", REACT, indirect=True)
def test_react_virtual_account_deposit_shows_without_a_reload(browser, preview: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with opened(browser) as (page, js_errors):
        orders_asked: list[float] = []
        page.on("request", lambda r: "ChargeOrders" in (r.post_data or "") and orders_asked.append(time.monotonic()))
        page.goto(preview + "/")
        sign_up(page, "vbank@example.com")
        # given a virtual account issued in the sandbox
        page.click('.package[data-amount="30000"]')
        page.click("#btn-pay")
        page.frame_locator("iframe.imp-sandbox-frame").locator("#btn-vbank").click()
        pending = page.locator("#pending li")
        expect(pending).to_have_count(1)
        shot(page, "vbank-pending")
        # when the buyer deposits (the sandbox's test button), then the balance and lists update
        pending.first.get_by_role("button", name="입금하기 (테스트)").click()
        expect(page.locator("#balance")).to_have_text("30,000")
        expect(page.locator("#pending")).to_have_count(0)
        expect(page.locator("#history-rows tr")).to_have_count(1)
        expect(page.locator("#history-rows tr td.amount")).to_have_text("+30,000P")
        expect(page.locator("#message")).to_have_text("가상계좌 입금이 확인되어 30,000P가 충전되었습니다.")
        shot(page, "vbank-deposited")
        # and with nothing pending the polling stops (the refetches that follow the deposit aside)
        time.sleep(4)
        settled = len(orders_asked)
        time.sleep(7)  # more than two polling periods
        assert len(orders_asked) == settled
    assert js_errors == []


@pytest.mark.parametrize("preview", REACT, indirect=True)
def test_react_cancel_form_resets_and_pager_hides(browser, preview: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with opened(browser) as (page, js_errors):
        page.goto(preview + "/")
        sign_up(page, "small@example.com")
        # an empty history has no pager
        expect(page.locator("#history-empty")).to_be_visible()
        expect(page.locator(".pager")).to_have_count(0)
        charge_card(page, 1000)
        charge_card(page, 5000)
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
    assert js_errors == []


def test_react_build_loads_the_sdk_at_runtime() -> None:
    """index.html has no classic script for Vite to warn about; src/portone.ts adds it."""
    index = (EXAMPLES / "react" / "index.html").read_text()
    assert "iamport" not in index and "VITE_IAMPORT_SDK_URL" not in index


@pytest.fixture
def cross_site_preview(api: str, tmp_path: Path) -> Iterator[str]:
    """A build that calls the API directly on 127.0.0.1 from a page on localhost: another site."""
    app_dir = EXAMPLES / "react"
    ensure_built(app_dir)  # node_modules
    out = tmp_path / "dist"
    env = {**os.environ, "VITE_POINTCHARGE_API_URL": api, "VITE_IAMPORT_SDK_URL": f"{api}/sandbox/portone/iamport.js"}
    vite = str(app_dir / "node_modules" / "vite" / "bin" / "vite.js")
    done = subprocess.run(
        ["node", vite, "build", "--outDir", str(out), "--emptyOutDir"], cwd=app_dir, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    proc = subprocess.Popen(
        ["node", vite, "preview", "--outDir", str(out), "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):  # 30 s
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None, "vite preview exited"
            time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_react_cross_site_build_without_cookie_says_why(browser, cross_site_preview: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    with opened(browser) as (page, js_errors):
        page.goto(cross_site_preview + "/")
        sign_up(page, "crosssite@example.com")  # CORS lets the login through; the cookie stays behind
        page.reload()
        notice = page.locator("#message")
        expect(notice).to_have_attribute("data-code", "CROSS_SITE_COOKIE")
        expect(notice).to_contain_text("API가 다른 사이트에 있어 브라우저가 로그인 쿠키(refresh cookie)를 보내지 않았습니다.")
        expect(notice).to_contain_text("README: Cross-site, when you cannot proxy")
        expect(page.locator("#auth")).to_be_visible()
        shot(page, "cross-site-cookie")
        # logged out on purpose: a plain login form, no explanation
        page.fill("#email", "crosssite@example.com")
        page.fill("#password", "password123")
        page.click("#btn-login")
        expect(page.locator("#user-name")).to_have_text("김철수")
        page.click("#btn-logout")
        page.reload()
        expect(page.locator("#auth")).to_be_visible()
        expect(notice).to_have_count(0)
    assert js_errors == []
