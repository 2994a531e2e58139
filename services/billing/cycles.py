"""Charging one claimed subscription's due cycle: used by createPointSubscription (cycle 1, now) and
by the runner (every later cycle and retry), so both follow one set of rules.

Each attempt is its own order (``ps_<subscription>_c<cycle>_a<attempt>``, the amount fixed, no
``/payments/prepare``: a billing charge states its amount server-side) and its own attempt row, both
committed before the gateway is asked. The charge itself goes through CardChargeService: its claim
on the order, its look-up of the merchant_uid after a crash or a lost answer, and
ChargeService.sync_payment's exactly-once credit (ledger, history, metrics, webhook dedup) — one path
for one-click charges and subscriptions alike. An attempt found open (``charging``/``unknown``) is
resumed under the same merchant_uid: the gateway is asked for it before anything is charged again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from services import metrics
from services.billing import subscription_claims as claims
from services.billing.card_charge import CardChargeService
from services.billing.cards import ACTIVE as ACTIVE_CARD
from services.db import Database
from services.errors import Code, DomainError
from services.faults import crash_point
from services.gateways.base import GatewayUnavailable
from services.models import (
    Order, Payment, PaymentCard, PointSubscription, PointSubscriptionAttempt, PointTransaction, utcnow,
)

log = logging.getLogger("pointcharge.billing.cycles")
SOURCE = "subscription"  # metrics' source label
FIRST_DECLINED = "첫 결제 거절"  # ended_reason of a subscription whose first charge was declined

PAID, DECLINED, SUSPENDED, FAILED, UNKNOWN, SKIPPED = "paid", "declined", "suspended", "failed", "unknown", "skipped"
# No answer, or not now: the attempt stays open and the next run looks it up first.
UNANSWERED = frozenset({
    Code.PORTONE_UNAVAILABLE, Code.BOOTPAY_UNAVAILABLE, Code.CARD_CHARGE_IN_PROGRESS,
    Code.SERVICE_UNAVAILABLE, Code.GATEWAY_DISABLED,
})


@dataclass(frozen=True)
class CycleOutcome:
    kind: str  # paid | declined (retry scheduled) | suspended | failed (first charge) | unknown | skipped
    error: DomainError | None = None
    entry: PointTransaction | None = None


class _LeaseLost(Exception):
    """Another runner took the subscription over (our lease ran out): write nothing more."""


class CycleCharger:
    def __init__(self, db: Database, card_charges: CardChargeService) -> None:
        self.db = db
        self.card_charges = card_charges

    async def charge_claimed(self, subscription_id: str, token: str, at: datetime) -> CycleOutcome:
        """Charges the current cycle of a subscription this caller has claimed (``token``) and
        releases the claim. Never raises for a charge's failure: the outcome says what happened."""
        try:
            outcome = await self._charge(subscription_id, token, at)
        except _LeaseLost:
            outcome = CycleOutcome(SKIPPED)
        except Exception as exc:  # noqa: BLE001 - one subscription's failure never stops a run
            log.exception("subscription %s: charge failed unexpectedly", subscription_id)
            await claims.release(self.db, subscription_id, token)
            outcome = CycleOutcome(UNKNOWN, exc if isinstance(exc, DomainError) else None)
        if outcome.kind != SKIPPED:
            metrics.count_charge(SOURCE, outcome.kind, credited=outcome.entry.amount if outcome.entry else 0)
        return outcome

    async def _charge(self, subscription_id: str, token: str, at: datetime) -> CycleOutcome:
        # One read for everything the charge needs: the row, its cycle's latest attempt and that
        # attempt's order, the card (a charge is a handful of round trips: each one counts).
        async with self.db.session() as s:
            sub = await s.get(PointSubscription, subscription_id, populate_existing=True)
            if sub is None or sub.lease_token != token:
                return CycleOutcome(SKIPPED)
            # Attempt 0: no attempt of this cycle exists (a row is only written with the counter's
            # increment, in _new_attempt's fenced transaction): nothing to look up.
            attempt = None if sub.attempt == 0 else await claims.latest_attempt_in(s, sub.id, sub.cycle)
            order = await s.get(Order, attempt.order_id) if attempt is not None else None
            card = await s.get(PaymentCard, sub.card_id)
        if sub.status not in claims.LIVE:  # cancelled since it was claimed
            await claims.release(self.db, sub.id, token)
            return CycleOutcome(SKIPPED)
        assert card is not None  # cards are never deleted, only marked
        if attempt is not None and attempt.state == claims.PAID:
            # Credited already (reconcile found it, or a run died before moving on): move on, charge nothing.
            assert attempt.payment_id is not None
            await self._paid(sub, token, attempt, attempt.payment_id, at)
            return CycleOutcome(PAID)
        new_order = attempt is None or order is None or attempt.state not in claims.OPEN
        if new_order:
            attempt, order = await self._new_attempt(sub, token, card)
        try:
            if card.status != ACTIVE_CARD or card.user_id != sub.user_id:
                raise DomainError(Code.PAYMENT_CARD_NOT_FOUND)  # deleted in between
            entry, _credited_now = await self.card_charges.charge_order(sub.user_id, card, order, new_order=new_order)
        except DomainError as exc:
            return await self._not_paid(sub, token, attempt, at, exc)
        crash_point("billing_after_charge")  # credited; the attempt and the subscription not moved on yet
        assert entry.payment_id is not None
        await self._paid(sub, token, attempt, entry.payment_id, at)
        return CycleOutcome(PAID, entry=entry)

    async def _new_attempt(
        self, sub: PointSubscription, token: str, card: PaymentCard
    ) -> tuple[PointSubscriptionAttempt, Order]:
        number = sub.attempt + 1
        now = utcnow()
        async with self.db.transaction() as s:
            fenced = await s.execute(
                update(PointSubscription)
                # Still live: a cancel between the runner's read and here must not be charged.
                .where(PointSubscription.id == sub.id, PointSubscription.lease_token == token,
                       PointSubscription.status.in_(claims.LIVE),
                       PointSubscription.cycle == sub.cycle, PointSubscription.attempt == sub.attempt)
                .values(attempt=number, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if fenced.rowcount != 1:
                raise _LeaseLost()
            key = claims.order_key_of(sub.id, sub.cycle, number)
            order = Order(provider=card.provider, order_key=key, user_id=sub.user_id, amount=sub.amount,
                          created_at=now)
            s.add(order)
            await s.flush()
            attempt = PointSubscriptionAttempt(
                subscription_id=sub.id, cycle=sub.cycle, attempt=number, order_id=order.id, order_key=key,
                state=claims.CHARGING, created_at=now, updated_at=now,
            )
            s.add(attempt)
        sub.attempt = number
        return attempt, order

    async def _paid(
        self, sub: PointSubscription, token: str, attempt: PointSubscriptionAttempt, payment_id: str, at: datetime
    ) -> None:
        now = utcnow()
        # The next cycle due after this run: months missed while no runner ran (an outage) are not
        # charged in arrears, several at once — the subscription goes on from the next billing day.
        cycle = attempt.cycle + 1
        while claims.due_at(sub.anchor_at, sub.billing_day, cycle) <= at:
            cycle += 1
        async with self.db.transaction() as s:
            await s.execute(
                update(PointSubscriptionAttempt)
                .where(PointSubscriptionAttempt.id == attempt.id, PointSubscriptionAttempt.state != claims.PAID)
                .values(state=claims.PAID, payment_id=payment_id, fail_reason=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            moved = await s.execute(
                update(PointSubscription)
                .where(PointSubscription.id == sub.id, PointSubscription.lease_token == token,
                       PointSubscription.cycle == attempt.cycle, PointSubscription.status.in_(claims.LIVE))
                .values(
                    status=claims.ACTIVE, cycle=cycle, attempt=0,
                    next_charge_at=claims.due_at(sub.anchor_at, sub.billing_day, cycle),
                    last_charged_at=now, last_failure_reason=None, lease_until=None, lease_token=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 0:
                # Cancelled while its charge was in flight: the charge stands (credited), the
                # subscription stays cancelled.
                await s.execute(
                    update(PointSubscription)
                    .where(PointSubscription.id == sub.id, PointSubscription.lease_token == token)
                    .values(last_charged_at=now, lease_until=None, lease_token=None, updated_at=now)
                    .execution_options(synchronize_session=False)
                )

    async def _not_paid(
        self, sub: PointSubscription, token: str, attempt: PointSubscriptionAttempt, at: datetime, exc: DomainError
    ) -> CycleOutcome:
        code = exc.code
        if code == Code.ORDER_ALREADY_PAID:  # our own order, credited by another path (a webhook)
            payment_id = await self._credited_payment(attempt.order_id)
            if payment_id is not None:
                await self._paid(sub, token, attempt, payment_id, at)
                return CycleOutcome(PAID)
        if isinstance(exc, GatewayUnavailable) or code in UNANSWERED:
            await self._finish_attempt(attempt, claims.UNKNOWN, None, only_charging=True)
            await claims.release(self.db, sub.id, token)
            log.warning("subscription %s cycle %s attempt %s: no answer (%s); looked up next run",
                        sub.id, attempt.cycle, attempt.attempt, code)
            return CycleOutcome(UNKNOWN, exc)
        now = utcnow()
        if code == Code.CARD_DECLINED:
            reason = str(exc.extensions.get("failReason") or "카드사 승인 거절")
            await self._finish_attempt(attempt, claims.DECLINED, reason)
            if sub.status == claims.CREATING:
                kind, values = FAILED, dict(status=claims.FAILED, next_charge_at=None,
                                            ended_reason=f"{FIRST_DECLINED}: {reason}"[:200])
            elif attempt.attempt < claims.MAX_ATTEMPTS:
                kind, values = DECLINED, dict(status=claims.PAST_DUE,
                                              next_charge_at=at + claims.RETRY_DELAYS[attempt.attempt - 1])
            else:
                kind, values = SUSPENDED, dict(status=claims.SUSPENDED, next_charge_at=None,
                                               ended_reason=f"{claims.MAX_ATTEMPTS}회 결제 거절: {reason}"[:200])
            values["last_failure_reason"] = reason[:200]
        else:
            # The card is gone or unusable (the gateway refused its key, the card was deleted), or
            # the charge cannot be credited (over the balance cap: refunded): retrying will not help.
            reason = str(exc.extensions.get("reason") or exc.message)
            await self._finish_attempt(attempt, claims.REFUSED, reason)
            kind = FAILED if sub.status == claims.CREATING else SUSPENDED
            values = dict(status=claims.FAILED if kind == FAILED else claims.SUSPENDED, next_charge_at=None,
                          ended_reason=f"{code}: {reason}"[:200], last_failure_reason=reason[:200])
        async with self.db.transaction() as s:
            await s.execute(
                update(PointSubscription)
                .where(PointSubscription.id == sub.id, PointSubscription.lease_token == token,
                       PointSubscription.cycle == attempt.cycle, PointSubscription.attempt == attempt.attempt,
                       PointSubscription.status.in_(claims.LIVE))
                .values(**values, lease_until=None, lease_token=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        await claims.release(self.db, sub.id, token)  # cancelled meanwhile: only let go
        log.info("subscription %s cycle %s attempt %s: %s (%s)", sub.id, attempt.cycle, attempt.attempt, kind, code)
        return CycleOutcome(kind, exc)

    async def _finish_attempt(
        self, attempt: PointSubscriptionAttempt, state: str, reason: str | None, *, only_charging: bool = False
    ) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                update(PointSubscriptionAttempt)
                .where(PointSubscriptionAttempt.id == attempt.id,
                       PointSubscriptionAttempt.state.in_((claims.CHARGING,) if only_charging else claims.OPEN))
                .values(state=state, fail_reason=reason and reason[:200], updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    async def _credited_payment(self, order_id: str) -> str | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(Payment.id).where(Payment.order_id == order_id, Payment.credited_at.is_not(None)).limit(1)
                )
            ).scalar_one_or_none()
