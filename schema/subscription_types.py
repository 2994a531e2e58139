"""Monthly point subscriptions (정기 충전, issue 25)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.billing_types import PaymentCard
from services.billing.subscriptions import SubscriptionView


@strawberry.enum(description="정기 충전 상태")
class PointSubscriptionStatus(Enum):
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    SUSPENDED = "SUSPENDED"
    CANCELLED = "CANCELLED"


@strawberry.type(description="매달 같은 날 등록 카드로 포인트를 충전하는 정기 충전")
class PointSubscription:
    id: strawberry.ID = strawberry.field(name="_id")
    amount: int = strawberry.field(description="매달 충전 금액 (원)")
    status: PointSubscriptionStatus = strawberry.field(
        description="ACTIVE 이용 중, PAST_DUE 결제 거절 후 재시도 대기(1일, 3일 뒤), SUSPENDED 재시도까지 거절되어 정지, CANCELLED 해지"
    )
    payment_card: PaymentCard | None = strawberry.field(description="결제 카드 (카드를 삭제하면 null)")
    billing_day: int = strawberry.field(description="결제일 (첫 결제일, 한국 시간). 그날이 없는 달은 말일에 결제합니다")
    next_charge_at: datetime | None = strawberry.field(description="다음 결제 시각 (SUSPENDED, CANCELLED면 null)")
    last_charged_at: datetime | None
    last_failure_reason: str | None = strawberry.field(description="최근 거절된 결제의 카드사 사유 (예: 한도초과)")
    created_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def of(cls, view: SubscriptionView) -> "PointSubscription":
        s = view.subscription
        # CREATING (the first month being charged) is shown as what it becomes when paid.
        status = PointSubscriptionStatus.ACTIVE if s.status == "CREATING" else PointSubscriptionStatus(s.status)
        return cls(
            id=strawberry.ID(s.id), amount=s.amount, status=status,
            payment_card=PaymentCard.from_model(view.card) if view.card is not None else None,
            billing_day=s.billing_day, next_charge_at=s.next_charge_at, last_charged_at=s.last_charged_at,
            last_failure_reason=s.last_failure_reason, created_at=s.created_at, cancelled_at=s.cancelled_at,
        )
