from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession
from schema.subscription_types import PointSubscription


@strawberry.type
class CancelPointSubscriptionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession],
        description="정기 충전을 해지합니다 (이후 결제 없음). 이미 해지한 것은 그대로 돌려줍니다.",
    )
    async def cancel_point_subscription(self, info: Info, point_subscription_id: strawberry.ID) -> PointSubscription:
        subscriptions = info.context.services.subscriptions
        assert subscriptions is not None
        view = await subscriptions.cancel(info.context.require_user_id(), str(point_subscription_id))
        return PointSubscription.of(view)
