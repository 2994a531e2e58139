from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service
from schema.question_types import CreateUseditemQuestionAnswerInput, UseditemQuestionAnswer


@strawberry.type
class CreateUseditemQuestionAnswerMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="문의에 답변합니다 (내용 1~1,000자). 삭제된 문의는 NOT_FOUND.",
    )
    async def create_useditem_question_answer(
        self,
        info: Info,
        create_useditem_question_answer_input: CreateUseditemQuestionAnswerInput,
        useditem_question_id: strawberry.ID,
    ) -> UseditemQuestionAnswer:
        answer = await question_service(info).answer(
            info.context.require_user_id(), str(useditem_question_id), create_useditem_question_answer_input.contents
        )
        return UseditemQuestionAnswer.from_model(answer)
