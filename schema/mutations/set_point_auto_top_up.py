from __future__ import annotations

import strawberry

from schema.auto_top_up_types import PointAutoTopUp
from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession


@strawberry.type
class SetPointAutoTopUpMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession],
        description=(
            "자동 충전을 설정합니다: 구매 후 잔액이 threshold 미만이면 등록 카드로 amount(충전 금액 규칙을 따름)를 "
            "충전하고, 한 달 monthlyLimit(≥ amount)을 넘지 않습니다. paymentCardId를 생략하면 지금 카드를 그대로 "
            "씁니다. 서버에서 꺼져 있으면 AUTO_TOPUP_UNAVAILABLE입니다."
        ),
    )
    async def set_point_auto_top_up(
        self, info: Info, payment_card_id: strawberry.ID | None, threshold: int, amount: int, monthly_limit: int,
        enabled: bool,
    ) -> PointAutoTopUp:
        topups = info.context.services.auto_topups
        assert topups is not None
        view = await topups.set(
            info.context.require_user_id(), card_id=str(payment_card_id) if payment_card_id is not None else None,
            threshold=threshold, amount=amount, monthly_limit=monthly_limit, enabled=enabled,
        )
        return PointAutoTopUp.of(view)
