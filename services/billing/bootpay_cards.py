"""Saved cards on Bootpay (Bootpay.requestSubscription → receipt_id → billing_key), the card flow
CardService delegates to for provider ``bootpay``.

- prepare: the server makes the ``subscription_id`` (unguessable, one per user × card, recorded as a
  prepared card before the browser sees it) and what the window needs (order name, price 0, pg,
  method "카드자동"). It is kept in ``payment_cards.issue_order_key`` for good, and in
  ``customer_uid`` until the key replaces it there (that column holds the gateway's key for every
  gateway).
- register(receiptId): the browser returns only the issuing receipt_id; the server reads the key
  with ``GET /v2/subscribe/billing_key/{receipt_id}`` and accepts it only when its subscription_id
  is one this caller prepared. Someone else's receipt, or one issued for a subscription_id never made
  here, is the same "not prepared" answer.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.db import Database
from services.errors import Code, DomainError
from services.gateways.bootpay.billing import BootpayBilling
from services.models import Order, Payment, PaymentCard

if TYPE_CHECKING:  # pragma: no cover
    from services.billing.cards import CardRequest, CardService

PROVIDER = "bootpay"
ORDER_NAME = "카드 등록"
METHOD = "카드자동"  # the web SDK's billing-key method (card_rebill on the mobile SDKs)
_SUBSCRIPTION_ID = re.compile(r"pcs_[A-Za-z0-9_-]{32}")


def new_subscription_id() -> str:
    return f"pcs_{secrets.token_urlsafe(24)}"  # 190 random bits, 36 characters


class BootpayCardFlow:
    provider = PROVIDER

    def __init__(self, gateway: BootpayBilling, *, pg: str) -> None:
        self.gateway = gateway
        self.pg = pg

    async def prepare(self, cards: "CardService", user_id: str) -> "CardRequest":
        from services.billing.cards import PREPARED, CardRequest

        subscription_id = new_subscription_id()
        card = PaymentCard(user_id=user_id, provider=PROVIDER, customer_uid=subscription_id, customer_id=user_id,
                           issue_order_key=subscription_id, status=PREPARED)
        async with cards.db.transaction() as s:
            s.add(card)
        return CardRequest(
            version=PROVIDER, customer_uid=subscription_id, customer_id=user_id,
            order_key=subscription_id, pg=self.pg, amount=0, name=ORDER_NAME, pay_method=METHOD,
            subscription_id=subscription_id, order_name=ORDER_NAME, price=0, method=METHOD,
        )

    async def register(self, cards: "CardService", user_id: str, receipt_id: str) -> PaymentCard:
        from services.billing.cards import ACTIVE, DELETED

        key = await self.gateway.key_of_receipt(receipt_id.strip())
        if key is None:
            raise DomainError(Code.BILLING_KEY_NOT_FOUND)
        subscription_id = key.issue_ref or ""
        if not _SUBSCRIPTION_ID.fullmatch(subscription_id):  # issued for a request never made here
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        async with cards.db.session() as s:
            card = (
                await s.execute(select(PaymentCard).where(PaymentCard.provider == PROVIDER,
                                                          PaymentCard.issue_order_key == subscription_id))
            ).scalar_one_or_none()
        if card is None or card.user_id != user_id:
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        if card.status == ACTIVE:
            if card.customer_uid == key.key:
                return card  # the same registration again
            # The window was opened twice for one preparation and issued a second key.
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED, "이 카드 등록 요청은 이미 다른 카드로 완료되었습니다. 카드 등록을 처음부터 다시 진행해 주세요.")
        if card.status == DELETED:
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND, "삭제된 카드입니다. 카드 등록을 처음부터 다시 진행해 주세요.")
        await cards._check_room(user_id)
        return await cards._activate(card, key)


async def recorded_receipts(db: Database, order_key: str) -> list[str]:
    """The Bootpay receipt ids we recorded for an order (its webhook, an answered charge), newest
    first: Bootpay has no lookup by order_id, so this is what ``payments_of_order`` re-reads."""
    async with db.session() as s:
        rows = await s.execute(
            select(Payment.payment_key)
            .join(Order, Order.id == Payment.order_id)
            .where(Order.provider == PROVIDER, Order.order_key == order_key, Payment.provider == PROVIDER)
            .order_by(Payment.created_at.desc())
            .limit(20)
        )
        return [key for (key,) in rows]
