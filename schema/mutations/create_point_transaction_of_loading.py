from __future__ import annotations

import strawberry
import structlog

from schema.context import Info
from schema.permissions import ChargeRateLimit, IsAuthenticated
from schema.point_types import PointTransaction
from services import metrics
from services.charging import Outcome
from services.errors import Code, DomainError


@strawberry.type
class CreatePointTransactionOfLoadingMutation:
    # No LiveSession: claim() checks the login in the statement of its duplicate pre-check (one
    # pooled connection and one round trip fewer per charge; tests/reliability/test_hardening.py).
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, ChargeRateLimit],
        description="결제를 PortOne에서 검증하고 포인트를 충전합니다. 같은 결제는 한 번만 충전됩니다.",
    )
    async def create_point_transaction_of_loading(
        self, info: Info, imp_uid: strawberry.ID | None = None, payment_id: strawberry.ID | None = None
    ) -> PointTransaction:
        if (imp_uid is None) == (payment_id is None):
            raise DomainError(Code.BAD_USER_INPUT, "impUid 또는 paymentId 중 하나만 보내 주세요.")
        provider = "portone_v1" if imp_uid is not None else "portone_v2"
        # Every log line from here on names the payment (client input: capped).
        structlog.contextvars.bind_contextvars(
            **({"imp_uid": str(imp_uid)[:100]} if imp_uid is not None else {"payment_id": str(payment_id)[:100]})
        )
        user_id = info.context.require_user_id()
        login = info.context.login_to_check()
        try:
            result = await info.context.services.charging.claim(
                user_id, str(imp_uid or payment_id), provider=provider, login=login
            )
        except Exception as exc:
            metrics.count_charge_error("mutation", exc)
            raise
        assert result.entry is not None
        # A retry returns the original entry (ALREADY_CREDITED): only a new credit adds points.
        credited = result.entry.amount if result.outcome is Outcome.CREDITED else 0
        metrics.count_charge("mutation", result.outcome.value, credited=credited)
        return PointTransaction.from_model(result.entry)
