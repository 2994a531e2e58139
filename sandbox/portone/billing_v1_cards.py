"""Card data of PortOne V1 billing (정기결제) in the sandbox: what a card number may look like, the
test cards that misbehave on purpose, and the masked form that is all the sandbox ever keeps.

PortOne stores no card number (docs/v1-billing-non-auth.md: "고객의 카드 정보는 포트원 서버에 기록되지
않습니다"); the PG keeps the billing key and PortOne shows a masked number. The sandbox does the same:
the full number, birth date and password digits are checked and dropped at once.

Test cards (any separators; 15 or 16 digits otherwise issue and pay normally):
    4000-0000-0000-0002   the key is issued, every charge is declined "한도초과" (a card that exists
                          but cannot pay: help-schedule-validity.md)
    4000-0000-0000-0010   issuing fails: code -1 "카드정보 인증 및 빌키 발급에 실패하였습니다."
A key issued through the control API with {"decline": true} behaves like the first one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

DECLINE_CARD = "4000000000000002"
REFUSED_CARD = "4000000000000010"
DECLINE_REASON = "한도초과"

# Messages seen from PortOne in the official clients' tests (billing-and-bootpay.md §A.3).
UNKNOWN_CUSTOMER = "등록되지 않은 구매자입니다."
INVALID_CARD_NUMBER = "유효하지않은 카드번호를 입력하셨습니다."
CARD_AUTH_FAILED = "카드정보 인증 및 빌키 발급에 실패하였습니다."
EXPIRY_INVALID = "카드정보 인증에 실패하였습니다. (유효기간이 올바르지 않거나 지났습니다)"
DUPLICATE_ORDER = "이미 주문이 이루어진 건입니다"

# The card every sandbox key shows (issuer and publisher are the same company here).
CARD_CODE = "366"
CARD_NAME = "신한카드"
BILLING_PG_ID = "INIBillTst"  # KG이니시스' billing test MID (iamport-manual issue #25)
KST = timezone(timedelta(hours=9))


class CardError(Exception):
    """The card was refused before any key or charge: V1 answers code -1 with the message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def digits(card_number: str) -> str:
    """PortOne normalises the number whatever its separators (help-schedule-validity.md)."""
    only = re.sub(r"[^0-9]", "", card_number)
    if not 15 <= len(only) <= 16 or len(only) != len(re.sub(r"[\s.\-]", "", card_number)):
        raise CardError(INVALID_CARD_NUMBER)
    return only


def mask(number: str) -> str:
    """536181******1234: the first six digits (the BIN) and the last four, as PortOne shows them."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def check_expiry(expiry: str, now: float) -> None:
    """YYYY-MM (the documented form) or YYYYMM; a card past its month is refused."""
    match = re.fullmatch(r"(\d{4})-?(\d{2})", expiry.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise CardError(EXPIRY_INVALID)
    today = datetime.fromtimestamp(now, tz=KST)
    if (int(match.group(1)), int(match.group(2))) < (today.year, today.month):
        raise CardError(EXPIRY_INVALID)


def check_card(card_number: str | None, expiry: str | None, now: float) -> tuple[str, bool]:
    """(masked number, declines every charge) for a card the PG accepts; CardError otherwise."""
    if not card_number:
        raise CardError(INVALID_CARD_NUMBER)
    number = digits(card_number)
    check_expiry(expiry or "", now)
    if number == REFUSED_CARD:
        raise CardError(CARD_AUTH_FAILED)
    return mask(number), number == DECLINE_CARD


def card_fields(masked: str | None) -> dict:
    """The card part of CustomerAnnotation / PaymentAnnotation for a key's card."""
    return {
        "card_code": CARD_CODE,
        "card_name": CARD_NAME,
        "card_issuer_code": CARD_CODE,
        "card_issuer_name": CARD_NAME,
        "card_publisher_code": CARD_CODE,
        "card_publisher_name": CARD_NAME,
        "card_number": masked,
        "card_type": 0,
    }
