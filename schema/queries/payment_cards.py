from __future__ import annotations

import strawberry

from schema.billing_types import PaymentCard
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class PaymentCardQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="내 등록 카드 (최근 등록순)")
    async def fetch_payment_cards(self, info: Info) -> list[PaymentCard]:
        cards = info.context.services.cards
        assert cards is not None
        return [PaymentCard.from_model(c) for c in await cards.list(info.context.require_user_id())]
