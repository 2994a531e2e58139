"""PortOne.requestIssueBillingKey in headless Chromium: a merchant page asks for a billing key, the buyer
registers a card in the sandbox window, the Promise resolves {transactionType, billingKey} and the key
is the one the REST API knows (fixtures and helpers: test_checkout_browser.py)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.sandbox.test_checkout_browser import (  # noqa: F401 - fixtures
    approval_frame,
    browser,
    context,
    open_merchant,
    screenshot,
    sdk_result,
    servers,
)

pytestmark = pytest.mark.browser


def test_request_issue_billing_key_resolves_a_key_the_api_knows(context, servers):
    page = open_merchant(context, servers, servers.sandbox + "/browser-sdk.js")
    page.evaluate(
        """(params) => { PortOne.requestIssueBillingKey(params).then(window.__done); }""",
        {"storeId": servers.config.store_id, "channelKey": servers.config.channel_key, "billingKeyMethod": "CARD",
         "issueId": "issue-1", "issueName": "포인트 정기 충전 카드 등록",
         "customer": {"customerId": "user-42", "fullName": "홍길동"}},
    )
    frame = approval_frame(page, "iframe.portone-sandbox-frame")
    expect(frame.locator("#order-name")).to_have_text("포인트 정기 충전 카드 등록")
    expect(frame.locator("#btn-vbank")).to_be_hidden()
    screenshot(page, "v2-billing-key")
    frame.locator("#btn-approve").click()

    rsp = sdk_result(page)
    assert rsp["transactionType"] == "ISSUE_BILLING_KEY" and "code" not in rsp
    auth = {"Authorization": f"PortOne {servers.config.v2_api_secret}"}
    info = httpx.get(f"{servers.sandbox}/v2/billing-keys/{rsp['billingKey']}", headers=auth, timeout=10).json()
    assert info["status"] == "ISSUED" and info["customer"] == {"id": "user-42", "name": "홍길동"}
    assert (info["issueId"], info["issueName"]) == ("issue-1", "포인트 정기 충전 카드 등록")
    assert page.locator("#portone-sandbox-overlay").count() == 0

    # a second window: the buyer registers a card over its limit; it issues, and charging it declines
    page.evaluate("window.__result = undefined")
    page.evaluate(
        """(params) => { PortOne.requestIssueBillingKey(params).then(window.__done); }""",
        {"storeId": servers.config.store_id, "channelKey": servers.config.channel_key, "billingKeyMethod": "CARD"},
    )
    approval_frame(page, "iframe.portone-sandbox-frame").locator("#btn-limit").click()
    limited = sdk_result(page)["billingKey"]
    charge = {"billingKey": limited, "orderName": "충전", "amount": {"total": 1000}, "currency": "KRW"}
    r = httpx.post(f"{servers.sandbox}/v2/payments/browser-limit/billing-key", json=charge, headers=auth, timeout=10)
    assert (r.status_code, r.json()["pgMessage"]) == (502, "한도초과")
