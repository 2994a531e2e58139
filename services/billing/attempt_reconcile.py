"""``pointcharge reconcile`` over subscription attempts: an attempt left ``charging`` (its run died)
or ``unknown`` (no answer) longer than the reconciler's ``stale_after`` is looked up at its gateway
by its merchant_uid and synced through ChargeService.sync_payment (the exactly-once credit). It
never charges anything.

- found paid → credited (once), the attempt marked ``paid``; the runner then moves the subscription
  on without charging the cycle again;
- nothing paid there, the subscription still live → left for the runner, which resumes the attempt
  (looking it up again first);
- nothing paid there, the subscription ended (cancelled, a deleted card) → the attempt is closed
  (``refused``: nothing was charged).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from services.billing import subscription_claims as claims
from services.billing.card_charge import CREDIT_OUTCOMES
from services.billing.cards import CardService
from services.charging import ChargeService
from services.db import Database
from services.errors import DomainError
from services.models import PaymentCard, PointSubscription, PointSubscriptionAttempt, utcnow

if TYPE_CHECKING:
    from services.reconcile import Report

NOTHING_CHARGED = "결제사에 결제 없음 (정기 충전 종료)"


class AttemptReconciler:
    def __init__(self, db: Database, charging: ChargeService, cards: CardService, *, limit: int = 500) -> None:
        self.db = db
        self.charging = charging
        self.cards = cards
        self.limit = limit

    async def check(self, report: "Report", apply: bool, stale_after: timedelta) -> None:
        from services.reconcile import Difference

        cutoff = utcnow() - stale_after
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(PointSubscriptionAttempt, PointSubscription.user_id, PointSubscription.status,
                           PaymentCard.provider)
                    .join(PointSubscription, PointSubscription.id == PointSubscriptionAttempt.subscription_id)
                    .join(PaymentCard, PaymentCard.id == PointSubscription.card_id)
                    .where(PointSubscriptionAttempt.state.in_(claims.OPEN), PointSubscriptionAttempt.updated_at < cutoff)
                    .order_by(PointSubscriptionAttempt.updated_at)
                    .limit(self.limit)
                )
            ).all()
        for attempt, user_id, status, provider in rows:
            gateway = self.cards.gateways.get(provider)
            live = status in claims.LIVE
            diff = Difference("billing_attempt_open", provider, attempt.order_key,
                              f"subscription attempt {attempt.state} since {attempt.updated_at.isoformat()}",
                              user_id=user_id)
            if gateway is None:
                report.differences.append(diff)
                continue
            if not apply:
                report.differences.append(diff)
                continue
            try:
                remotes = await gateway.payments_of_order(attempt.order_key)
                paid_id: str | None = None
                for remote in reversed(remotes):  # oldest first
                    result = await self.charging.sync_payment(remote, claimant=user_id, source="reconcile")
                    if result.outcome in CREDIT_OUTCOMES and result.entry is not None and paid_id is None:
                        paid_id = result.payment.id
            except DomainError as exc:
                diff.detail += f"; look-up failed: {exc.code}"
                report.differences.append(diff)
                continue
            if paid_id is not None:
                await self._close(attempt.id, claims.PAID, payment_id=paid_id)
                diff.detail += "; paid at the gateway: credited"
            elif not live:
                await self._close(attempt.id, claims.REFUSED, fail_reason=NOTHING_CHARGED)
                diff.detail += "; nothing paid at the gateway: closed"
            else:
                continue  # the runner resumes it: not a difference
            diff.fixed = True
            report.differences.append(diff)

    async def _close(self, attempt_id: str, state: str, *, payment_id: str | None = None,
                     fail_reason: str | None = None) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                update(PointSubscriptionAttempt)
                .where(PointSubscriptionAttempt.id == attempt_id, PointSubscriptionAttempt.state.in_(claims.OPEN))
                .values(state=state, payment_id=payment_id, fail_reason=fail_reason, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
