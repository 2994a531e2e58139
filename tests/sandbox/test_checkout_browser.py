"""The sandbox's browser checkout, driven end to end in headless Chromium.

A merchant page (its own server, so the sandbox is cross-origin like cdn.iamport.kr is) loads
/iamport.js or /browser-sdk.js, requests a payment, and a "buyer" clicks 승인 / 거절 /
가상계좌 발급 in the sandbox approval page. Results are checked both in the SDK response and at
the REST API the merchant's server would verify with.

Needs Debian's Chromium (/usr/bin/chromium) and the `playwright` Python package, never
Playwright's own browser downloads. Skipped when missing, except under CI=true where a missing
browser is a failure. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

from sandbox.portone.app import create_app
from sandbox.portone.config import SandboxConfig
from tests.browser import ARTIFACTS, launch_chromium
from tests.servers import run_server

pytestmark = pytest.mark.browser

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
KST = timezone(timedelta(hours=9))
TIMEOUT_MS = 10_000


# ---------------------------------------------------------------------- servers
MERCHANT_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>가맹점 주문 페이지</title>
<script src="{sdk}"></script></head>
<body><h1>가맹점 주문 페이지</h1><pre id="result"></pre>
<script>
  window.__result = undefined;
  window.__done = function (rsp) {{
    window.__result = rsp;
    document.getElementById("result").textContent = JSON.stringify(rsp);
  }};
</script></body></html>"""

RETURN_PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>결제 결과</title></head>
<body><h1>결제 결과</h1><pre id="query">{query}</pre></body></html>"""


def merchant_app(mounted_sandbox: Starlette) -> Starlette:
    async def merchant(request: Request) -> HTMLResponse:
        sdk = request.query_params["sdk"]
        return HTMLResponse(MERCHANT_PAGE.format(sdk=html.escape(sdk, quote=True)))

    async def landed(request: Request) -> HTMLResponse:
        return HTMLResponse(RETURN_PAGE.format(query=html.escape(request.url.query)))

    return Starlette(
        routes=[
            Route("/merchant", merchant),
            Route("/return", landed),
            Mount("/sandbox/portone", app=mounted_sandbox),
        ]
    )


@dataclass
class Servers:
    sandbox: str  # standalone sandbox at a port's root
    merchant: str  # merchant site, with a second sandbox mounted at /sandbox/portone
    config: SandboxConfig

    @property
    def mounted(self) -> str:
        return self.merchant + "/sandbox/portone"


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    config = SandboxConfig()
    with run_server(create_app(config)) as sandbox_url:
        with run_server(merchant_app(create_app(config))) as merchant_url:
            yield Servers(sandbox_url, merchant_url, config)


# ---------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    yield from launch_chromium()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1024, "height": 760}, locale="ko-KR")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def mobile_context(browser):
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=IPHONE_UA, is_mobile=True, has_touch=True, locale="ko-KR"
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"checkout-{name}.png"))


# ---------------------------------------------------------------------- driving helpers
def open_merchant(ctx, servers: Servers, sdk_url: str):
    page = ctx.new_page()
    page.goto(f"{servers.merchant}/merchant?sdk={quote(sdk_url, safe='')}")
    return page


def request_pay(page, params: dict, *, merchant_code: str | None = "imp00000000", force_redirect: bool = False) -> None:
    page.evaluate(
        """([code, params, force]) => {
            if (code !== null) IMP.init(code);
            IMP.sandbox_force_redirect = force;
            IMP.request_pay(params, window.__done);
        }""",
        [merchant_code, params, force_redirect],
    )


def request_payment_v2(page, params: dict, *, force_redirect: bool = False) -> None:
    page.evaluate(
        """([params, force]) => {
            PortOne.sandbox_force_redirect = force;
            PortOne.requestPayment(params).then(window.__done);
        }""",
        [params, force_redirect],
    )


def approval_frame(page, selector: str = "iframe.imp-sandbox-frame"):
    frame = page.frame_locator(selector)
    frame.locator("#actions").wait_for(state="visible")
    return frame


def sdk_result(page) -> dict:
    page.wait_for_function("window.__result !== undefined", timeout=TIMEOUT_MS)
    return page.evaluate("window.__result")


def order(prefix: str = "order") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def v1_payment(base: str, config: SandboxConfig, imp_uid: str) -> dict:
    with httpx.Client(base_url=base, timeout=10) as http:
        token = http.post("/v1/users/getToken", json={"imp_key": config.imp_key, "imp_secret": config.imp_secret})
        assert token.status_code == 200, token.text
        r = http.get(f"/v1/payments/{imp_uid}", headers={"Authorization": token.json()["response"]["access_token"]})
        assert r.status_code == 200, r.text
        return r.json()["response"]


def v1_prepare(base: str, config: SandboxConfig, merchant_uid: str, amount: int) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        token = http.post("/v1/users/getToken", json={"imp_key": config.imp_key, "imp_secret": config.imp_secret})
        r = http.post(
            "/v1/payments/prepare",
            json={"merchant_uid": merchant_uid, "amount": amount},
            headers={"Authorization": token.json()["response"]["access_token"]},
        )
        assert r.status_code == 200 and r.json()["code"] == 0, r.text


def v2_payment(base: str, config: SandboxConfig, payment_id: str) -> dict:
    r = httpx.get(
        f"{base}/v2/payments/{quote(payment_id, safe='')}",
        headers={"Authorization": f"PortOne {config.v2_api_secret}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def landed_query(page, servers: Servers) -> dict[str, str]:
    page.wait_for_url(f"{servers.merchant}/return?**")
    query = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    return {k: v[0] for k, v in query.items()}


def v1_params(**overrides) -> dict:
    params = {
        "pg": "html5_inicis.INIpayTest",
        "pay_method": "card",
        "merchant_uid": order(),
        "name": "포인트 10,000P 충전",
        "amount": 10000,
        "buyer_email": "gildong@example.com",
        "buyer_name": "홍길동",
        "buyer_tel": "010-1234-5678",
        "buyer_addr": "서울특별시 강남구 신사동",
        "buyer_postcode": "01181",
        "custom_data": {"userId": "u-1"},
    }
    params.update(overrides)
    return params


# ---------------------------------------------------------------------- V1: overlay + callback
def test_approve_calls_back_with_sdk_response_and_payment_is_paid(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    params = v1_params()
    request_pay(page, params)
    frame = approval_frame(page)
    # The frame fills the order in after its session loads: wait for the text, not the first paint.
    expect(frame.locator("#order-name")).to_have_text("포인트 10,000P 충전")
    expect(frame.locator("#order-amount")).to_have_text("10,000원")
    expect(frame.locator("#order-id")).to_have_text(params["merchant_uid"])
    screenshot(page, "v1-approval-page")
    frame.locator("#btn-approve").click()

    rsp = sdk_result(page)
    assert rsp["success"] is True and rsp["imp_success"] is True
    assert rsp["imp_uid"].startswith("imp_")
    assert rsp["merchant_uid"] == params["merchant_uid"]
    assert rsp["status"] == "paid" and rsp["paid_amount"] == 10000
    assert rsp["pay_method"] == "card" and rsp["pg_provider"] == "html5_inicis" and rsp["pg_tid"]
    assert rsp["error_code"] is None and rsp["error_msg"] is None
    assert rsp["buyer_name"] == "홍길동" and rsp["buyer_email"] == "gildong@example.com"
    assert rsp["buyer_tel"] == "010-1234-5678" and rsp["buyer_postcode"] == "01181"
    assert json.loads(rsp["custom_data"]) == {"userId": "u-1"}
    assert rsp["paid_at"] > 0 and rsp["apply_num"] and rsp["receipt_url"]
    assert page.locator("#imp-sandbox-overlay").count() == 0  # the overlay closed itself

    payment = v1_payment(servers.sandbox, servers.config, rsp["imp_uid"])
    assert payment["status"] == "paid"
    assert payment["amount"] == 10000 and payment["merchant_uid"] == params["merchant_uid"]
    assert payment["buyer_email"] == "gildong@example.com" and payment["name"] == "포인트 10,000P 충전"


def test_decline_reports_failure_with_imp_uid(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    params = v1_params()
    del params["merchant_uid"]  # the SDK numbers the order itself
    request_pay(page, params)
    approval_frame(page).locator("#btn-decline").click()

    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["status"] == "failed" and rsp["paid_amount"] == 0
    assert rsp["error_code"] == "F1001" and "거절" in rsp["error_msg"]
    assert rsp["imp_uid"].startswith("imp_") and rsp["merchant_uid"].startswith("merchant_")
    payment = v1_payment(servers.sandbox, servers.config, rsp["imp_uid"])
    assert payment["status"] == "failed" and payment["fail_reason"] == rsp["error_msg"]
    assert payment["merchant_uid"] == rsp["merchant_uid"]


def test_virtual_account_is_issued_ready_with_vbank_fields(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    params = v1_params(pay_method="vbank", vbank_due="2030-01-31")
    request_pay(page, params)
    approval_frame(page).locator("#btn-vbank").click()

    rsp = sdk_result(page)
    due = int(datetime(2030, 1, 31, 23, 59, 59, tzinfo=KST).timestamp())
    assert rsp["success"] is True and rsp["status"] == "ready" and rsp["pay_method"] == "vbank"
    assert rsp["vbank_num"] and rsp["vbank_name"] and rsp["vbank_holder"]
    assert rsp["vbank_date"] == due and rsp["paid_at"] == 0 and rsp["error_code"] is None
    payment = v1_payment(servers.sandbox, servers.config, rsp["imp_uid"])
    assert payment["status"] == "ready" and payment["pay_method"] == "vbank"
    assert payment["vbank_num"] == rsp["vbank_num"] and payment["vbank_date"] == due


def test_amount_differing_from_prepared_amount_fails(context, servers):
    merchant_uid = order("prepared")
    v1_prepare(servers.sandbox, servers.config, merchant_uid, 5000)
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    request_pay(page, v1_params(merchant_uid=merchant_uid, amount=100))  # tampered in the browser
    approval_frame(page).locator("#btn-approve").click()

    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["status"] == "failed"
    assert rsp["error_code"] == "F1003" and "일치하지 않습니다" in rsp["error_msg"]
    payment = v1_payment(servers.sandbox, servers.config, rsp["imp_uid"])
    assert payment["status"] == "failed" and payment["amount"] == 100


def test_closing_the_overlay_is_a_user_cancel(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    params = v1_params()
    request_pay(page, params)
    approval_frame(page)
    page.locator("#imp-sandbox-overlay .imp-sandbox-close").click()

    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["imp_uid"] is None
    assert rsp["merchant_uid"] == params["merchant_uid"]
    assert rsp["error_code"] == "F1002" and rsp["error_msg"] == "사용자가 결제를 취소하셨습니다"
    assert json.loads(rsp["custom_data"]) == {"userId": "u-1"}
    assert page.locator("#imp-sandbox-overlay").count() == 0

    # The approval page's own 결제 취소 button answers the same way.
    page.evaluate("window.__result = undefined")
    request_pay(page, v1_params())
    approval_frame(page).locator("#btn-cancel").click()
    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["imp_uid"] is None and rsp["error_code"] == "F1002"
    assert page.locator("#imp-sandbox-overlay").count() == 0


def test_sdk_rejects_invalid_requests_with_a_callback(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    # No amount: answered by the SDK itself, no payment window.
    request_pay(page, {"merchant_uid": order(), "name": "금액 없음"})
    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["imp_uid"] is None and rsp["error_code"] == "F0000"
    assert "amount" in rsp["error_msg"]
    assert page.locator("#imp-sandbox-overlay").count() == 0

    # A merchant code the sandbox does not know: rejected by the server, window closes itself.
    page.evaluate("window.__result = undefined")
    request_pay(page, v1_params(), merchant_code="imp99999999")
    rsp = sdk_result(page)
    assert rsp["success"] is False and rsp["imp_uid"] is None and "imp99999999" in rsp["error_msg"]
    assert page.locator("#imp-sandbox-overlay").count() == 0


def test_sdk_requires_init(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    request_pay(page, v1_params(), merchant_code=None)
    rsp = sdk_result(page)
    assert rsp["success"] is False and "IMP.init" in rsp["error_msg"]


# ---------------------------------------------------------------------- V1: redirect + popup
def test_forced_redirect_lands_on_m_redirect_url(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    params = v1_params(m_redirect_url=f"{servers.merchant}/return?from=checkout")
    request_pay(page, params, force_redirect=True)
    page.wait_for_url(f"{servers.sandbox}/checkout/**")  # the top window left the merchant page
    page.locator("#btn-approve").click()

    query = landed_query(page, servers)
    assert query["from"] == "checkout"  # the merchant's own query survives
    assert query["merchant_uid"] == params["merchant_uid"]
    assert query["imp_success"] == "true" and query["success"] == "true"
    assert "error_code" not in query and "error_msg" not in query
    assert page.evaluate("window.__result") is None  # no callback in redirect mode
    assert v1_payment(servers.sandbox, servers.config, query["imp_uid"])["status"] == "paid"


def test_mobile_user_agent_redirects_and_reports_decline_in_query(mobile_context, servers):
    page = open_merchant(mobile_context, servers, servers.sandbox + "/iamport.js")
    params = v1_params(m_redirect_url=f"{servers.merchant}/return")
    request_pay(page, params)
    page.wait_for_url(f"{servers.sandbox}/checkout/**")
    screenshot(page, "v1-mobile-redirect-page")
    page.locator("#btn-decline").click()

    query = landed_query(page, servers)
    assert query["imp_success"] == "false" and query["merchant_uid"] == params["merchant_uid"]
    assert query["error_code"] == "F1001" and "거절" in query["error_msg"]
    assert v1_payment(servers.sandbox, servers.config, query["imp_uid"])["status"] == "failed"


def test_popup_mode_calls_back(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    with page.expect_popup() as popup_info:
        request_pay(page, v1_params(popup=True))
    popup = popup_info.value
    popup.locator("#btn-approve").click()
    rsp = sdk_result(page)
    assert rsp["success"] is True and rsp["status"] == "paid"


# ---------------------------------------------------------------------- mounted under a prefix
def test_mounted_under_prefix(context, servers):
    page = open_merchant(context, servers, servers.mounted + "/iamport.js")
    params = v1_params(m_redirect_url=f"{servers.merchant}/return")
    request_pay(page, params)
    frame = approval_frame(page)
    frame_url = page.frame(name=page.locator("iframe.imp-sandbox-frame").get_attribute("name")).url
    assert frame_url.startswith(servers.mounted + "/checkout/")
    frame.locator("#btn-approve").click()
    rsp = sdk_result(page)
    assert rsp["success"] is True
    assert v1_payment(servers.mounted, servers.config, rsp["imp_uid"])["status"] == "paid"

    # Redirect mode through the mount as well (asset, form-post and complete URLs all prefixed).
    page.evaluate("window.__result = undefined")
    params = v1_params(m_redirect_url=f"{servers.merchant}/return")
    request_pay(page, params, force_redirect=True)
    page.wait_for_url(f"{servers.mounted}/checkout/**")
    page.locator("#btn-vbank").click()
    query = landed_query(page, servers)
    assert query["imp_success"] == "true"
    payment = v1_payment(servers.mounted, servers.config, query["imp_uid"])
    assert payment["status"] == "ready" and payment["vbank_num"]


# ---------------------------------------------------------------------- V2 browser SDK
def v2_params(servers: Servers, **overrides) -> dict:
    params = {
        "storeId": servers.config.store_id,
        "channelKey": servers.config.channel_key,
        "paymentId": order("payment"),
        "orderName": "포인트 5,000P 충전",
        "totalAmount": 5000,
        "currency": "CURRENCY_KRW",
        "payMethod": "CARD",
        "customer": {"fullName": "홍길동", "email": "gildong@example.com", "phoneNumber": "01012345678"},
        "customData": json.dumps({"userId": "u-2"}),
    }
    params.update(overrides)
    return params


def test_v2_request_payment_approve_and_decline(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/browser-sdk.js")
    params = v2_params(servers)
    request_payment_v2(page, params)
    frame = approval_frame(page, "iframe.portone-sandbox-frame")
    expect(frame.locator("#order-id")).to_have_text(params["paymentId"])
    screenshot(page, "v2-approval-page")
    frame.locator("#btn-approve").click()
    rsp = sdk_result(page)
    assert rsp["transactionType"] == "PAYMENT" and rsp["paymentId"] == params["paymentId"] and rsp["txId"]
    assert "code" not in rsp
    payment = v2_payment(servers.sandbox, servers.config, params["paymentId"])
    assert payment["status"] == "PAID" and payment["amount"]["total"] == 5000
    assert payment["transactionId"] == rsp["txId"] and payment["customer"]["name"] == "홍길동"

    page.evaluate("window.__result = undefined")
    declined = v2_params(servers)
    request_payment_v2(page, declined)
    approval_frame(page, "iframe.portone-sandbox-frame").locator("#btn-decline").click()
    rsp = sdk_result(page)
    assert rsp["code"] == "FAILURE_TYPE_PG" and rsp["message"] and rsp["paymentId"] == declined["paymentId"]
    assert v2_payment(servers.sandbox, servers.config, declined["paymentId"])["status"] == "FAILED"

    page.evaluate("window.__result = undefined")
    request_payment_v2(page, v2_params(servers, storeId="store-unknown"))
    rsp = sdk_result(page)
    assert rsp["code"] == "StoreNotFound"


def test_v2_redirect_with_virtual_account(context, servers):
    page = open_merchant(context, servers, servers.mounted + "/browser-sdk.js")
    params = v2_params(
        servers,
        payMethod="VIRTUAL_ACCOUNT",
        redirectUrl=f"{servers.merchant}/return",
        windowType={"pc": "REDIRECTION"},
    )
    request_payment_v2(page, params)
    page.wait_for_url(f"{servers.mounted}/checkout/**")
    page.locator("#btn-vbank").click()
    query = landed_query(page, servers)
    assert query["paymentId"] == params["paymentId"] == query["payment_id"]
    assert query["transactionType"] == "PAYMENT" and query["txId"] and "code" not in query
    payment = v2_payment(servers.mounted, servers.config, params["paymentId"])
    assert payment["status"] == "VIRTUAL_ACCOUNT_ISSUED"
    assert payment["method"]["type"] == "PaymentMethodVirtualAccount"
