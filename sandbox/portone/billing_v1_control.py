"""POST /_control/billing-keys: issue a billing key as a buyer in the checkout would, without a browser.

    {"version": "v1", "customer_uid": "...", "decline": false, "customer_name": "...", ...}

One endpoint for both API versions (scripts call it with a fixed shape), dispatched on ``version``
through ISSUERS; each version registers its own issuer. A key issued with ``decline: true`` is
declined ("한도초과") on every charge. Listed in control.ENDPOINTS (so the index page documents it).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import billing_v1_cards as cards
from .billing_v1_store import CHECKOUT_CARD
from .http import BadRequest, as_str
from ..shared import json_object
from .store import Store

V1_FIELDS = {"version", "customer_uid", "decline", "pg", "customer_id", "customer_name", "customer_email",
             "customer_tel", "merchant_uid"}


async def issue_v1(store: Store, body: dict[str, Any]) -> dict:
    unknown = set(body) - V1_FIELDS
    if unknown:
        raise BadRequest(f"unknown fields for v1: {', '.join(sorted(unknown))}")
    customer_uid = as_str(body.get("customer_uid"), "customer_uid", required=True)
    if len(customer_uid) > 80:
        raise BadRequest("customer_uid is at most 80 characters")
    decline = body.get("decline", False)
    if not isinstance(decline, bool):
        raise BadRequest("decline must be a boolean")
    info = {k: as_str(body.get(k), k) for k in ("customer_id", "customer_name", "customer_email", "customer_tel")}
    customer, payment = await issue_in_window(
        store, customer_uid, decline=decline, pg=as_str(body.get("pg"), "pg"), info=info,
        merchant_uid=as_str(body.get("merchant_uid"), "merchant_uid"))
    return {"version": "v1", "customer_uid": customer_uid, "imp_uid": payment.imp_uid,
            "customer": store.billing_v1.customer_view(customer)}


async def issue_in_window(store: Store, customer_uid: str, *, decline: bool, pg: str | None,
                          info: dict[str, Any], merchant_uid: str | None, channel: str = "pc",
                          **details: Any):
    """What a buyer approving IMP.request_pay({customer_uid, amount: 0}) leaves behind: the key and
    a 0-won record of the issuance (customer_uid_usage "issue"), without a webhook."""
    masked = cards.mask(cards.DECLINE_CARD if decline else CHECKOUT_CARD)
    customer = store.billing_v1.issue(customer_uid, masked=masked, decline=decline, pg=pg, info=info)
    payment = await store.billing_v1.issue_record(customer, merchant_uid=merchant_uid, ok=True, channel=channel,
                                                  **details)
    return customer, payment


# version -> issuer; the V2 billing-key module adds "v2".
ISSUERS: dict[str, Callable[[Store, dict[str, Any]], Awaitable[dict]]] = {"v1": issue_v1}


async def billing_keys(request: Request, store: Store) -> Response:
    body = json_object(await request.body(), BadRequest, not_json="body must be JSON",
                       not_object="body must be a JSON object")
    version = body.get("version", "v1")
    issuer = ISSUERS.get(version) if isinstance(version, str) else None
    if issuer is None:
        raise BadRequest(f"version {version!r} is not supported here (supported: {', '.join(sorted(ISSUERS))})")
    return JSONResponse(await issuer(store, body))


ENDPOINT = (
    "POST", "/_control/billing-keys", billing_keys,
    "빌링키 발급 (구매자가 결제창에서 카드를 등록한 것처럼): version v1 + customer_uid; decline: true면 "
    "모든 결제가 '한도초과'로 거절되는 키",
    {"version": "v1", "customer_uid": "user-1-card-1", "decline": False},
)
