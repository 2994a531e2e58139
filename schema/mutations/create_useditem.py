from __future__ import annotations

import strawberry

from schema.context import Info
from schema.item_types import CreateUseditemInput, Useditem, item_service
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession


@strawberry.type
class CreateUseditemMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="판매할 상품을 등록합니다. 가격(price)은 1원 이상, 설정된 최대 금액 이하입니다.",
    )
    async def create_useditem(self, info: Info, create_useditem_input: CreateUseditemInput) -> Useditem:
        item = await item_service(info).create(info.context.require_user_id(), create_useditem_input.to_service())
        return Useditem.from_model(item)
