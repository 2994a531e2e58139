from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service


@strawberry.type
class DeleteUseditemQuestionAnswerMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신이 단 답변을 삭제하고 그 _id를 문자열로 돌려줍니다.",
    )
    async def delete_useditem_question_answer(self, info: Info, useditem_question_answer_id: strawberry.ID) -> str:
        user_id = info.context.require_user_id()
        return await question_service(info).delete_answer(user_id, str(useditem_question_answer_id))
