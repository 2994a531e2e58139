"""The Bootpay browser SDK emulator (/bootpay.js, Bootpay.requestPayment) in headless Chromium: a
merchant page on its own origin opens the checkout window, a "buyer" clicks in it, and the result
is checked in the promise, at the REST API and in the webhook log."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser import launch_chromium
from tests.sandbox.bootpay import bootpay, bootpay_session  # noqa: F401 - fixtures
from tests.servers import run_server

pytestmark = pytest.mark.browser
TIMEOUT_MS = 10_000

PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>가맹점</title>
<script src="{sdk}"></script></head><body><h1>가맹점</h1><pre id="query">{query}</pre>
<script>
window.pay = (options) => {{
  window.outcome = undefined;
  Bootpay.requestPayment(options).then((r) => {{ window.outcome = {{resolved: r}}; }},
                                       (e) => {{ window.outcome = {{rejected: e}}; }});
}};
</script></body></html>"""


@pytest.fixture(scope="module")
def merchant(bootpay_session) -> Iterator[str]:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.format(sdk=html.escape(bootpay_session.base_url + "/bootpay.js"),
                                        query=html.escape(request.url.query)))

    with run_server(Starlette(routes=[Route("/{path:path}", page)])) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch_chromium()


@pytest.fixture
def page(browser, merchant):
    ctx = browser.new_context(locale="ko-KR")
    ctx.set_default_timeout(TIMEOUT_MS)
    tab = ctx.new_page()
    tab.goto(merchant + "/order")
    yield tab
    ctx.close()


def options(bootpay, **extra) -> dict:
    return {"application_id": bootpay.config.application_id, "price": 5000, "order_id": "web-1",
            "order_name": "포인트 5,000", **extra}


def outcome(page) -> dict:
    page.wait_for_function("window.outcome !== undefined")
    return page.evaluate("window.outcome")


def test_card_payment_resolves_done_with_the_receipt(page, bootpay):
    page.evaluate("(o) => pay(o)", options(bootpay, items=[{"id": "p", "name": "포인트", "qty": 1, "price": 5000}]))
    window = page.frame_locator("#bootpay-sandbox-frame")
    window.get_by_text("5,000원").wait_for()
    window.get_by_role("button", name="카드로 결제").click()
    result = outcome(page)["resolved"]
    assert result["event"] == "done" and result["data"]["status"] == 1 and result["data"]["order_id"] == "web-1"
    # the window is gone, and the merchant's server finds the same receipt
    assert page.locator("#bootpay-sandbox-overlay").count() == 0
    receipt = bootpay.rest("GET", f"/receipt/{result['data']['receipt_id']}").json()
    assert (receipt["status"], receipt["price"]) == (1, 5000)


def test_virtual_account_resolves_issued(page, bootpay):
    page.evaluate("(o) => pay(o)", options(bootpay, method="vbank"))
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="가상계좌 발급").click()
    result = outcome(page)["resolved"]
    assert result["event"] == "issued" and result["data"]["status"] == 5 and result["data"]["vbank_data"]["bank_account"]


def test_separately_confirmed_resolves_confirm_and_waits_at_2(page, bootpay):
    page.evaluate("(o) => pay(o)", options(bootpay, extra={"separately_confirmed": True}))
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="카드로 결제").click()
    result = outcome(page)["resolved"]
    assert set(result) == {"event", "application_id", "receipt_id", "gateway_url", "order_id"}
    assert result["event"] == "confirm"
    assert bootpay.rest("GET", f"/receipt/{result['receipt_id']}").json()["status"] == 2
    assert bootpay.rest("POST", "/confirm", json={"receipt_id": result["receipt_id"]}).json()["status"] == 1


def test_cancel_button_and_close_reject_with_cancel(page, bootpay):
    page.evaluate("(o) => pay(o)", options(bootpay))
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="결제 취소").click()
    assert outcome(page)["rejected"]["event"] == "cancel"
    page.evaluate("(o) => pay(o)", options(bootpay))
    page.get_by_role("button", name="결제창 닫기").click()
    assert outcome(page)["rejected"] == {"event": "cancel", "error_code": "USER_CANCELLED",
                                         "message": "사용자가 결제를 취소했습니다.", "data": {}}
    assert bootpay.control("GET", "/receipts").json() == []


def test_bad_requests_reject_with_error(page, bootpay):
    for bad, code in [({"application_id": "someone-else"}, "INVALID_APPLICATION_ID"),
                      ({"items": [{"id": "p", "name": "x", "qty": 2, "price": 2000}]}, "ITEMS_PRICE_MISMATCH"),
                      ({"order_id": None}, "INVALID_PARAMETER")]:
        page.evaluate("(o) => pay(o)", {**options(bootpay), **bad})
        rejected = outcome(page)["rejected"]
        assert (rejected["event"], rejected["error_code"]) == ("error", code), bad
    assert bootpay.control("GET", "/receipts").json() == []


def test_redirect_mode_returns_to_redirect_url(page, bootpay, merchant):
    page.evaluate("(o) => pay(o)", options(bootpay, redirect_url=merchant + "/done?from=shop"))
    page.get_by_role("button", name="카드로 결제").click()
    page.wait_for_url(merchant + "/done?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["from"] == ["shop"] and query["event"] == ["done"] and query["order_id"] == ["web-1"]
    receipt = bootpay.rest("GET", f"/receipt/{query['receipt_id'][0]}").json()
    assert receipt["status"] == 1
    # and the payment made in the window sends its webhook like any other
    [hook] = bootpay.control("GET", "/webhooks", params={"receipt_id": receipt["receipt_id"]}).json()["deliveries"]
    assert json.loads(hook["body"])["webhook_type"] == "PAYMENT_COMPLETED"


def test_popup_mode(page, bootpay):
    with page.expect_popup() as opened:
        page.evaluate("(o) => pay(o)", options(bootpay, extra={"open_type": "popup"}))
    opened.value.get_by_role("button", name="카드로 결제").click()
    assert outcome(page)["resolved"]["event"] == "done"
    # closing the popup without paying is a cancel
    with page.expect_popup() as opened:
        page.evaluate("(o) => pay(o)", options(bootpay, order_id="web-2", extra={"open_type": "popup"}))
    opened.value.close()
    assert outcome(page)["rejected"]["event"] == "cancel"


SUBSCRIBE = """(o) => { window.outcome = undefined;
  Bootpay.requestSubscription(o).then((r) => { window.outcome = {resolved: r}; },
                                      (e) => { window.outcome = {rejected: e}; }); }"""


def test_subscription_window_gives_a_receipt_id_never_the_key(page, bootpay):
    sub = {"application_id": bootpay.config.application_id, "subscription_id": "pc-sub-1", "order_name": "카드 등록",
           "price": 0, "method": "카드자동", "user": {"id": "u-1"}}
    # when the buyer registers the declining test card in the window
    page.evaluate(SUBSCRIBE, sub)
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="한도초과 카드로 등록 (테스트)").click()
    result = outcome(page)["resolved"]
    # then the page gets the issuing receipt_id and no billing key anywhere in what it got
    assert result["event"] == "done" and result["data"]["subscription_id"] == "pc-sub-1"
    assert "billing_key" not in json.dumps(result)
    # and the merchant's server reads the key by that receipt_id; charges with it are declined
    key = bootpay.rest("GET", f"/subscribe/billing_key/{result['data']['receipt_id']}").json()
    assert key["subscription_id"] == "pc-sub-1" and len(key["billing_key"]) == 24
    charge = bootpay.rest("POST", "/subscribe/payment", json={"billing_key": key["billing_key"], "order_id": "o-1",
                                                            "order_name": "x", "price": 1000})
    assert (charge.status_code, charge.json()["message"]) == (400, "한도초과")
    # a window asked to charge at once, or closed, gives no key
    page.evaluate(SUBSCRIBE, {**sub, "price": 1000})
    assert outcome(page)["rejected"]["error_code"] == "INVALID_PARAMETER"
    page.evaluate(SUBSCRIBE, sub)
    page.frame_locator("#bootpay-sandbox-frame").get_by_role("button", name="취소").click()
    assert outcome(page)["rejected"]["event"] == "cancel"
    assert len(bootpay.store.billing.keys) == 1
