from __future__ import annotations

import strawberry

from schema.context import Info
from schema.item_types import item_service
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession


@strawberry.type
class DeleteUseditemMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신의 상품을 삭제합니다 (판매된 뒤에는 삭제할 수 없습니다). 삭제한 상품의 _id를 돌려줍니다.",
    )
    async def delete_useditem(self, info: Info, useditem_id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await item_service(info).delete(info.context.require_user_id(), str(useditem_id)))
