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
            "결제창에서 발급한 빌링키를 결제사에서 확인하고 내 카드로 등록합니다 (PortOne V1: customerUid, V2: billingKey, "
            "부트페이: requestSubscription이 돌려준 receiptId). 이 사용자가 preparePaymentCard로 시작한 등록만 받습니다. "
            "같은 값을 다시 보내면 같은 카드를 돌려줍니다."
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
        refs = {"portone_v1": customer_uid or None, "portone_v2": billing_key or None, "bootpay": receipt_id or None}
        given = [(provider, ref) for provider, ref in refs.items() if ref is not None]
        if len(given) != 1:
            raise DomainError(Code.BAD_USER_INPUT, "customerUid(V1), billingKey(V2), receiptId(부트페이) 중 하나만 보내 주세요.")
        (provider, ref), user_id = given[0], info.context.require_user_id()
        if provider == "portone_v1":
            card = await cards.register(user_id, str(ref))
        else:
            card = await cards.register_with(provider, user_id, str(ref))
        return PaymentCard.from_model(card)
