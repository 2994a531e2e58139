"""Questions about an item and their answers, in codecamp's shape (names and types are a contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema import loaders
from schema.context import Info
from schema.item_types import Useditem, load_item, load_user
from schema.types import User
from services import models
from services.errors import Code, DomainError
from services.questions import QUESTION_NOT_FOUND


@strawberry.type
class _Post:
    """What a question and an answer share: the text, its author, the times."""

    id: strawberry.ID = strawberry.field(name="_id")
    contents: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    user_id: strawberry.Private[str]

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await load_user(info, self.user_id)
        if user is None:  # users are never removed; a foreign key holds it
            raise DomainError(Code.NOT_FOUND, "사용자를 찾을 수 없습니다.")
        return user

    @staticmethod
    def _fields(m: models.UseditemQuestion | models.UseditemQuestionAnswer) -> dict[str, Any]:
        return {
            "id": strawberry.ID(m.id), "contents": m.contents, "created_at": m.created_at,
            "updated_at": m.updated_at, "deleted_at": m.deleted_at, "user_id": m.user_id,
        }


@strawberry.type(description="상품 문의")
class UseditemQuestion(_Post):
    useditem_id: strawberry.Private[str]

    @strawberry.field
    async def useditem(self, info: Info) -> Useditem:
        return await load_item(info, self.useditem_id)

    @classmethod
    def from_model(cls, q: models.UseditemQuestion) -> "UseditemQuestion":
        return cls(**cls._fields(q), useditem_id=q.useditem_id)


@strawberry.type(description="상품 문의에 단 답변")
class UseditemQuestionAnswer(_Post):
    question_id: strawberry.Private[str]

    @strawberry.field
    async def useditem_question(self, info: Info) -> UseditemQuestion:
        # Deleted questions too: the answer's question stays readable, as an item does for its entries.
        question = await loaders.questions(info).load(self.question_id)
        if question is None:
            raise DomainError(Code.NOT_FOUND, QUESTION_NOT_FOUND)
        return UseditemQuestion.from_model(question)

    @classmethod
    def from_model(cls, a: models.UseditemQuestionAnswer) -> "UseditemQuestionAnswer":
        return cls(**cls._fields(a), question_id=a.question_id)


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
