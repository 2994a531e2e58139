"""What V2 billing requests carry, checked and normalised: card credentials (issueBillingKey), a
`BillingKeyPaymentInput` (payWithBillingKey, createPaymentSchedule) and a `CustomerInput`.

Malformed input raises BadRequest (400 INVALID_REQUEST); what the spec gives its own error raises
billing_v2.V2Error (a wrong channel, tax-free over total, an expired card at the PG).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .billing_v2 import EXPIRED_MESSAGE, EXPIRED_PG_CODE, V2Error
from .http import BadRequest, as_int, as_str

if TYPE_CHECKING:  # pragma: no cover
    from .billing_v2 import BillingKey, BillingV2


def mask(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def customer_view(value: Any) -> dict:
    """A `CustomerInput` as the `Customer` PortOne shows back (absent fields omitted)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("customer must be an object")
    name = value.get("name")
    if isinstance(name, dict):
        separated = name.get("separated") if isinstance(name.get("separated"), dict) else {}
        name = name.get("full") or (f"{separated.get('last') or ''}{separated.get('first') or ''}" or None)
    out = {"id": value.get("id"), "name": name, "email": value.get("email"),
           "phoneNumber": value.get("phoneNumber"), "birthYear": value.get("birthYear")}
    for field_name, field_value in out.items():
        as_str(field_value, f"customer.{field_name}")
    return {k: v for k, v in out.items() if v not in (None, "")}


def _notice_urls(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise BadRequest("noticeUrls must be a list of URLs")
    return value


def _bool(value: Any, name: str) -> bool:
    if value is not None and not isinstance(value, bool):
        raise BadRequest(f"{name} must be a boolean")
    return bool(value)


def issue_from_api(bv2: "BillingV2", body: dict) -> "BillingKey":
    """POST /billing-keys: a key from card credentials (IssueBillingKeyBody)."""
    bv2.check_store(body.get("storeId"))
    if body.get("channelKey") is None and body.get("channelGroupId") is None:
        raise BadRequest("channelKey 또는 channelGroupId는 필수 입력 항목입니다.")
    if body.get("channelGroupId") is not None:
        raise V2Error(404, "CHANNEL_NOT_FOUND", "요청된 채널 그룹이 존재하지 않습니다. (샌드박스에는 채널 그룹이 없습니다)")
    bv2.check_channel(body.get("channelKey"))
    method = body.get("method")
    card = method.get("card") if isinstance(method, dict) else None
    credential = card.get("credential") if isinstance(card, dict) else None
    if not isinstance(credential, dict):
        raise BadRequest("method.card.credential is required")
    number = as_str(credential.get("number"), "number", required=True) or ""
    year = as_str(credential.get("expiryYear"), "expiryYear", required=True) or ""
    month = as_str(credential.get("expiryMonth"), "expiryMonth", required=True) or ""
    birth = as_str(credential.get("birthOrBusinessRegistrationNumber"), "birthOrBusinessRegistrationNumber")
    password = as_str(credential.get("passwordTwoDigits"), "passwordTwoDigits")
    if not re.fullmatch(r"\d{13,19}", number):
        raise BadRequest("카드 번호는 숫자만 13~19자리로 입력해주세요.")
    if not re.fullmatch(r"\d{2}", year) or not re.fullmatch(r"0[1-9]|1[0-2]", month):
        raise BadRequest("유효기간은 expiryYear(YY), expiryMonth(MM) 두 자리로 입력해주세요.")
    if birth is not None and not re.fullmatch(r"\d{6}|\d{10}", birth):
        raise BadRequest("birthOrBusinessRegistrationNumber는 생년월일 6자리 또는 사업자등록번호 10자리입니다.")
    if password is not None and not re.fullmatch(r"\d{2}", password):
        raise BadRequest("passwordTwoDigits는 비밀번호 앞 2자리입니다.")
    expires = datetime(2000 + int(year) + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=timezone.utc)
    if expires.timestamp() <= bv2.store.now():
        raise V2Error(502, "PG_PROVIDER", f"PG사에서 빌링키 발급을 거절하였습니다. ({EXPIRED_MESSAGE})",
                      pgCode=EXPIRED_PG_CODE, pgMessage=EXPIRED_MESSAGE)
    urls = _notice_urls(body.get("noticeUrls"))
    return bv2.issue(customer=customer_view(body.get("customer")), card_number=mask(number),
                      custom_data=as_str(body.get("customData"), "customData"),
                      notice_url=urls[0] if urls else None,
                      webhook=not _bool(body.get("skipWebhook"), "skipWebhook"))


def parse_payment(bv2: "BillingV2", body: Any) -> dict:
    """A `BillingKeyPaymentInput`, checked and normalised (the key itself is checked apart)."""
    if not isinstance(body, dict):
        raise BadRequest("payment must be an object")
    bv2.check_store(body.get("storeId"))
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise BadRequest("amount is required")
    total = as_int(amount.get("total"), "amount.total", required=True) or 0
    tax_free = as_int(amount.get("taxFree"), "amount.taxFree") or 0
    vat = as_int(amount.get("vat"), "amount.vat")
    if total <= 0 or tax_free < 0:
        raise BadRequest("amount.total must be positive and amount.taxFree not negative")
    currency = as_str(body.get("currency"), "currency", required=True)
    if currency != "KRW":
        raise BadRequest(f"샌드박스는 KRW 결제만 지원합니다. (currency: {currency})")
    if tax_free > total:
        raise V2Error(409, "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT", "면세 금액이 결제 금액을 초과합니다.")
    bv2.check_channel(body.get("channelKey"))
    installment = as_int(body.get("installmentMonth"), "installmentMonth")
    products = body.get("products")
    if products is not None and not isinstance(products, list):
        raise BadRequest("products must be a list")
    return {
        "billingKey": as_str(body.get("billingKey"), "billingKey", required=True),
        "orderName": as_str(body.get("orderName"), "orderName", required=True),
        "total": total, "taxFree": tax_free, "vat": round((total - tax_free) / 11) if vat is None else vat,
        "currency": currency, "customer": customer_view(body.get("customer")),
        "customData": as_str(body.get("customData"), "customData"),
        "installmentMonth": installment, "noticeUrls": _notice_urls(body.get("noticeUrls")),
        "products": products or [], "skipWebhook": _bool(body.get("skipWebhook"), "skipWebhook"),
    }
