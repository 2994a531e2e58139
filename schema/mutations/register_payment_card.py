from __future__ import annotations

import strawberry

from schema.billing_types import PaymentCard
from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession, PrepareRateLimit
from services.errors import Code, DomainError


@strawberry.type
class RegisterPaymentCardMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, PrepareRateLimit],
        description=(
            "결제창에서 발급한 빌링키를 결제사에서 확인하고 내 카드로 등록합니다 (V1: customerUid). 이 사용자가 "
            "preparePaymentCard로 받은 customerUid만 등록됩니다. 같은 customerUid를 다시 보내면 같은 카드를 돌려줍니다. "
            "Bootpay: requestSubscription이 돌려준 receiptId (이 사용자가 준비한 subscriptionId로 발급된 것만)."
        ),
    )
    async def register_payment_card(
        self,
        info: Info,
        customer_uid: strawberry.ID | None = None,
        billing_key: strawberry.ID | None = None,
        receipt_id: strawberry.ID | None = None,
    ) -> PaymentCard:
        cards = info.context.services.cards
        assert cards is not None
        if receipt_id is not None:
            if customer_uid is not None or billing_key is not None:
                raise DomainError(Code.BAD_USER_INPUT, "customerUid, billingKey, receiptId 중 하나만 보내 주세요.")
            card = await cards.register_with(info.context.require_user_id(), "bootpay", str(receipt_id))
            return PaymentCard.from_model(card)
        if billing_key is not None or not customer_uid:
            # V2's billingKey comes with V2 billing (docs/BILLING.md: not built yet).
            raise DomainError(Code.BAD_USER_INPUT, "V1 카드는 customerUid로 등록해 주세요. (billingKey: V2, 아직 지원하지 않음)")
        card = await cards.register(info.context.require_user_id(), str(customer_uid))
        return PaymentCard.from_model(card)
