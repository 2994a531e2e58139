"""Card data of Bootpay billing (REST key issue, POST /v2/request/subscribe) in the sandbox: what the
fields must look like, the test cards that misbehave on purpose, and the masked number that is all
the sandbox keeps (Bootpay stores no card number or password either).

Fields (BPY ``request_subscribe_billing_key``): card_no (15–16 digits, any separators), card_pw (the
first 2 password digits), card_identity_no (birth date YYMMDD, or a 10-digit business number),
card_expire_year and card_expire_month (2 digits each; a card past its month is refused).

Test cards (every other well-formed number issues a key that pays):
    4000-0000-0000-0002   the key is issued; every charge with it is declined: HTTP 400
                          {error_code: SUBSCRIBE_PAYMENT_FAILED, pg_error_code: "51", message: "한도초과"}
                          (a card that exists but cannot pay)
    4000-0000-0000-0010   issuing fails: HTTP 400 {error_code: SUBSCRIBE_PUBLISH_FAILED,
                          pg_error_code: "F113", message: "카드정보 인증에 실패하였습니다."}
A key issued by the control API or the checkout with ``decline`` behaves like the first one.
The error_code names follow the SUBSCRIBE_* family Bootpay documents (SUBSCRIBE_PUBLISH_FAILED,
SUBSCRIBE_REQUEST_FAILED); the one for a declined charge is **[inferred]**: what the sources settle
is the shape — a non-2xx ``{error_code, message, pg_error_code}`` where error_code says at which
stage Bootpay failed and pg_error_code/message say why the PG or card company refused (bootpay-mcp
get_troubleshooting "error").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .store import BootpayError

DECLINE_CARD = "4000000000000002"
REFUSED_CARD = "4000000000000010"
CHECKOUT_CARD = "5365100000001234"  # what a buyer "enters" in the sandbox window
DECLINE_REASON = "한도초과"
DECLINE_CODE = "51"  # ISO 8583 51: insufficient funds / over the limit
KST = timezone(timedelta(hours=9))


def mask(number: str) -> str:
    """536510******1234 style: the BIN and the last four, as Bootpay shows billing_data.card_no."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _invalid(message: str) -> BootpayError:
    return BootpayError(400, "INVALID_PARAMETER", message)


def check(card_no: str | None, card_pw: str | None, identity_no: str | None, year: str | None,
          month: str | None, now: float) -> tuple[str, bool]:
    """(masked number, declines every charge) for a card the PG accepts; BootpayError otherwise."""
    digits = re.sub(r"[\s\-]", "", card_no or "")
    if not re.fullmatch(r"\d{15,16}", digits):
        raise _invalid("card_no는 15~16자리 카드번호여야 합니다.")
    if not re.fullmatch(r"\d{2}", card_pw or ""):
        raise _invalid("card_pw는 카드 비밀번호 앞 2자리여야 합니다.")
    if not re.fullmatch(r"\d{6}|\d{10}", identity_no or ""):
        raise _invalid("card_identity_no는 생년월일 6자리 또는 사업자번호 10자리여야 합니다.")
    if not (re.fullmatch(r"\d{2}", year or "") and re.fullmatch(r"\d{1,2}", month or "") and 1 <= int(month) <= 12):
        raise _invalid("card_expire_year·card_expire_month는 2자리 숫자(YY, MM)여야 합니다.")
    today = datetime.fromtimestamp(now, KST)
    if (2000 + int(year), int(month)) < (today.year, today.month):  # type: ignore[arg-type]
        raise BootpayError(400, "SUBSCRIBE_PUBLISH_FAILED", "유효기간이 지난 카드입니다.", pg_error_code="F114")
    if digits == REFUSED_CARD:
        raise BootpayError(400, "SUBSCRIBE_PUBLISH_FAILED", "카드정보 인증에 실패하였습니다.", pg_error_code="F113")
    return mask(digits), digits == DECLINE_CARD
