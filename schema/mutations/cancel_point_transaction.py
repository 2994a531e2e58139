from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.point_types import PointTransaction


@strawberry.type
class CancelPointTransactionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="충전을 취소하고 PortOne에서 환불합니다. amount를 생략하면 남은 금액 전부를 취소합니다. 반환값은 취소 내역입니다.",
    )
    async def cancel_point_transaction(
        self, info: Info, imp_uid: strawberry.ID, amount: int | None = None, reason: str | None = None
    ) -> PointTransaction:
        entry = await info.context.services.cancels.cancel(
            info.context.require_user_id(), str(imp_uid), amount, reason
        )
        return PointTransaction.from_model(entry)
