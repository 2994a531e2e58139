from __future__ import annotations

import strawberry

from schema.context import Info
from schema.item_types import item_service
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession


@strawberry.type
class ToggleUseditemPickMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="상품 찜하기/찜 취소. 상품의 새 찜 수를 돌려줍니다.",
    )
    async def toggle_useditem_pick(self, info: Info, useditem_id: strawberry.ID) -> int:
        return await item_service(info).toggle_pick(info.context.require_user_id(), str(useditem_id))
