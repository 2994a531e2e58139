"""The billing-key window in headless Chromium: IMP.request_pay({customer_uid, amount: 0}) through the
sandbox's iamport.js issues a V1 key the merchant's server then sees (the fixtures and helpers are the
checkout browser test's; skipped without Debian's Chromium like it)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.sandbox.test_checkout_browser import (  # noqa: F401 (fixtures)
    approval_frame, browser, context, open_merchant, order, request_pay, sdk_result, servers, v1_payment,
)

pytestmark = pytest.mark.browser


def test_the_window_issues_a_billing_key_for_customer_uid(context, servers):  # noqa: F811
    # given a merchant page asking for a card registration (amount 0) under a customer_uid
    page = open_merchant(context, servers, servers.sandbox + "/iamport.js")
    customer_uid = order("user-card")
    request_pay(page, {"pg": "html5_inicis.INIBillTst", "pay_method": "card", "merchant_uid": order("issue"),
                       "name": "카드 등록", "amount": 0, "customer_uid": customer_uid, "buyer_name": "홍길동"})
    # when the buyer approves in the window
    frame = approval_frame(page)
    expect(frame.locator("#order-amount")).to_have_text("0원")
    frame.locator("#btn-approve").click()
    # then the SDK reports success, and the key is there for the merchant's server
    rsp = sdk_result(page)
    assert rsp["success"] is True and rsp["paid_amount"] == 0
    record = v1_payment(servers.sandbox, servers.config, rsp["imp_uid"])
    assert (record["customer_uid"], record["customer_uid_usage"]) == (customer_uid, "issue")
    with httpx.Client(base_url=servers.sandbox, timeout=10) as http:
        token = http.post("/v1/users/getToken", json={"imp_key": servers.config.imp_key,
                                                       "imp_secret": servers.config.imp_secret}).json()
        key = http.get(f"/v1/subscribe/customers/{customer_uid}",
                       headers={"Authorization": token["response"]["access_token"]}).json()["response"]
    assert (key["customer_name"], key["pg_id"]) == ("홍길동", "INIBillTst")
