"""Saved cards: the server makes the customer_uid (bound to the caller, unguessable, never reused),
the browser issues a key under it in PortOne's window, the server checks the key at PortOne and
keeps what PortOne shows of the card — never a number, only the masked one.

Why the server makes the uid: PortOne files a key under whatever uid the merchant names, and a
reused uid is silently rebound to the newer card while the old key stays alive at the PG
(billing-and-bootpay.md §F.1). A uid made here for one user and one card, recorded before the
browser sees it, is what lets registerPaymentCard refuse a uid of someone else's or one never made.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from services.db import Database
from services.errors import Code, DomainError
from services.gateways.base import BillingGateway, BillingKey
from services.models import PaymentCard, utcnow
from services.orders import new_order_key

log = logging.getLogger("pointcharge.billing")

PREPARED, ACTIVE, DELETED = "prepared", "active", "deleted"
# How many saved cards one user may have at a time (a card wallet, not a card store).
MAX_ACTIVE_CARDS = 10
_CARD_ID = re.compile(r"[0-9a-f]{32}")
_CUSTOMER_UID = re.compile(r"pcu_[A-Za-z0-9_-]{16,76}")  # what new_customer_uid makes


@dataclass(frozen=True)
class CardRequest:
    """What the browser passes to IMP.request_pay to issue the key: customer_uid, and a merchant_uid
    and amount 0 for the issuance record PortOne keeps."""

    version: str
    customer_uid: str
    customer_id: str
    order_key: str
    pg: str
    amount: int = 0
    name: str = "카드 등록"
    pay_method: str = "card"  # the only method PortOne's billing-key window takes


def new_customer_uid() -> str:
    # 190 random bits: unguessable, within PortOne's 80 characters, URL-path safe ([A-Za-z0-9_-]).
    return f"pcu_{secrets.token_urlsafe(24)}"


class CardService:
    def __init__(self, db: Database, gateways: dict[str, BillingGateway], *, pg: str) -> None:
        self.db = db
        # By payment_cards.provider: every card is read, charged and deleted through its own gateway.
        self.gateways = gateways
        self.pg = pg
        # Run before a card's key is deleted at its gateway (the issue: revoke what charges the card
        # first): subscriptions on it are cancelled. Registered by the composition root, so that
        # cards know nothing of what uses them.
        self.before_delete: list[Callable[[PaymentCard], Awaitable[object]]] = []

    def gateway_of(self, card: PaymentCard) -> BillingGateway:
        gateway = self.gateways.get(card.provider)
        if gateway is None:  # a card of a gateway this server no longer runs
            raise DomainError(Code.GATEWAY_DISABLED, gateway=card.provider)
        return gateway

    async def prepare(self, user_id: str, *, provider: str = "portone_v1") -> CardRequest:
        if provider != "portone_v1" or provider not in self.gateways:
            raise DomainError(Code.BAD_USER_INPUT, "이 버전의 카드 등록은 아직 지원하지 않습니다. (지원: V1)", field="version")
        card = PaymentCard(
            user_id=user_id,
            provider=provider,
            customer_uid=new_customer_uid(),
            customer_id=user_id,
            issue_order_key=new_order_key().replace("pc_", "pcc_", 1),
            status=PREPARED,
        )
        async with self.db.transaction() as s:
            s.add(card)
        return CardRequest(
            version=provider, customer_uid=card.customer_uid, customer_id=user_id,
            order_key=card.issue_order_key or "", pg=self.pg,
        )

    async def register(self, user_id: str, customer_uid: str) -> PaymentCard:
        """The key under ``customer_uid``, checked at PortOne, as this user's card. Idempotent: a
        second call answers the same card."""
        customer_uid = customer_uid.strip()
        if not _CUSTOMER_UID.fullmatch(customer_uid):  # never made here: nothing to read
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        async with self.db.session() as s:
            card = (
                await s.execute(select(PaymentCard).where(PaymentCard.customer_uid == customer_uid))
            ).scalar_one_or_none()
        # Someone else's uid and a uid never made are the same answer: nothing tells them apart.
        if card is None or card.user_id != user_id:
            raise DomainError(Code.PAYMENT_CARD_NOT_PREPARED)
        if card.status == ACTIVE:
            return card
        if card.status == DELETED:
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND, "삭제된 카드입니다. 카드 등록을 처음부터 다시 진행해 주세요.")
        key = await self.gateway_of(card).get_billing_key(customer_uid)
        if key is None:
            raise DomainError(Code.BILLING_KEY_NOT_FOUND)
        await self._check_room(user_id)
        return await self._activate(card, key)

    async def _check_room(self, user_id: str) -> None:
        async with self.db.session() as s:
            active = (
                await s.execute(select(PaymentCard.id).where(PaymentCard.user_id == user_id, PaymentCard.status == ACTIVE))
            ).all()
        if len(active) >= MAX_ACTIVE_CARDS:
            raise DomainError(
                Code.BAD_USER_INPUT, f"카드는 {MAX_ACTIVE_CARDS}장까지 등록할 수 있습니다. 쓰지 않는 카드를 삭제해 주세요."
            )

    async def _activate(self, card: PaymentCard, key: BillingKey) -> PaymentCard:
        now = utcnow()
        async with self.db.transaction() as s:
            # Conditional on ``prepared``: two registrations racing both read the key, one writes.
            await s.execute(
                update(PaymentCard)
                .where(PaymentCard.id == card.id, PaymentCard.status == PREPARED)
                .values(
                    status=ACTIVE, card_name=key.card_name, card_number=key.card_number, card_type=key.card_type,
                    pg_provider=key.pg_provider, registered_at=now, updated_at=now,
                )
            )
            fresh = await s.get(PaymentCard, card.id, populate_existing=True)
        assert fresh is not None
        if fresh.status != ACTIVE:  # deleted in between
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND)
        return fresh

    async def list(self, user_id: str) -> list[PaymentCard]:
        async with self.db.session() as s:
            return list(
                (
                    await s.execute(
                        select(PaymentCard)
                        .where(PaymentCard.user_id == user_id, PaymentCard.status == ACTIVE)
                        .order_by(PaymentCard.registered_at.desc(), PaymentCard.id.desc())
                    )
                ).scalars()
            )

    async def get_active(self, user_id: str, card_id: str) -> PaymentCard:
        card_id = card_id.strip()
        if not _CARD_ID.fullmatch(card_id):
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND)
        async with self.db.session() as s:
            card = await s.get(PaymentCard, card_id)
        # Someone else's card is "not found": its existence is not the caller's business.
        if card is None or card.user_id != user_id or card.status != ACTIVE:
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND)
        return card

    async def delete(self, user_id: str, card_id: str) -> str:
        """Deletes the key at PortOne, then the card here. A PortOne failure leaves the card as it
        was (and raises); a key PortOne no longer has (deleted by an earlier attempt whose answer was
        lost, or in its console) counts as deleted. Nothing is half done: the row changes only after
        PortOne has no key."""
        card = await self.get_active(user_id, card_id)
        for revoke in self.before_delete:
            await revoke(card)
        deleted_now = await self.gateway_of(card).delete_billing_key(card.customer_uid)
        if not deleted_now:
            log.info("billing key of card %s was already gone at the gateway", card.id)
        now = utcnow()
        async with self.db.transaction() as s:
            await s.execute(
                update(PaymentCard)
                .where(PaymentCard.id == card.id, PaymentCard.status == ACTIVE)
                .values(status=DELETED, deleted_at=now, updated_at=now)
            )
        return card.id
