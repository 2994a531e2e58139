"""The buyer's refund account, required by PortOne to refund a deposited virtual account (money
came in by bank transfer: PortOne cannot know where to send it back).

It is checked here before PortOne is called, handed to PortOne, and never stored or logged: it is
personal data we do not need afterwards. ``repr`` shows the bank only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.errors import Code, DomainError

# The standard (KFTC) bank codes PortOne V1 takes as ``refund_bank``, and the V2 ``Bank`` enum value
# (v2.openapi.yml ``Bank``) for each. Banks only: a virtual account is refunded to a bank account.
BANKS: dict[str, tuple[str, str]] = {
    "002": ("KDB", "KDB산업은행"),
    "003": ("IBK", "IBK기업은행"),
    "004": ("KOOKMIN", "KB국민은행"),
    "007": ("SUHYUP", "수협은행"),
    "011": ("NONGHYUP", "NH농협은행"),
    "012": ("LOCAL_NONGHYUP", "지역농축협"),
    "020": ("WOORI", "우리은행"),
    "023": ("STANDARD_CHARTERED", "SC제일은행"),
    "027": ("CITI", "한국씨티은행"),
    "031": ("DAEGU", "아이엠뱅크(대구)"),
    "032": ("BUSAN", "부산은행"),
    "034": ("KWANGJU", "광주은행"),
    "035": ("JEJU", "제주은행"),
    "037": ("JEONBUK", "전북은행"),
    "039": ("KYONGNAM", "경남은행"),
    "045": ("KFCC", "새마을금고"),
    "048": ("SHINHYUP", "신협"),
    "050": ("SAVINGS_BANK", "저축은행"),
    "064": ("NFCF", "산림조합"),
    "071": ("POST", "우체국"),
    "081": ("HANA", "하나은행"),
    "088": ("SHINHAN", "신한은행"),
    "089": ("K_BANK", "케이뱅크"),
    "090": ("KAKAO", "카카오뱅크"),
    "092": ("TOSS", "토스뱅크"),
}
_BY_V2 = {v2: code for code, (v2, _) in BANKS.items()}

_DIGITS = re.compile(r"[0-9]+")

MISSING = "환불 계좌를 입력해 주세요."


@dataclass(frozen=True)
class RefundAccount:
    bank_code: str  # KFTC code, e.g. "004"
    number: str = field(repr=False)  # digits only
    holder: str = field(repr=False)
    tel: str | None = field(default=None, repr=False)

    @property
    def v2_bank(self) -> str:
        return BANKS[self.bank_code][0]

    @classmethod
    def parse(cls, bank: str, number: str, holder: str, tel: str | None = None) -> "RefundAccount":
        """Validated and normalised, or BAD_USER_INPUT naming the field (never echoing its value)."""
        bank = (bank or "").strip().upper()
        code = bank if bank in BANKS else _BY_V2.get(bank)
        if code is None:
            raise DomainError(
                Code.BAD_USER_INPUT,
                "환불 계좌의 은행 코드가 올바르지 않습니다. PortOne 은행 코드(예: 004 KB국민은행)를 입력해 주세요.",
                field="refundAccount.bank",
            )
        digits = (number or "").strip().replace("-", "").replace(" ", "")
        if not _DIGITS.fullmatch(digits) or not 10 <= len(digits) <= 16:
            raise DomainError(
                Code.BAD_USER_INPUT,
                "환불 계좌번호가 올바르지 않습니다. 숫자 10~16자리로 입력해 주세요.",
                field="refundAccount.number",
            )
        holder = " ".join((holder or "").split())
        if not holder or len(holder) > 50:
            raise DomainError(
                Code.BAD_USER_INPUT, "환불 계좌의 예금주를 1~50자로 입력해 주세요.", field="refundAccount.holder"
            )
        phone = None
        if tel is not None and tel.strip():
            phone = tel.strip().replace("-", "").replace(" ", "")
            if not _DIGITS.fullmatch(phone) or not 9 <= len(phone) <= 12:
                raise DomainError(
                    Code.BAD_USER_INPUT, "예금주 연락처가 올바르지 않습니다.", field="refundAccount.tel"
                )
        return cls(code, digits, holder, phone)
