from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service
from schema.question_types import UpdateUseditemQuestionAnswerInput, UseditemQuestionAnswer


@strawberry.type
class UpdateUseditemQuestionAnswerMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="자신이 단 답변을 수정합니다.",
    )
    async def update_useditem_question_answer(
        self,
        info: Info,
        update_useditem_question_answer_input: UpdateUseditemQuestionAnswerInput,
        useditem_question_answer_id: strawberry.ID,
    ) -> UseditemQuestionAnswer:
        i = update_useditem_question_answer_input
        answer = await question_service(info).update_answer(
            info.context.require_user_id(), str(useditem_question_answer_id), i.contents
        )
        return UseditemQuestionAnswer.from_model(answer)
