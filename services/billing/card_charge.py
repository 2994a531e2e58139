"""One-click charges with a saved card (createPointTransactionOfLoadingWithCard): an order made by
preparePointCharge, paid with the card's billing key, credited through the payments core.

The order is the idempotency key, at both ends:
- here, ``card_charges`` (card_claims.py): one attempt in flight per order, recorded before PortOne
  is asked; a double click waits for the first click's outcome and answers it;
- at PortOne, the order's merchant_uid: every attempt is sent under it, and PortOne refuses a
  merchant_uid already paid ("이미 주문이 이루어진 건입니다"), so an attempt resent after a lost
  answer cannot be paid twice. A declined merchant_uid may be tried again (V1 keeps several payments
  per merchant_uid: ``/payments/findAll/{merchant_uid}``), so the order stays the same after a decline.
  V2 likewise: the order's paymentId, refused once paid (409 ALREADY_PAID), a FAILED one charged
  again (v2_billing.py).
- after a crash or a lost answer, the next call looks the order up at PortOne
  (``BillingGateway.payments_of_order``) and syncs what it finds before it charges anything.

Credit goes through ChargeService.sync_payment like every other payment: the same ledger, history,
exactly-once rules (amount = the order's, owner = the order's) and metrics.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from services import payment_state as st
from services.billing import card_claims as claims
from services.billing.cards import CardService
from services.charging import ChargeService
from services.credit import Outcome, SyncResult
from services.db import Database
from services.errors import Code, DomainError
from services.faults import crash_point
from services.gateways.base import BillingGateway, GatewayPayment, GatewayRejected, usable_payment_key
from services.models import CardCharge, Order, Payment, PaymentCard, PointTransaction
from services.orders import find_order
from services.sync import credit_entry

log = logging.getLogger("pointcharge.billing")

SOURCE = "card"  # payment_events.source, metrics' source label
CREDIT_OUTCOMES = (Outcome.CREDITED, Outcome.ALREADY_CREDITED, Outcome.CANCELLED)
PAID_OTHERWISE = "이미 결제된 주문"  # card_charges.fail_reason of an order paid another way


def charge_name(amount: int) -> str:
    return f"포인트 충전 {amount:,}원"


def declined(reason: str | None) -> DomainError:
    reason = reason or "카드사 승인 거절"
    return DomainError(
        Code.CARD_DECLINED, f"카드 결제가 거절되었습니다: {reason}. 다른 카드로 다시 시도해 주세요.", failReason=reason
    )


def unusable(reason: str | None) -> DomainError:
    return DomainError(
        Code.PAYMENT_CARD_UNUSABLE,
        f"이 카드로 결제할 수 없습니다: {reason or '결제사 거절'}. 카드를 삭제하고 다시 등록해 주세요.",
        reason=reason,
    )


class CardChargeService:
    def __init__(
        self, db: Database, charging: ChargeService, cards: CardService, *, lease_s: float
    ) -> None:
        self.db = db
        self.charging = charging
        self.cards = cards
        # Longer than one PortOne call can take (its timeout, a token refresh): a claim whose lease
        # ran out belongs to a process that is gone, or to a call that has given up.
        self.lease_s = lease_s

    async def charge(self, user_id: str, card_id: str, order_key: str) -> tuple[PointTransaction, bool]:
        """Charges the card for the order once and credits it once. Returns the credit entry and
        whether this call credited it (False: an earlier call or click did)."""
        card = await self.cards.get_active(user_id, card_id)
        order = await self._own_order(user_id, self.cards.gateway_of(card), order_key)
        return await self.charge_order(user_id, card, order)

    async def charge_order(
        self, user_id: str, card: PaymentCard, order: Order, *, new_order: bool = False
    ) -> tuple[PointTransaction, bool]:
        """``charge`` for a caller that has read the card (active, the user's) and the order (the
        user's, of the card's gateway) itself: the subscription runner, which reads both with its
        own rows in one round trip. ``new_order``: the caller has just written the order and no one
        has seen it yet, so no claim or credited payment can exist for it: the claim is an insert
        and nothing is looked for first (two reads fewer per charge of the billing run)."""
        gateway = self.cards.gateway_of(card)
        for round_ in range(5):
            fresh = new_order and round_ == 0
            got = await claims.claim(self.db, order_id=order.id, user_id=user_id, card_id=card.id,
                                     lease_s=self.lease_s, new_order=fresh)
            if isinstance(got, claims.Taken):
                row = got.row
                if row.state == claims.CHARGING:
                    row = await claims.wait(self.db, row, timeout_s=self.lease_s + 5)
                answer = await self._answer_of(row, got.row.attempt)
                if answer is not None:
                    return answer, False
                continue  # its lease ran out (the process died): take it over
            return await self._attempt(user_id, gateway, card.customer_uid, order, got,
                                       new_order=fresh and got.attempt == 1)
        raise DomainError(Code.CARD_CHARGE_IN_PROGRESS)

    async def _own_order(self, user_id: str, gateway: BillingGateway, order_key: str) -> Order:
        order_key = order_key.strip()
        if len(order_key) > 100 or not usable_payment_key(order_key):  # no order has such a key
            raise DomainError(Code.ORDER_NOT_FOUND)
        async with self.db.session() as s:
            order = await find_order(s, gateway.name, order_key)
            if order is None:  # the caller's order of another gateway (a V2 order with a V1 card)?
                order = (await s.execute(select(Order).where(Order.order_key == order_key).limit(1))).scalar_one_or_none()
                if order is not None and order.user_id == user_id:
                    raise DomainError(
                        Code.BAD_USER_INPUT, "이 카드와 다른 결제 방식(버전)으로 만든 주문입니다. 카드와 같은 버전으로 "
                        "주문(preparePointCharge)을 만들어 주세요.", field="merchantUid",
                    )
        # Someone else's order is "not found", as someone else's card is.
        if order is None or order.user_id != user_id or order.provider != gateway.name:
            raise DomainError(Code.ORDER_NOT_FOUND)
        return order

    async def _answer_of(self, row: CardCharge, attempt: int) -> PointTransaction | None:
        """The answer a waiting caller gives: the outcome of the attempt it waited for."""
        if row.state == claims.PAID and row.payment_id is not None:
            async with self.db.session() as s:
                entry = await credit_entry(s, row.payment_id)
            if entry is not None:
                return entry
        if row.attempt == attempt:
            if row.state == claims.DECLINED:
                raise declined(row.fail_reason)
            if row.state == claims.REFUSED and row.fail_reason == PAID_OTHERWISE:
                raise DomainError(Code.ORDER_ALREADY_PAID)
            if row.state == claims.REFUSED:
                raise unusable(row.fail_reason)
            if row.state == claims.UNKNOWN:
                raise DomainError(Code.PORTONE_UNAVAILABLE)
        return None

    async def _attempt(
        self, user_id: str, gateway: BillingGateway, key: str, order: Order, claim: claims.Claimed,
        *, new_order: bool = False,
    ) -> tuple[PointTransaction, bool]:
        finished = False

        async def finish(state: str, **kw: str | None) -> None:
            nonlocal finished
            finished = True
            if not await claims.finish(self.db, order.id, claim.attempt, state, **kw):
                log.warning("card charge of order %s: attempt %s was taken over", order.id, claim.attempt)

        try:
            if claim.recover:
                found = await self._look_up(user_id, gateway, order)
                if found is not None:
                    await finish(claims.PAID, payment_id=found.payment.id)
                    return found.entry, found.outcome is Outcome.CREDITED  # type: ignore[return-value]
            elif not new_order and await self._paid_otherwise(order.id):
                await finish(claims.REFUSED, fail_reason=PAID_OTHERWISE)
                raise DomainError(Code.ORDER_ALREADY_PAID)
            crash_point("card_charge_before_gateway")  # the claim is committed; PortOne has heard nothing
            try:
                remote = await gateway.charge(
                    key=key, order_key=order.order_key, amount=order.amount, name=charge_name(order.amount),
                    customer_id=user_id,
                )
            except GatewayRejected as exc:
                # Nothing reached the card company — unless PortOne refused a merchant_uid already
                # paid (an earlier attempt's answer was lost): look before saying no.
                found = await self._look_up(user_id, gateway, order)
                if found is not None:
                    await finish(claims.PAID, payment_id=found.payment.id)
                    return found.entry, found.outcome is Outcome.CREDITED  # type: ignore[return-value]
                await finish(claims.REFUSED, fail_reason=exc.gateway_message)
                raise unusable(exc.gateway_message) from None
            crash_point("card_charge_after_gateway")  # PortOne has answered; nothing of it is ours yet
            if remote.order_key != order.order_key:
                raise DomainError(Code.PORTONE_UNAVAILABLE)  # pragma: no cover - PortOne answers for the order
            if remote.status == st.FAILED and not remote.payment_key:
                # A decline the gateway keeps no record of (Bootpay: no receipt): nothing to sync.
                await finish(claims.DECLINED, fail_reason=remote.fail_reason)
                raise declined(remote.fail_reason)
            result = await self.charging.sync_payment(remote, claimant=user_id, source=SOURCE)
            if result.outcome in CREDIT_OUTCOMES and result.entry is not None:
                await finish(claims.PAID, payment_id=result.payment.id)
                return result.entry, result.outcome is Outcome.CREDITED
            if remote.status == st.FAILED:
                await finish(claims.DECLINED, fail_reason=remote.fail_reason)
                log.info("card charge of order %s declined: %s", order.id, remote.fail_reason)
                raise declined(remote.fail_reason)
            await finish(claims.REFUSED, fail_reason=result.outcome.value)
            self.charging._raise_unless_credited(result, remote)
            raise DomainError(Code.PAYMENT_NOT_PAID, status=remote.status)  # pragma: no cover
        except BaseException:
            if not finished:
                # No answer (PortOne unreachable, a timeout, the client gone): the charge may have
                # gone through. The next call looks the order up before charging again.
                await claims.finish(self.db, order.id, claim.attempt, claims.UNKNOWN)
            raise

    async def _paid_otherwise(self, order_id: str) -> bool:
        """Whether an attempt of the order is credited already (paid in the checkout, say)."""
        async with self.db.session() as s:
            credited = (
                await s.execute(
                    select(Payment.id).where(Payment.order_id == order_id, Payment.credited_at.is_not(None)).limit(1)
                )
            ).first()
        return credited is not None

    async def _look_up(self, user_id: str, gateway: BillingGateway, order: Order) -> SyncResult | None:
        """Syncs every attempt PortOne holds for the order; the credited one, if any."""
        found: SyncResult | None = None
        remotes: list[GatewayPayment] = await gateway.payments_of_order(order.order_key)
        for remote in reversed(remotes):  # oldest first: the events are recorded in order
            result = await self.charging.sync_payment(remote, claimant=user_id, source=SOURCE)
            if result.outcome in CREDIT_OUTCOMES and result.entry is not None and found is None:
                found = result
        if found is not None:
            log.info("card charge of order %s: found paid at PortOne (%s)", order.id, found.payment.payment_key)
        return found
