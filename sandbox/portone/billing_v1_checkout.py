"""The sandbox checkout's billing-key window: IMP.request_pay({customer_uid, ...}) (docs/v1-billing-non-auth.md
"결제창(SDK) 방식"). checkout.py hands a V1 session carrying customer_uid to ``complete_billing``.

    amount 0   → 승인 issues a key under customer_uid and leaves a 0-won record of the issuance
                 (customer_uid_usage "issue", status paid, no webhook); the SDK answers success with its imp_uid
    amount > 0 → 승인 issues the key and pays with it at once (as 다날 and others do), a normal paid
                 payment with its webhook, customer_uid_usage "issue"
    거절        → no key: error F1001; 결제 취소 → F1002; 가상계좌 → F0000 (billing is card only)

The buyer "enters" the sandbox's test card 5361-81**-****-1234; a declining key comes from
POST /_control/billing-keys {"decline": true} or the REST API's test card (billing_v1_cards.py).
"""

from __future__ import annotations

from typing import Any

from . import billing_v1_cards as cards
from .billing_v1_control import issue_in_window
from .billing_v1_store import CHECKOUT_CARD
from .checkout import (CANCEL_MSG, DECLINE_MSG, V1_CODES, _opt_str, _safe_url, v1_failure, v1_redirect,
                       v1_sdk_response)
from .store import Store

ISSUED_MSG = "빌링키가 발급되었습니다."


def _details(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _opt_str(params.get("name")),
        "buyer_name": _opt_str(params.get("buyer_name")),
        "buyer_email": _opt_str(params.get("buyer_email")),
        "buyer_tel": _opt_str(params.get("buyer_tel")),
        "notice_url": _safe_url(params.get("notice_url")),
    }


async def _approve(store: Store, params: dict[str, Any], customer_uid: str) -> dict:
    details = _details(params)
    info = {"customer_name": details["buyer_name"], "customer_email": details["buyer_email"],
            "customer_tel": details["buyer_tel"], "customer_addr": _opt_str(params.get("buyer_addr")),
            "customer_postcode": _opt_str(params.get("buyer_postcode"))}
    pg = params.get("pg") if isinstance(params.get("pg"), str) and params.get("pg") else None
    amount = int(params.get("amount") or 0)
    if amount == 0:
        _, payment = await issue_in_window(store, customer_uid, decline=False, pg=pg, info=info,
                                           merchant_uid=params["merchant_uid"], **details)
    else:
        customer = store.billing_v1.issue(customer_uid, masked=cards.mask(CHECKOUT_CARD), decline=False, pg=pg,
                                          info=info)
        payment = await store.billing_v1.charge(customer, merchant_uid=params["merchant_uid"], amount=amount,
                                                usage="issue", channel="pc", custom_data=params.get("custom_data"),
                                                **details)
    return v1_sdk_response(store.v1_view(payment), params, V1_CODES["rejected"])


async def complete_billing(store: Store, session: dict, action: str) -> dict:
    params = session["params"]
    customer_uid = params.get("customer_uid")
    if not isinstance(customer_uid, str) or len(customer_uid) > 80:
        rsp = v1_failure(params, V1_CODES["invalid"], "customer_uid는 80자 이내의 문자열이어야 합니다.")
    elif action == "cancel":
        rsp = v1_failure(params, V1_CODES["cancel"], CANCEL_MSG)
    elif action == "decline":
        rsp = v1_failure(params, V1_CODES["decline"], DECLINE_MSG)
    elif action == "vbank":
        rsp = v1_failure(params, V1_CODES["invalid"], "빌링키 발급은 카드 결제(card)만 지원합니다.")
    else:
        rsp = await _approve(store, params, customer_uid)
    if rsp["success"]:
        message = ISSUED_MSG if not rsp["paid_amount"] else "빌링키가 발급되고 결제가 승인되었습니다."
    else:
        message = rsp["error_msg"]
    redirect = v1_redirect(params, rsp) if session["mode"] == "redirect" else None
    return {"response": rsp, "redirect_url": redirect, "message": message}
