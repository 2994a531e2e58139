from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from services.errors import Code, DomainError

if TYPE_CHECKING:
    from services.gateways.refund_account import RefundAccount

# Normalised statuses (V1 and V2 map onto these).
READY = "ready"  # virtual account issued, waiting for the deposit
PAID = "paid"
PARTIALLY_CANCELLED = "partially_cancelled"
CANCELLED = "cancelled"
FAILED = "failed"
# The buyer approved and the gateway holds the payment for the merchant's confirm (Bootpay's
# ``separately_confirmed``, status 2): nothing is captured until we confirm, so never credited as is.
AUTHORIZED = "authorized"


def usable_payment_key(payment_key: str) -> bool:
    """Whether a client-supplied imp_uid / paymentId can go into a PortOne URL path as it is.

    Control characters made httpx raise InvalidURL (an unmasked 500, found by fuzzing), and ``/``,
    ``?``, ``#``, ``%``, ``\\`` or a dot segment would make the request a different one. PortOne's ids
    never contain any of these; a key that does cannot exist there."""
    if not payment_key or len(payment_key) > 200 or payment_key.strip(".") == "":
        return False
    return all(ch.isprintable() and not ch.isspace() and ch not in "/?#%\\" for ch in payment_key)


class PortOneUnavailable(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(Code.PORTONE_UNAVAILABLE)
        self.detail = detail


class PortOneRejected(DomainError):
    """PortOne answered with an error envelope (code != 0) for a reason other than not-found."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(Code.PORTONE_UNAVAILABLE, f"결제사 요청이 거절되었습니다: {message}")
        self.status = status
        self.portone_message = message


@dataclass(frozen=True)
class VirtualAccount:
    bank_name: str | None
    bank_code: str | None
    account_number: str | None
    holder: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class ProviderPayment:
    """What PortOne says about one payment — the only source of truth for money."""

    provider: str  # "portone_v1" | "portone_v2"
    payment_key: str  # imp_uid (V1) or paymentId (V2)
    merchant_uid: str
    status: str  # one of the normalised statuses above
    amount: int  # total amount of the payment (KRW)
    cancelled_amount: int
    currency: str
    pay_method: str | None
    pg_provider: str | None
    paid_at: datetime | None
    name: str | None = None
    fail_reason: str | None = None
    virtual_account: VirtualAccount | None = None
    # The part of ``amount`` the buyer did not pay (V2: ``amount.total − amount.paid`` of a paid
    # payment: a card company's or PortOne's promotion, points, a coupon). Never credited: a
    # payment with one is an amount mismatch (services/credit.py).
    unpaid_amount: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def cancellable_amount(self) -> int:
        return self.amount - self.cancelled_amount


class PaymentProvider(Protocol):
    name: str
    # Whether list_payments works: Bootpay has no listing API, so reconciliation walks our own open
    # payments of it instead (services/reconcile.py).
    can_list: bool

    async def get_payment(self, payment_key: str) -> ProviderPayment: ...

    async def prepare(self, merchant_uid: str, amount: int) -> None: ...

    async def cancel(
        self,
        payment_key: str,
        *,
        amount: int,
        checksum: int,
        reason: str,
        request_id: str,
        refund_account: RefundAccount | None = None,
    ) -> ProviderPayment: ...

    async def list_payments(
        self, *, since: datetime | None, until: datetime | None, cursor: str | None = None, size: int = 100
    ) -> tuple[list[ProviderPayment], str | None]: ...
