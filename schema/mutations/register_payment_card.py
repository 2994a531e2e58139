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
            "결제창에서 발급한 빌링키를 결제사에서 확인하고 내 카드로 등록합니다 (V1: customerUid, V2: billingKey). "
            "이 사용자가 preparePaymentCard로 시작한 등록만 받습니다. 같은 값을 다시 보내면 같은 카드를 돌려줍니다."
        ),
    )
    async def register_payment_card(
        self, info: Info, customer_uid: strawberry.ID | None = None, billing_key: strawberry.ID | None = None
    ) -> PaymentCard:
        cards = info.context.services.cards
        assert cards is not None
        customer_uid, billing_key = customer_uid or None, billing_key or None
        if (customer_uid is None) == (billing_key is None):
            raise DomainError(Code.BAD_USER_INPUT, "customerUid(V1) 또는 billingKey(V2) 중 하나만 보내 주세요.")
        user_id = info.context.require_user_id()
        if billing_key is not None:
            card = await cards.register_with("portone_v2", user_id, str(billing_key))
        else:
            card = await cards.register(user_id, str(customer_uid))
        return PaymentCard.from_model(card)
