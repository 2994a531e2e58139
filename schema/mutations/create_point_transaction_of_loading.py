from __future__ import annotations

from typing import Annotated

import strawberry
import structlog

from schema.context import Info
from schema.permissions import ChargeRateLimit, IsAuthenticated
from schema.point_types import PointTransaction
from services import metrics
from services.charging import Outcome
from services.errors import Code, DomainError


# Which argument names which gateway's payment id.
PROVIDERS = {"imp_uid": "portone_v1", "payment_id": "portone_v2", "receipt_id": "bootpay"}


@strawberry.type
class CreatePointTransactionOfLoadingMutation:
    # No LiveSession: claim() checks the login in the statement of its duplicate pre-check (one
    # pooled connection and one round trip fewer per charge; tests/reliability/test_hardening.py).
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, ChargeRateLimit],
        description="결제를 결제 대행사(PortOne: impUid·paymentId, 부트페이: receiptId)에서 검증하고 포인트를 충전합니다. 부트페이 승인 대기(separately_confirmed) 결제는 금액·주문자를 확인한 뒤 승인합니다. 같은 결제는 한 번만 충전됩니다.",
    )
    async def create_point_transaction_of_loading(
        self,
        info: Info,
        imp_uid: strawberry.ID | None = None,
        payment_id: strawberry.ID | None = None,
        receipt_id: Annotated[strawberry.ID | None, strawberry.argument(description="부트페이 receipt_id")] = None,
    ) -> PointTransaction:
        given = [(k, v) for k, v in (("imp_uid", imp_uid), ("payment_id", payment_id), ("receipt_id", receipt_id)) if v is not None]
        if len(given) != 1:
            raise DomainError(Code.BAD_USER_INPUT, "impUid, paymentId, receiptId 중 하나만 보내 주세요.")
        name, key = given[0]
        provider = PROVIDERS[name]
        # Every log line from here on names the payment (client input: capped).
        structlog.contextvars.bind_contextvars(**{name: str(key)[:100]})
        user_id = info.context.require_user_id()
        login = info.context.login_to_check()
        try:
            result = await info.context.services.charging.claim(
                user_id, str(key), provider=provider, login=login
            )
        except Exception as exc:
            metrics.count_charge_error("mutation", exc)
            raise
        assert result.entry is not None
        # A retry returns the original entry (ALREADY_CREDITED): only a new credit adds points.
        credited = result.entry.amount if result.outcome is Outcome.CREDITED else 0
        metrics.count_charge("mutation", result.outcome.value, credited=credited)
        return PointTransaction.from_model(result.entry, provider=provider)
