"""The card-registration window of Bootpay.requestSubscription (client-js 5.x, RequestSubscriptionModel:
requestPayment's options plus ``subscription_id``): the sandbox checkout page with kind=subscription.

The buyer registers a card ("카드 등록"), registers the sandbox's declining card ("한도초과 카드로
등록": every charge with the key is declined), or closes the window. The page gets what Bootpay gives
a browser: ``{event: "done", data: {receipt_id, subscription_id, …}}`` — never the billing_key, which
the merchant's server reads with GET /v2/subscribe/billing_key/{receipt_id} (BPY README §4-8).
``price`` must be 0 here: a window that issues and charges at once (price > 0) is not emulated.
"""

from __future__ import annotations

from html import escape
from typing import Any

from . import rest
from .billing_api import issue_as_browser
from .store import BootpayError, Store

BILLING_METHODS = {None, "카드자동", "card_rebill"}
ACTIONS = {"card": False, "card_decline": True}  # action → decline


def validate(payload: Any, store: Store) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BootpayError(400, "INVALID_PARAMETER", "requestSubscription의 인자는 객체여야 합니다.")
    cfg = store.config
    if payload.get("application_id") != cfg.application_id and payload.get("client_key") != cfg.client_key:
        raise BootpayError(400, "INVALID_APPLICATION_ID", "application_id(또는 client_key)가 올바르지 않습니다.")
    subscription_id = rest.text(payload, "subscription_id", required=True)
    order_name = rest.text(payload, "order_name", required=True)
    price = rest.won(payload, "price") or 0
    if price != 0:
        raise BootpayError(400, "INVALID_PARAMETER", "샌드박스의 카드 등록창은 price 0(빌링키 발급만)을 지원합니다.")
    if payload.get("method") not in BILLING_METHODS:
        raise BootpayError(400, "INVALID_PARAMETER", "정기결제 카드 등록의 method는 '카드자동'입니다.")
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    return {"subscription_id": subscription_id, "order_name": order_name, "pg": rest.text(payload, "pg"),
            "user": user, "metadata": metadata}


def page_body(order: dict[str, Any]) -> str:
    return (f'<h1>{escape(order["order_name"])}</h1><div class="price">카드 등록 (정기결제)</div>'
            f'<p class="muted">구독번호 {escape(order["subscription_id"])}</p>'
            '<button data-action="card">카드 등록</button>'
            '<button class="secondary" data-action="card_decline">한도초과 카드로 등록 (테스트)</button>'
            '<button class="secondary" data-action="cancel">취소</button>')


async def complete(store: Store, payload: Any, action: Any) -> dict[str, Any]:
    """{event: "done", data} for the page; raises BootpayError (USER_CANCELLED when closed)."""
    order = validate(payload, store)
    if action == "cancel":
        raise BootpayError(400, "USER_CANCELLED", "사용자가 카드 등록을 취소했습니다.")
    if action not in ACTIONS:
        raise BootpayError(400, "INVALID_PARAMETER", "action은 card, card_decline, cancel 중 하나입니다.")
    view = await issue_as_browser(store, decline=ACTIONS[action], **order)
    data = {k: v for k, v in view.items() if k != "billing_key"}  # the browser never sees the key
    return {"event": "done", "data": data}
