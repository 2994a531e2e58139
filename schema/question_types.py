"""Questions about an item and their answers, in codecamp's shape (names and types are a contract)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.context import Info
from schema.item_types import Useditem, load_item, load_user
from schema.types import User
from services import models
from services.errors import Code, DomainError
from services.questions import QUESTION_NOT_FOUND, QuestionService


def question_service(info: Info) -> QuestionService:
    questions = info.context.services.questions
    assert questions is not None, "api.app builds the question service"
    return questions


async def _author(info: Info, user_id: str) -> User:
    user = await load_user(info, user_id)
    if user is None:  # users are never removed; a foreign key holds it
        raise DomainError(Code.NOT_FOUND, "사용자를 찾을 수 없습니다.")
    return user


@strawberry.type(description="상품 문의")
class UseditemQuestion:
    id: strawberry.ID = strawberry.field(name="_id")
    contents: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    useditem_id: strawberry.Private[str]
    user_id: strawberry.Private[str]

    @strawberry.field
    async def useditem(self, info: Info) -> Useditem:
        return await load_item(info, self.useditem_id)

    @strawberry.field
    async def user(self, info: Info) -> User:
        return await _author(info, self.user_id)

    @classmethod
    def from_model(cls, q: models.UseditemQuestion) -> "UseditemQuestion":
        return cls(
            id=strawberry.ID(q.id), contents=q.contents, created_at=q.created_at, updated_at=q.updated_at,
            deleted_at=q.deleted_at, useditem_id=q.useditem_id, user_id=q.user_id,
        )


@strawberry.type(description="상품 문의에 단 답변")
class UseditemQuestionAnswer:
    id: strawberry.ID = strawberry.field(name="_id")
    contents: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    question_id: strawberry.Private[str]
    user_id: strawberry.Private[str]

    @strawberry.field
    async def useditem_question(self, info: Info) -> UseditemQuestion:
        # Deleted questions too: the answer's question stays readable, as an item does for its entries.
        question = await info.context.loader("questions", question_service(info).many_questions).load(self.question_id)
        if question is None:
            raise DomainError(Code.NOT_FOUND, QUESTION_NOT_FOUND)
        return UseditemQuestion.from_model(question)

    @strawberry.field
    async def user(self, info: Info) -> User:
        return await _author(info, self.user_id)

    @classmethod
    def from_model(cls, a: models.UseditemQuestionAnswer) -> "UseditemQuestionAnswer":
        return cls(
            id=strawberry.ID(a.id), contents=a.contents, created_at=a.created_at, updated_at=a.updated_at,
            deleted_at=a.deleted_at, question_id=a.question_id, user_id=a.user_id,
        )


@strawberry.input
class CreateUseditemQuestionInput:
    contents: str


@strawberry.input
class UpdateUseditemQuestionInput:
    contents: str


@strawberry.input
class CreateUseditemQuestionAnswerInput:
    contents: str


@strawberry.input
class UpdateUseditemQuestionAnswerInput:
    contents: str
