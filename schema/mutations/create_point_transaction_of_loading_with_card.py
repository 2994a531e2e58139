from __future__ import annotations

import strawberry
import structlog

from schema.context import Info
from schema.permissions import ChargeRateLimit, IsAuthenticated, LiveSession
from schema.point_types import PointTransaction
from services import metrics
from services.billing.card_charge import SOURCE


@strawberry.type
class CreatePointTransactionOfLoadingWithCardMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ChargeRateLimit],
        description=(
            "등록된 카드로 충전 주문(preparePointCharge의 merchantUid)을 결제하고 포인트를 충전합니다. 주문 하나는 "
            "한 번만 결제·충전됩니다 (두 번 눌러도, 다시 보내도). 카드가 거절되면 CARD_DECLINED이고 같은 주문으로 "
            "다시 시도할 수 있습니다."
        ),
    )
    async def create_point_transaction_of_loading_with_card(
        self, info: Info, payment_card_id: strawberry.ID, merchant_uid: str
    ) -> PointTransaction:
        charges = info.context.services.card_charges
        assert charges is not None
        structlog.contextvars.bind_contextvars(merchant_uid=merchant_uid[:100])
        try:
            entry, credited_now = await charges.charge(
                info.context.require_user_id(), str(payment_card_id), merchant_uid
            )
        except Exception as exc:
            metrics.count_charge_error(SOURCE, exc)
            raise
        metrics.count_charge(SOURCE, "credited" if credited_now else "already_credited",
                             credited=entry.amount if credited_now else 0)
        return PointTransaction.from_model(entry)  # its gateway is loaded from its payment
