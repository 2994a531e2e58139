from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.point_types import PointTransaction
from services.errors import Code, DomainError


@strawberry.type
class CreatePointTransactionOfLoadingMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="결제를 PortOne에서 검증하고 포인트를 충전합니다. 같은 결제는 한 번만 충전됩니다.",
    )
    async def create_point_transaction_of_loading(
        self, info: Info, imp_uid: strawberry.ID | None = None, payment_id: strawberry.ID | None = None
    ) -> PointTransaction:
        if (imp_uid is None) == (payment_id is None):
            raise DomainError(Code.BAD_USER_INPUT, "impUid 또는 paymentId 중 하나만 보내 주세요.")
        provider = "portone_v1" if imp_uid is not None else "portone_v2"
        result = await info.context.services.charging.claim(
            info.context.require_user_id(), str(imp_uid or payment_id), provider=provider
        )
        assert result.entry is not None
        return PointTransaction.from_model(result.entry)
