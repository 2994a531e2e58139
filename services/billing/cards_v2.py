"""PortOne V2 saved cards: ``PortOne.requestIssueBillingKey`` issues the key in the browser and hands
the ``billingKey`` to it; registerPaymentCard(billingKey) reads the key at PortOne and binds it.

Unlike V1's customer_uid, the billingKey is PortOne's and unknown until issued, so what binds a key
to the caller is what PortOne recorded of the request that issued it: its ``customer.id`` must be
the caller's id (the request passes ``customer.customerId``) and its ``issueId`` must be one this
caller prepared here (server-made, unguessable, recorded before the browser sees it). A key issued
without an issueId (PortOne's API, a frontend that does not pass it) takes the caller's oldest
pending request. Someone else's key and a key never prepared for are one answer:
PAYMENT_CARD_NOT_PREPARED.

A prepared V2 card keeps its issueId in ``customer_uid`` (unique, not null) until registration puts
the billingKey there: the unique index then makes one key one card.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.billing.cards import ACTIVE, DELETED, PREPARED, CardRequest, CardService
from services.db import Database
from services.errors import Code, DomainError
from services.gateways.base import usable_payment_key
from services.models import PaymentCard

PROVIDER = "portone_v2"
ISSUE_NAME = "포인트 충전 카드 등록"
_ISSUE_PREFIX = "pci_"


def new_issue_id() -> str:
    # 190 random bits, 36 characters (issue_order_key holds 40), URL-safe.
    return f"{_ISSUE_PREFIX}{secrets.token_urlsafe(24)}"


@dataclass(frozen=True)
class PortOneV2Enrolment:
    store_id: str
    channel_key: str  # a channel whose PG contract allows billing keys (정기결제)

    async def prepare(self, cards: CardService, user_id: str) -> CardRequest:
        issue_id = new_issue_id()
        card = PaymentCard(
            user_id=user_id, provider=PROVIDER, customer_uid=issue_id, customer_id=user_id,
            issue_order_key=issue_id, status=PREPARED,
        )
        async with cards.db.transaction() as s:
            s.add(card)
        return CardRequest(
            version=PROVIDER, customer_uid=None, customer_id=user_id, order_key=None, pg=None, name=ISSUE_NAME,
            store_id=self.store_id, channel_key=self.channel_key, issue_id=issue_id, billing_key_method="CARD",
        )

    async def register(self, cards: CardService, user_id: str, billing_key: str) -> PaymentCard:
        """The billingKey, checked at PortOne, as this user's card. Idempotent: a second call (or a
        concurrent one) answers the same card."""
        billing_key = billing_key.strip()
        if not usable_payment_key(billing_key) or len(billing_key) > 80 or billing_key.startswith(_ISSUE_PREFIX):
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        known = await _card_of_key(cards.db, billing_key)
        if known is not None:
            return _answer(known, user_id)
        key = await cards.gateways[PROVIDER].get_billing_key(billing_key)
        if key is None:  # never issued, or deleted (a DELETED key is no card)
            raise DomainError(Code.BILLING_KEY_NOT_FOUND)
        if key.customer_id != user_id:
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        await cards._check_room(user_id)
        for _ in range(3):
            card = await _prepared_for(cards.db, user_id, key.issue_ref)
            try:
                if card is not None:
                    card = await cards._activate(card, key)
            except IntegrityError:
                card = None  # the same key bound at the same moment through another pending request
            if card is not None and card.customer_uid == billing_key:
                return card
            known = await _card_of_key(cards.db, billing_key)  # a concurrent call registered it
            if known is not None:
                return _answer(known, user_id)
            if card is None:
                break
            # Another key of this user took the request meanwhile: take another pending one.
        raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)


async def _card_of_key(db: Database, billing_key: str) -> PaymentCard | None:
    async with db.session() as s:
        return (
            await s.execute(
                select(PaymentCard).where(
                    PaymentCard.provider == PROVIDER, PaymentCard.customer_uid == billing_key,
                    PaymentCard.status != PREPARED,
                )
            )
        ).scalar_one_or_none()


def _answer(card: PaymentCard, user_id: str) -> PaymentCard:
    if card.user_id != user_id:
        raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
    if card.status == DELETED:
        raise DomainError(Code.PAYMENT_CARD_NOT_FOUND, "삭제된 카드입니다. 카드 등록을 처음부터 다시 진행해 주세요.")
    assert card.status == ACTIVE
    return card


async def _prepared_for(db: Database, user_id: str, issue_id: str | None) -> PaymentCard | None:
    """The pending request a key of this user is bound to: the one its issueId names (which must be
    this user's), else — a key issued without one, or a second key issued for a request already
    used — the user's oldest pending request. Both keys are the user's own (customer.id)."""
    mine = select(PaymentCard).where(PaymentCard.provider == PROVIDER, PaymentCard.user_id == user_id)
    async with db.session() as s:
        if issue_id is not None:
            named = (await s.execute(mine.where(PaymentCard.issue_order_key == issue_id))).scalar_one_or_none()
            if named is None:  # someone else's request, or none ever made
                return None
            if named.status == PREPARED:
                return named
        pending = mine.where(PaymentCard.status == PREPARED).order_by(PaymentCard.created_at, PaymentCard.id)
        return (await s.execute(pending.limit(1))).scalar_one_or_none()
