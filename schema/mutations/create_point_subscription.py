from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import ChargeRateLimit, IsAuthenticated, LiveSession
from schema.subscription_types import PointSubscription


@strawberry.type
class CreatePointSubscriptionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ChargeRateLimit],
        description=(
            "등록 카드로 매달 포인트를 충전하는 정기 충전을 신청하고 첫 달을 바로 결제합니다. 이후 매달 같은 날(없는 날은 "
            "말일) 결제합니다. 거절되면 CARD_DECLINED이고 정기 충전은 만들어지지 않습니다. 이용 중인 정기 충전은 한 명에 "
            "하나: 같은 카드·금액으로 다시 보내면 같은 정기 충전을, 다르면 SUBSCRIPTION_EXISTS를 돌려줍니다."
        ),
    )
    async def create_point_subscription(
        self, info: Info, payment_card_id: strawberry.ID, amount: int
    ) -> PointSubscription:
        subscriptions = info.context.services.subscriptions
        assert subscriptions is not None
        view = await subscriptions.create(info.context.require_user_id(), str(payment_card_id), amount)
        return PointSubscription.of(view)
