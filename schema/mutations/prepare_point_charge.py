from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession, PrepareRateLimit
from schema.point_types import PaymentGateway, PointChargeOrder, PortOneVersion


@strawberry.type
class PreparePointChargeMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, PrepareRateLimit],
        description=(
            "충전 주문을 만듭니다. PortOne은 금액을 사전 등록하고 V1은 merchantUid로 IMP.request_pay를, "
            "V2는 paymentId·storeId·channelKey로 PortOne.requestPayment를 호출하세요. "
            "부트페이(gateway: BOOTPAY)는 merchantUid를 order_id로 Bootpay.requestPayment를 호출하세요."
        ),
    )
    async def prepare_point_charge(
        self,
        info: Info,
        amount: int,
        version: Annotated[
            PortOneVersion, strawberry.argument(description="PortOne API 버전 (부트페이면 무시)")
        ] = PortOneVersion.V1,
        gateway: PaymentGateway = PaymentGateway.PORTONE,
    ) -> PointChargeOrder:
        services = info.context.services
        provider = version.value if gateway is PaymentGateway.PORTONE else gateway.value
        order = await services.charging.prepare(info.context.require_user_id(), amount, provider=provider)
        client = services.portone_client
        return PointChargeOrder.from_model(order, store_id=client.store_id, channel_key=client.channel_key)
