"""Auto top-up (issue 25): the settings as the caller sees them."""

from __future__ import annotations

import strawberry

from schema.billing_types import PaymentCard
from services.billing.auto_topup import AutoTopUpView


@strawberry.type(
    description=(
        "자동 충전: 구매 후 잔액이 threshold 미만이면 paymentCard로 amount를 충전합니다 (한 달 monthlyLimit까지, "
        "한국 시간 기준). 서버에서 켜져 있을 때만 동작합니다 (fetchPointChargeConfig.autoTopUpAvailable)."
    )
)
class PointAutoTopUp:
    enabled: bool
    payment_card: PaymentCard | None = strawberry.field(description="자동 충전 카드 (삭제되었으면 null)")
    threshold: int = strawberry.field(description="이 금액 미만으로 잔액이 내려가면 충전합니다")
    amount: int = strawberry.field(description="한 번에 충전할 금액")
    monthly_limit: int = strawberry.field(description="한 달 자동 충전 한도")
    charged_this_month: int = strawberry.field(description="이번 달 자동 충전 금액 (진행 중인 것 포함)")
    last_failure_reason: str | None = strawberry.field(
        description="마지막 자동 충전이 거절·실패한 이유 (예: 한도초과); 성공하거나 설정을 바꾸면 지워집니다"
    )

    @classmethod
    def of(cls, v: AutoTopUpView) -> "PointAutoTopUp":
        return cls(
            enabled=v.enabled, payment_card=PaymentCard.from_model(v.card) if v.card is not None else None,
            threshold=v.threshold, amount=v.amount, monthly_limit=v.monthly_limit,
            charged_this_month=v.charged_this_month, last_failure_reason=v.last_failure_reason,
        )
