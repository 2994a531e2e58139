from __future__ import annotations

import strawberry

from schema.context import Info
from schema.item_types import UpdateUseditemInput, Useditem, item_service
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession


@strawberry.type
class UpdateUseditemMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신의 상품을 수정합니다 (판매된 뒤에는 수정할 수 없습니다). 보낸 항목만 바뀝니다.",
    )
    async def update_useditem(
        self, info: Info, useditem_id: strawberry.ID, update_useditem_input: UpdateUseditemInput
    ) -> Useditem:
        item = await item_service(info).update(
            info.context.require_user_id(), str(useditem_id), update_useditem_input.to_service()
        )
        return Useditem.from_model(item)
