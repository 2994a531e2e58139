"""The crediting rules, written once for both paths that credit (services/credit_lean.py, the
driver-level first sighting, and services/sync.py, the general ORM path).

Policy (docs/PAYMENTS.md): every payment attempt a gateway reports as paid is credited exactly once —
to its order's owner when it was made for a prepared order, else to the user who claims it —
provided its amount is the order's amount (a mismatch is refunded, never credited). Two attempts
paid for one order are two credits: nothing is silently kept, nothing silently refunded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum

from services import access_line, payment_state as st
from services.errors import Code, DomainError
from services.models import Payment, PointTransaction
from services.gateways.base import GatewayPayment

PAY_METHOD_LABELS = {
    "card": "신용카드",
    "vbank": "가상계좌",
    "trans": "실시간계좌이체",
    "phone": "휴대폰 소액결제",
    "kakaopay": "카카오페이",
    "naverpay": "네이버페이",
    "tosspay": "토스페이",
    "samsung": "삼성페이",
    "payco": "페이코",
}


class Outcome(StrEnum):
    CREDITED = "credited"
    ALREADY_CREDITED = "already_credited"
    PENDING = "pending"
    NOT_PAID = "not_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNCLAIMED = "unclaimed"
    FORBIDDEN = "forbidden"
    ALREADY_CLAIMED = "already_claimed"
    CANCELLED = "cancelled"
    BALANCE_LIMIT = "balance_limit"  # the credit would take the owner past the balance cap: refunded
    # Held by the gateway for our confirm (Bootpay separately_confirmed), its amount and owner
    # checked: confirm it, then sync the confirmed payment (services/charging.py).
    AUTHORIZED = "authorized"


@dataclass(frozen=True)
class SyncResult:
    outcome: Outcome
    payment: Payment
    entry: PointTransaction | None = None  # the credit entry, when there is one
    cancel_entry: PointTransaction | None = None  # the 취소 entry this sync wrote, if it wrote one


def log_credit(log: logging.Logger, amount: int, user_id: str | None, payment_key: str) -> None:
    """Every credit is logged once: on the access line of the request that made it, else on its own."""
    if not access_line.add(credited_points=amount, credited_user_id=user_id, credited_payment=payment_key):
        log.info("credited %s points to %s for %s", amount, user_id, payment_key)


def method_label(pay_method: str | None) -> str:
    return PAY_METHOD_LABELS.get(pay_method or "", pay_method or "결제")


def charge_key(payment_id: str) -> str:
    """The credit entry's unique key: one charge entry per payment attempt, whatever path writes it."""
    return f"charge:{payment_id}"


def cancel_key(payment_id: str, cancelled_total: int) -> str:
    """A 취소 entry's unique key: one per cancelled total the gateway reports for the attempt, whoever
    syncs it (our cancel, a webhook, reconciliation)."""
    return f"cancel:{payment_id}:{cancelled_total}"


def charge_detail(remote: GatewayPayment) -> str:
    return f"{method_label(remote.pay_method)} 충전"[:200]


def snapshot(remote: GatewayPayment) -> str:
    return json.dumps(remote.raw, ensure_ascii=False, default=str)[:20_000]


def amount_mismatch(remote: GatewayPayment, order_amount: int | None) -> bool:
    """Points are credited only for KRW, only for what the buyer paid (V2 credits ``amount.total``:
    a part a promotion paid must not mint points — ``unpaid_amount``) and, for an order, only for
    exactly the order's amount."""
    return (
        remote.currency != "KRW"
        or remote.unpaid_amount > 0
        or (order_amount is not None and remote.amount != order_amount)
    )


def claim_conflict(owner: str | None, order_amount: int | None, claimant: str | None) -> Outcome | None:
    """Whether ``claimant`` may not claim an attempt already owned by ``owner``: another user's
    order (FORBIDDEN) or a payment another user claimed first (ALREADY_CLAIMED)."""
    if claimant is None or owner is None or owner == claimant:
        return None
    return Outcome.FORBIDDEN if order_amount is not None else Outcome.ALREADY_CLAIMED


def ownership_error(order_amount: int | None) -> DomainError:
    if order_amount is not None:
        return DomainError(Code.FORBIDDEN, "다른 사용자의 주문입니다.")
    return DomainError(Code.PAYMENT_ALREADY_CLAIMED)


def unprepared_refused() -> DomainError:
    return DomainError(Code.FORBIDDEN, "사전 등록된 주문(preparePointCharge)만 충전할 수 있습니다.")


def lean_candidate(remote: GatewayPayment) -> bool:
    """What the lean path can credit: paid in full, in KRW, nothing cancelled, no virtual account."""
    return (
        remote.status == st.PAID
        and remote.currency == "KRW"
        and remote.amount > 0
        and remote.cancelled_amount == 0
        and remote.unpaid_amount == 0
        and remote.virtual_account is None
    )
