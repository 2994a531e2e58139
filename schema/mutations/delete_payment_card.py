from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession


@strawberry.type
class DeletePaymentCardMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession],
        description="등록된 카드를 삭제합니다 (결제사의 빌링키를 먼저 삭제하고, 실패하면 카드는 그대로 남습니다). 삭제한 카드의 _id를 돌려줍니다.",
    )
    async def delete_payment_card(self, info: Info, payment_card_id: strawberry.ID) -> strawberry.ID:
        cards = info.context.services.cards
        assert cards is not None
        return strawberry.ID(await cards.delete(info.context.require_user_id(), str(payment_card_id)))
