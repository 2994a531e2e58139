from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession
from schema.loaders import question_service
from schema.question_types import CreateUseditemQuestionInput, UseditemQuestion


@strawberry.type
class CreateUseditemQuestionMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description="상품에 문의를 남깁니다 (내용 1~1,000자). 삭제된 상품은 NOT_FOUND.",
    )
    async def create_useditem_question(
        self, info: Info, create_useditem_question_input: CreateUseditemQuestionInput, useditem_id: strawberry.ID
    ) -> UseditemQuestion:
        question = await question_service(info).ask(
            info.context.require_user_id(), str(useditem_id), create_useditem_question_input.contents
        )
        return UseditemQuestion.from_model(question)
