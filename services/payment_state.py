"""Legal payment status transitions. The gateway is the truth, but a stale or replayed answer must
never move a payment backwards (e.g. cancelled → paid)."""

from __future__ import annotations

PREPARED = "prepared"
READY = "ready"
PAID = "paid"
PARTIALLY_CANCELLED = "partially_cancelled"
CANCELLED = "cancelled"
FAILED = "failed"
AUTHORIZED = "authorized"  # Bootpay separately_confirmed: approved by the buyer, waiting for our confirm
EXPIRED = "expired"  # a virtual account whose deposit deadline passed (set by reconciliation)

TRANSITIONS: dict[str, frozenset[str]] = {
    PREPARED: frozenset({READY, AUTHORIZED, PAID, PARTIALLY_CANCELLED, CANCELLED, FAILED}),
    # Confirmed (paid), or let lapse / cancelled at the gateway before we confirmed.
    AUTHORIZED: frozenset({PAID, PARTIALLY_CANCELLED, CANCELLED, FAILED}),
    READY: frozenset({PAID, PARTIALLY_CANCELLED, CANCELLED, FAILED, EXPIRED}),
    # Gateways refuse deposits after the deadline, but if one ever reports one, the money is real.
    EXPIRED: frozenset({PAID, PARTIALLY_CANCELLED, CANCELLED, FAILED}),
    # A late "paid" after "failed" is honoured: the money was taken.
    FAILED: frozenset({READY, PAID, PARTIALLY_CANCELLED, CANCELLED}),
    PAID: frozenset({PARTIALLY_CANCELLED, CANCELLED}),
    PARTIALLY_CANCELLED: frozenset({PARTIALLY_CANCELLED, CANCELLED}),
    CANCELLED: frozenset(),
}


def can_move(current: str, new: str) -> bool:
    return current == new or new in TRANSITIONS.get(current, frozenset())
