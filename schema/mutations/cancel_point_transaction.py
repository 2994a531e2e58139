from __future__ import annotations

import strawberry
import structlog

from schema.context import Info
from schema.permissions import CancelRateLimit, IsAuthenticated, LiveSession
from schema.point_types import PointTransaction
from services import metrics


@strawberry.type
class CancelPointTransactionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, CancelRateLimit],
        description="충전을 취소하고 PortOne에서 환불합니다. amount를 생략하면 남은 금액 전부를 취소합니다. 반환값은 취소 내역입니다.",
    )
    async def cancel_point_transaction(
        self, info: Info, imp_uid: strawberry.ID, amount: int | None = None, reason: str | None = None
    ) -> PointTransaction:
        structlog.contextvars.bind_contextvars(imp_uid=str(imp_uid)[:100])
        user_id = info.context.require_user_id()
        try:
            entry = await info.context.services.cancels.cancel(user_id, str(imp_uid), amount, reason)
        except Exception as exc:
            metrics.CANCELS.labels("error", metrics.error_code(exc)).inc()
            raise
        metrics.CANCELS.labels("succeeded", metrics.NONE).inc()
        return PointTransaction.from_model(entry)
