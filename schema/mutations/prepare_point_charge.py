from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession, PrepareRateLimit
from schema.point_types import PointChargeOrder, PortOneVersion


@strawberry.type
class PreparePointChargeMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, PrepareRateLimit],
        description="충전 주문을 만들고 금액을 PortOne에 사전 등록합니다. V1은 merchantUid로 IMP.request_pay를, V2는 paymentId·storeId·channelKey로 PortOne.requestPayment를 호출하세요.",
    )
    async def prepare_point_charge(
        self, info: Info, amount: int, version: PortOneVersion = PortOneVersion.V1
    ) -> PointChargeOrder:
        services = info.context.services
        order = await services.charging.prepare(
            info.context.require_user_id(), amount, provider=version.value
        )
        client = services.portone_client
        return PointChargeOrder.from_model(order, store_id=client.store_id, channel_key=client.channel_key)
