from __future__ import annotations

from typing import Annotated

import strawberry
import structlog

from schema.context import Info
from schema.permissions import CancelRateLimit, IsAuthenticated, LiveSession
from schema.point_types import PointTransaction, PortOneVersion
from services import metrics
from services.errors import Code, DomainError
from services.gateways.refund_account import RefundAccount


@strawberry.input(description="가상계좌 환불을 받을 계좌 (입금된 가상계좌 충전을 취소할 때만 필요). 저장하지 않고 결제 대행사(PortOne, 부트페이)에만 전달합니다.")
class RefundAccountInput:
    bank: str = strawberry.field(description="PortOne 은행 코드 (예: 004 KB국민은행, 088 신한은행)")
    number: str = strawberry.field(description="계좌번호 (숫자, '-' 허용)")
    holder: str = strawberry.field(description="예금주")
    tel: str | None = strawberry.field(default=None, description="예금주 연락처 (일부 PG사에서 필요)")


@strawberry.type
class CancelPointTransactionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, CancelRateLimit],
        description="충전을 취소하고 결제 대행사(PortOne, 부트페이)에서 환불합니다. amount를 생략하면 남은 금액 전부를 취소합니다. 입금된 가상계좌는 refundAccount가 필요합니다. 반환값은 취소 내역입니다.",
    )
    async def cancel_point_transaction(
        self,
        info: Info,
        imp_uid: Annotated[
            strawberry.ID | None, strawberry.argument(description="충전 내역의 impUid (PortOne; 부트페이는 receiptId)")
        ] = None,
        receipt_id: Annotated[strawberry.ID | None, strawberry.argument(description="부트페이 receipt_id")] = None,
        amount: int | None = None,
        reason: str | None = None,
        refund_account: RefundAccountInput | None = None,
        version: Annotated[
            PortOneVersion | None, strawberry.argument(description="같은 ID의 V1·V2 결제가 모두 있을 때만 필요")
        ] = None,
    ) -> PointTransaction:
        key = str(imp_uid if imp_uid is not None else receipt_id)
        provider = "bootpay" if receipt_id is not None else (version.value if version is not None else None)
        structlog.contextvars.bind_contextvars(**{"imp_uid" if imp_uid is not None else "receipt_id": key[:100]})
        user_id = info.context.require_user_id()
        try:
            if (imp_uid is None) == (receipt_id is None):
                raise DomainError(Code.BAD_USER_INPUT, "impUid 또는 receiptId 중 하나만 보내 주세요.")
            account = (
                RefundAccount.parse(refund_account.bank, refund_account.number, refund_account.holder, refund_account.tel)
                if refund_account is not None
                else None
            )
            entry = await info.context.services.cancels.cancel(
                user_id,
                key,
                amount,
                reason,
                refund_account=account,
                provider=provider,
            )
        except Exception as exc:
            metrics.CANCELS.labels("error", metrics.error_code(exc)).inc()
            raise
        metrics.CANCELS.labels("succeeded", metrics.NONE).inc()
        return PointTransaction.from_model(entry)
