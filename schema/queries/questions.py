from __future__ import annotations

import strawberry

from schema.context import Info
from schema.loaders import question_service
from schema.question_types import UseditemQuestion, UseditemQuestionAnswer


@strawberry.type
class QuestionQueries:
    @strawberry.field(description="상품의 문의 (10개씩, 최신순; 삭제된 상품은 NOT_FOUND)")
    async def fetch_useditem_questions(
        self, info: Info, useditem_id: strawberry.ID, page: int | None = None
    ) -> list[UseditemQuestion]:
        rows = await question_service(info).questions(str(useditem_id), page=page)
        return [UseditemQuestion.from_model(q) for q in rows]

    @strawberry.field(description="문의의 답변 (10개씩, 최신순; 삭제된 문의는 NOT_FOUND)")
    async def fetch_useditem_question_answers(
        self, info: Info, useditem_question_id: strawberry.ID, page: int | None = None
    ) -> list[UseditemQuestionAnswer]:
        rows = await question_service(info).answers(str(useditem_question_id), page=page)
        return [UseditemQuestionAnswer.from_model(a) for a in rows]
