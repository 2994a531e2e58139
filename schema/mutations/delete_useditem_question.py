from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service


@strawberry.type
class DeleteUseditemQuestionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신이 남긴 문의를 삭제하고 그 _id를 돌려줍니다.",
    )
    async def delete_useditem_question(self, info: Info, useditem_question_id: strawberry.ID) -> strawberry.ID:
        user_id = info.context.require_user_id()
        return strawberry.ID(await question_service(info).delete_question(user_id, str(useditem_question_id)))
