from __future__ import annotations

from typing import Annotated

import strawberry
import structlog

from schema.context import Info
from schema.permissions import CancelRateLimit, IsAuthenticated, LiveSession
from schema.point_types import PointTransaction, PortOneVersion
from services import metrics
from services.gateways.refund_account import RefundAccount


@strawberry.input(description="가상계좌 환불을 받을 계좌 (입금된 가상계좌 충전을 취소할 때만 필요). 저장하지 않고 PortOne에만 전달합니다.")
class RefundAccountInput:
    bank: str = strawberry.field(description="PortOne 은행 코드 (예: 004 KB국민은행, 088 신한은행)")
    number: str = strawberry.field(description="계좌번호 (숫자, '-' 허용)")
    holder: str = strawberry.field(description="예금주")
    tel: str | None = strawberry.field(default=None, description="예금주 연락처 (일부 PG사에서 필요)")


@strawberry.type
class CancelPointTransactionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, CancelRateLimit],
        description="충전을 취소하고 PortOne에서 환불합니다. amount를 생략하면 남은 금액 전부를 취소합니다. 입금된 가상계좌는 refundAccount가 필요합니다. 반환값은 취소 내역입니다.",
    )
    async def cancel_point_transaction(
        self,
        info: Info,
        imp_uid: strawberry.ID,
        amount: int | None = None,
        reason: str | None = None,
        refund_account: RefundAccountInput | None = None,
        version: Annotated[
            PortOneVersion | None, strawberry.argument(description="같은 ID의 V1·V2 결제가 모두 있을 때만 필요")
        ] = None,
    ) -> PointTransaction:
        structlog.contextvars.bind_contextvars(imp_uid=str(imp_uid)[:100])
        user_id = info.context.require_user_id()
        try:
            account = (
                RefundAccount.parse(refund_account.bank, refund_account.number, refund_account.holder, refund_account.tel)
                if refund_account is not None
                else None
            )
            entry = await info.context.services.cancels.cancel(
                user_id,
                str(imp_uid),
                amount,
                reason,
                refund_account=account,
                provider=version.value if version is not None else None,
            )
        except Exception as exc:
            metrics.CANCELS.labels("error", metrics.error_code(exc)).inc()
            raise
        metrics.CANCELS.labels("succeeded", metrics.NONE).inc()
        return PointTransaction.from_model(entry)
