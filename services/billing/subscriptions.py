"""Monthly point subscriptions (정기 충전): createPointSubscription, cancelPointSubscription,
fetchPointSubscriptions, and what deleting a card does to them.

One live subscription per user, by the database (``uq_point_subscriptions_live_user``, a partial
unique index over CREATING / ACTIVE / PAST_DUE): a second creation fails its insert, whatever the
number of processes. A double click (the same card and amount) answers the same subscription — it
waits for the first click's first charge and answers its outcome, a decline included; a different
card or amount is SUBSCRIPTION_EXISTS. A SUSPENDED or CANCELLED subscription holds no slot.

The first month is charged at once (services/billing/cycles.py, the runner's code): paid → ACTIVE;
declined or the card unusable → FAILED (never shown: no subscription came of it) and the error;
no answer → the subscription stays CREATING (shown as ACTIVE) and the runner resolves it, looking
the attempt up at the gateway first.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.billing import subscription_claims as claims
from services.billing.card_charge import declined, unusable
from services.billing.cards import CardService
from services.billing.cycles import FIRST_DECLINED, PAID, CycleCharger
from services.charging import ChargeService
from services.db import Database
from services.errors import Code, DomainError
from services.models import PaymentCard, PointSubscription, utcnow

_ID = re.compile(r"[0-9a-f]{20,32}")
CANCELLED_BY_USER = "사용자 해지"
CANCELLED_WITH_CARD = "카드 삭제로 해지"


@dataclass(frozen=True)
class SubscriptionView:
    subscription: PointSubscription
    card: PaymentCard | None  # None once the card is deleted


class SubscriptionService:
    def __init__(
        self, db: Database, charging: ChargeService, cards: CardService, cycles: CycleCharger, *, lease_s: float
    ) -> None:
        self.db = db
        self.charging = charging
        self.cards = cards
        self.cycles = cycles
        # How long a claim on a subscription lasts: longer than one charge can take, including a
        # wait on the order's own claim (CardChargeService's lease).
        self.lease_s = lease_s

    async def create(self, user_id: str, card_id: str, amount: int) -> SubscriptionView:
        self.charging.check_amount(amount)  # preparePointCharge's limits (packages or min..max)
        card = await self.cards.get_active(user_id, card_id)
        token = claims.new_token()
        for _ in range(5):
            now = utcnow()
            sub = PointSubscription(
                user_id=user_id, card_id=card.id, amount=amount, billing_day=claims.billing_day_of(now),
                anchor_at=now, status=claims.CREATING, next_charge_at=now,
                lease_until=now + timedelta(seconds=self.lease_s), lease_token=token,
                created_at=now, updated_at=now,
            )
            try:
                async with self.db.transaction() as s:
                    s.add(sub)
            except IntegrityError:
                live = await self._live_of(user_id)
                if live is None:
                    continue  # it ended in between: try again
                if live.card_id != card.id or live.amount != amount:
                    raise DomainError(Code.SUBSCRIPTION_EXISTS, subscriptionId=live.id) from None
                return await self._same_click(live.id, token)
            return await self._first_charge(sub.id, token)
        raise DomainError(Code.SUBSCRIPTION_EXISTS)  # pragma: no cover - kept racing

    async def _first_charge(self, subscription_id: str, token: str) -> SubscriptionView:
        outcome = await self.cycles.charge_claimed(subscription_id, token, utcnow())
        view = await self._view(subscription_id)
        status = view.subscription.status
        if outcome.kind == PAID or status not in (claims.CREATING, claims.FAILED):
            return view
        raise outcome.error or DomainError(Code.PORTONE_UNAVAILABLE)

    async def _same_click(self, subscription_id: str, token: str) -> SubscriptionView:
        """A second creation with the same card and amount: the first one's outcome."""
        deadline = time.monotonic() + self.lease_s + 5
        delay = 0.05
        while True:
            view = await self._view(subscription_id)
            sub = view.subscription
            if sub.status == claims.FAILED:
                first_declined = (sub.ended_reason or "").startswith(FIRST_DECLINED)
                raise declined(sub.last_failure_reason) if first_declined else unusable(sub.last_failure_reason)
            if sub.status != claims.CREATING:
                return view
            # Nobody is charging it (the first click's answer was lost): this click resumes it.
            if await claims.claim_one(self.db, sub.id, lease_s=self.lease_s, token=token):
                return await self._first_charge(sub.id, token)
            if time.monotonic() > deadline:
                raise DomainError(Code.CARD_CHARGE_IN_PROGRESS)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    async def _live_of(self, user_id: str) -> PointSubscription | None:
        async with self.db.session() as s:
            return (
                await s.execute(
                    select(PointSubscription).where(
                        PointSubscription.user_id == user_id, PointSubscription.status.in_(claims.LIVE)
                    )
                )
            ).scalar_one_or_none()

    async def cancel(self, user_id: str, subscription_id: str) -> SubscriptionView:
        """Cancels the caller's subscription; cancelling a cancelled one answers it as it is. A charge
        already in flight is not stopped: it is credited, and nothing is charged after it."""
        subscription_id = subscription_id.strip()
        if not _ID.fullmatch(subscription_id):
            raise DomainError(Code.SUBSCRIPTION_NOT_FOUND)
        now = utcnow()
        async with self.db.transaction() as s:
            await s.execute(
                update(PointSubscription)
                .where(
                    PointSubscription.id == subscription_id, PointSubscription.user_id == user_id,
                    PointSubscription.status.in_((*claims.LIVE, claims.SUSPENDED)),
                )
                .values(status=claims.CANCELLED, cancelled_at=now, next_charge_at=None,
                        ended_reason=CANCELLED_BY_USER, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        view = await self._view(subscription_id, missing_ok=True)
        # Someone else's subscription is "not found", as someone else's card is.
        if view is None or view.subscription.user_id != user_id or view.subscription.status not in claims.SHOWN:
            raise DomainError(Code.SUBSCRIPTION_NOT_FOUND)
        return view

    async def cancel_for_card(self, card: PaymentCard) -> int:
        """Before a card's key is deleted: its subscriptions end (CANCELLED, with the reason)."""
        now = utcnow()
        async with self.db.transaction() as s:
            done = await s.execute(
                update(PointSubscription)
                .where(PointSubscription.card_id == card.id,
                       PointSubscription.status.in_((*claims.LIVE, claims.SUSPENDED)))
                .values(status=claims.CANCELLED, cancelled_at=now, next_charge_at=None,
                        ended_reason=CANCELLED_WITH_CARD, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return done.rowcount

    async def list(self, user_id: str, *, limit: int = 50) -> list[SubscriptionView]:
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(PointSubscription, PaymentCard)
                    .join(PaymentCard, PaymentCard.id == PointSubscription.card_id)
                    .where(PointSubscription.user_id == user_id, PointSubscription.status.in_(claims.SHOWN))
                    .order_by(PointSubscription.created_at.desc(), PointSubscription.id.desc())
                    .limit(limit)
                )
            ).all()
        return [SubscriptionView(sub, card if card.status == "active" else None) for sub, card in rows]

    async def _view(self, subscription_id: str, *, missing_ok: bool = False) -> SubscriptionView:
        async with self.db.session() as s:
            sub = await s.get(PointSubscription, subscription_id, populate_existing=True)
            card = await s.get(PaymentCard, sub.card_id) if sub is not None else None
        if sub is None:
            if missing_ok:
                return None  # type: ignore[return-value]
            raise DomainError(Code.SUBSCRIPTION_NOT_FOUND)
        return SubscriptionView(sub, card if card is not None and card.status == "active" else None)
