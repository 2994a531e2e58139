from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.point_types import PointChargeOrder


@strawberry.type
class PreparePointChargeMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="충전 주문을 만들고 금액을 PortOne에 사전 등록합니다. 반환된 merchantUid로 IMP.request_pay를 호출하세요.",
    )
    async def prepare_point_charge(self, info: Info, amount: int) -> PointChargeOrder:
        order = await info.context.services.charging.prepare(info.context.require_user_id(), amount)
        return PointChargeOrder.from_model(order)
