"""`PortOne.requestIssueBillingKey` in the sandbox checkout: the billing-key window of the V2 SDK.

The browser SDK (static/browser-sdk.js) posts {sdk: "v2", kind: "billing_key", params} to the same
/checkout as requestPayment; checkout.py hands sessions of that kind to this module. The page's
buttons mean:

    approve  → a key is issued (BillingKey.Issued webhook) → {transactionType: "ISSUE_BILLING_KEY", billingKey}
    limit    → a key is issued for a card over its limit: it registers, and every charge is declined (한도초과)
    decline  → the PG refuses to issue: {transactionType, code: "FAILURE_TYPE_PG", message, pgCode, pgMessage}
    cancel   → the buyer closed the window (as the overlay's ×)

Redirect mode sends the buyer to redirectUrl?transactionType=ISSUE_BILLING_KEY&billingKey=..[&code&message..].
"""

from __future__ import annotations

from typing import Any

from .billing_v2_input import customer_view
from .store import Store

KIND = "billing_key"
ACTIONS = ("approve", "limit", "decline", "cancel")
METHODS = ("CARD", "MOBILE", "EASY_PAY", "PAYPAL")
ISSUE_DECLINE_MSG = "[샌드박스] 카드사에서 빌링키 발급을 거절하였습니다. (테스트 거절)"


def is_billing(payload_or_session: dict) -> bool:
    return payload_or_session.get("kind") == KIND


def validate(store: Store, params: dict) -> None:
    from .checkout import CheckoutError

    if params.get("storeId") in (None, ""):
        raise CheckoutError("storeId 파라미터는 필수 입력 항목입니다.", "InvalidArgument")
    if params["storeId"] != store.config.store_id:
        raise CheckoutError(f"상점을 찾을 수 없습니다. (storeId: {params['storeId']})", "StoreNotFound")
    channel_key = params.get("channelKey")
    if channel_key and channel_key != store.config.channel_key:
        raise CheckoutError(f"채널을 찾을 수 없습니다. (channelKey: {channel_key})", "ChannelNotFound")
    method = params.get("billingKeyMethod")
    if method not in METHODS:
        raise CheckoutError("billingKeyMethod는 CARD, MOBILE, EASY_PAY, PAYPAL 중 하나여야 합니다.", "InvalidArgument")
    if method != "CARD":
        raise CheckoutError(f"샌드박스는 카드(CARD) 빌링키 발급만 지원합니다. (billingKeyMethod: {method})",
                            "InvalidArgument")


def _customer(params: dict) -> dict:
    """The browser SDK's Customer (customerId, fullName | firstName/lastName, email, phoneNumber)."""
    c = params.get("customer") if isinstance(params.get("customer"), dict) else {}
    name = c.get("fullName") or (f"{c.get('lastName') or ''}{c.get('firstName') or ''}" or None)
    try:
        return customer_view({"id": c.get("customerId"), "name": name, "email": c.get("email"),
                              "phoneNumber": c.get("phoneNumber")})
    except Exception:  # a malformed customer is the merchant's bug; the window still issues
        return {}


def public_session(session: dict) -> dict:
    params = session["params"]
    customer = _customer(params)
    return {
        "sid": session["sid"], "sdk": session["sdk"], "kind": KIND, "rid": session["rid"],
        "mode": session["mode"], "origin": session["origin"],
        "order_name": params.get("issueName") if isinstance(params.get("issueName"), str) else "빌링키 발급",
        "order_id": params.get("issueId") if isinstance(params.get("issueId"), str) else None,
        "amount": params.get("displayAmount") or 0, "currency": params.get("currency") or "KRW",
        "pay_method": "CARD", "pay_method_label": "신용카드 (빌링키 발급)",
        "buyer": " / ".join(x for x in (customer.get("name"), customer.get("email"), customer.get("id")) if x) or None,
    }


def failure(code: str, message: str, pg_code: str | None = None, pg_message: str | None = None) -> dict:
    rsp: dict[str, Any] = {"transactionType": "ISSUE_BILLING_KEY", "code": code, "message": message}
    if pg_code:
        rsp["pgCode"], rsp["pgMessage"] = pg_code, pg_message or message
    return rsp


def _result(session: dict, rsp: dict, message: str) -> dict:
    from .checkout import _safe_url, _with_query

    redirect = None
    url = _safe_url(session["params"].get("redirectUrl"))
    if session["mode"] == "redirect" and url is not None:
        redirect = _with_query(url, {k: rsp.get(k) for k in
                                     ("transactionType", "billingKey", "code", "message", "pgCode", "pgMessage")})
    return {"response": rsp, "redirect_url": redirect, "message": message}


def error_result(session: dict, exc: Any) -> dict:
    return _result(session, failure(exc.code or "InvalidArgument", exc.message), exc.message)


async def complete(store: Store, session: dict, action: str) -> dict:
    from .checkout import CANCEL_MSG, V1_CODES, _custom_data

    params = session["params"]
    if action == "cancel":
        return _result(session, failure("FAILURE_TYPE_PG", CANCEL_MSG, V1_CODES["cancel"]), CANCEL_MSG)
    if action == "decline":
        return _result(session, failure("FAILURE_TYPE_PG", ISSUE_DECLINE_MSG, V1_CODES["decline"]), ISSUE_DECLINE_MSG)
    urls = params.get("noticeUrls")
    key = store.billing_v2.issue(
        customer=_customer(params), custom_data=_custom_data(params.get("customData")),
        issue_id=params.get("issueId") if isinstance(params.get("issueId"), str) else None,
        issue_name=params.get("issueName") if isinstance(params.get("issueName"), str) else None,
        notice_url=urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else None,
        decline=action == "limit",
    )
    message = "빌링키가 발급되었습니다." + (" (한도초과 카드: 결제 시 거절됩니다)" if action == "limit" else "")
    return _result(session, {"transactionType": "ISSUE_BILLING_KEY", "billingKey": key.billing_key}, message)
