from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.subscription_types import PointSubscription


@strawberry.type
class PointSubscriptionQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="내 정기 충전 (최근 신청순)")
    async def fetch_point_subscriptions(self, info: Info) -> list[PointSubscription]:
        subscriptions = info.context.services.subscriptions
        assert subscriptions is not None
        return [PointSubscription.of(v) for v in await subscriptions.list(info.context.require_user_id())]
