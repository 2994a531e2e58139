from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service
from schema.question_types import UpdateUseditemQuestionInput, UseditemQuestion


@strawberry.type
class UpdateUseditemQuestionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신이 남긴 문의를 수정합니다.",
    )
    async def update_useditem_question(
        self,
        info: Info,
        update_useditem_question_input: UpdateUseditemQuestionInput,
        useditem_question_id: strawberry.ID,
    ) -> UseditemQuestion:
        question = await question_service(info).update_question(
            info.context.require_user_id(), str(useditem_question_id), update_useditem_question_input.contents
        )
        return UseditemQuestion.from_model(question)
