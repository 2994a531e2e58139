"""The one interface every payment gateway implements (``Gateway``), what it reports
(``GatewayPayment``, in the normalised statuses below) and how it fails. The core (services/sync.py,
credit, cancellation, reconciliation, webhooks) speaks only these words; each gateway's own ids
and statuses stay in its package."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from services.errors import Code, DomainError

# Pauses before a gateway request is retried (a transport error or a 5xx), jittered so that many
# callers do not come back at once.
BACKOFF_S = (0.1, 0.4)


async def retry_pause(attempt: int) -> None:
    """Waits before retry number ``attempt`` (0-based) of a gateway request."""
    base = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
    await asyncio.sleep(base * (0.5 + random.random()))

if TYPE_CHECKING:
    from services.gateways.refund_account import RefundAccount

# Normalised statuses (every gateway maps its own onto these: PortOne V1, V2, Bootpay).
READY = "ready"  # virtual account issued, waiting for the deposit
PAID = "paid"
PARTIALLY_CANCELLED = "partially_cancelled"
CANCELLED = "cancelled"
FAILED = "failed"
# The buyer approved and the gateway holds the payment for the merchant's confirm (Bootpay's
# ``separately_confirmed``, status 2): nothing is captured until we confirm, so never credited as is.
AUTHORIZED = "authorized"


def usable_payment_key(payment_key: str) -> bool:
    """Whether a client-supplied payment key (PortOne's imp_uid / paymentId…) can go into a
    gateway's URL path as it is.

    Control characters made httpx raise InvalidURL (an unmasked 500, found by fuzzing), and ``/``,
    ``?``, ``#``, ``%``, ``\\`` or a dot segment would make the request a different one. Gateways'
    ids never contain any of these; a key that does cannot exist there."""
    if not payment_key or len(payment_key) > 200 or payment_key.strip(".") == "":
        return False
    return all(ch.isprintable() and not ch.isspace() and ch not in "/?#%\\" for ch in payment_key)


class GatewayUnavailable(DomainError):
    """The gateway could not be asked or gave no usable answer (network, 5xx, credentials, a
    malformed body): nothing is known. ``code`` is the gateway's own (``PORTONE_UNAVAILABLE``,
    ``BOOTPAY_UNAVAILABLE``): clients depend on it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.detail = detail


class GatewayRejected(DomainError):
    """The gateway answered with an error for a reason other than not-found (PortOne: an error
    envelope, code != 0). ``code`` as for ``GatewayUnavailable``."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(code, f"결제사 요청이 거절되었습니다: {message}")
        self.status = status
        self.gateway_message = message


class InvalidWebhook(Exception):
    """A delivery that is not a well-formed, authentic webhook of the gateway it claims to be from."""


@dataclass(frozen=True)
class VirtualAccount:
    bank_name: str | None
    bank_code: str | None
    account_number: str | None
    holder: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class GatewayPayment:
    """What a gateway says about one payment — the only source of truth for money."""

    provider: str  # the gateway's name: "portone_v1" | "portone_v2" | "bootpay"
    payment_key: str  # the gateway's id of the payment (PortOne: imp_uid (V1) or paymentId (V2))
    order_key: str  # the merchant's id of the order it pays (PortOne V1: merchant_uid; V2: paymentId)
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


class Gateway(Protocol):
    name: str
    # Whether list_payments works: Bootpay has no listing API, so reconciliation walks our own open
    # payments of it instead (services/reconcile.py).
    can_list: bool

    async def get_payment(self, payment_key: str) -> GatewayPayment: ...

    async def prepare(self, order_key: str, amount: int) -> None: ...

    async def cancel(
        self,
        payment_key: str,
        *,
        amount: int,
        checksum: int,
        reason: str,
        request_id: str,
        refund_account: RefundAccount | None = None,
    ) -> GatewayPayment: ...

    async def list_payments(
        self, *, since: datetime | None, until: datetime | None, cursor: str | None = None, size: int = 100
    ) -> tuple[list[GatewayPayment], str | None]: ...


@dataclass(frozen=True)
class BillingKey:
    """What a gateway shows of a saved card (정기결제 billing key): never the number, only the masked one."""

    key: str  # what charges name: V1 customer_uid, V2 billingKey, Bootpay billing_key
    customer_id: str | None
    card_name: str | None
    card_number: str | None  # masked ("536181******1234")
    card_type: int | None  # 0 credit, 1 check
    pg_provider: str | None
    # Which browser request issued it, where the gateway records one (V2 issueId, Bootpay's
    # subscription_id): lets registration check that the key came from a request this caller prepared.
    issue_ref: str | None = None


class BillingGateway(Protocol):
    """Billing keys and charges with them (saved cards, subscriptions). ``name`` is the value of
    ``payment_cards.provider`` and of ``orders.provider`` for the orders it charges.

    The rules every implementation keeps: a decline is a returned payment whose status is FAILED
    (with ``fail_reason``), not an exception; GatewayRejected means the request never reached the
    card company (nothing charged); GatewayUnavailable means no answer (the charge may or may not
    have happened: the caller looks the order up with ``payments_of_order`` before charging again).
    ``charge`` is sent once, never retried blindly."""

    name: str

    async def get_billing_key(self, key: str) -> BillingKey | None: ...

    async def delete_billing_key(self, key: str) -> bool: ...

    async def charge(
        self, *, key: str, order_key: str, amount: int, name: str, customer_id: str | None = None
    ) -> GatewayPayment: ...

    async def payments_of_order(self, order_key: str) -> list[GatewayPayment]: ...
