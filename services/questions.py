"""Questions about an item and their answers (codecamp's UseditemQuestion / …Answer).

Any logged-in user may ask about an item and answer a question (as the codecamp API allows; the
seller is who usually answers); only the author edits or deletes, and a delete is soft
(``deleted_at``). What hangs from something deleted is gone with it: no questions are asked,
listed, answered or changed on a deleted item, nor answers on a deleted question (NOT_FOUND).
The writes are conditional on the row still being there, so a delete racing an edit leaves the
row deleted and the edit answered NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from services.db import Database
from services.errors import Code, DomainError
from services.inputs import PAGE_SIZE, id_or_not_found, page_offset, text_field
from services.items import ITEM_NOT_FOUND, item_id_or_not_found
from services.models import Useditem, UseditemQuestion, UseditemQuestionAnswer, utcnow

MAX_CONTENTS = 1_000
QUESTION_NOT_FOUND = "문의를 찾을 수 없습니다."
ANSWER_NOT_FOUND = "답변을 찾을 수 없습니다."

_Row = TypeVar("_Row", UseditemQuestion, UseditemQuestionAnswer)


def _contents(value: str, field_name: str) -> str:
    return text_field(value, field_name, "내용", MAX_CONTENTS, required=True, multiline=True)


def _live_question(question_id: str) -> Select:
    return (
        select(UseditemQuestion)
        .join(Useditem, Useditem.id == UseditemQuestion.useditem_id)
        .where(
            UseditemQuestion.id == id_or_not_found(question_id, QUESTION_NOT_FOUND),
            UseditemQuestion.deleted_at.is_(None),
            Useditem.deleted_at.is_(None),
        )
    )


def _live_answer(answer_id: str) -> Select:
    return (
        select(UseditemQuestionAnswer)
        .join(UseditemQuestion, UseditemQuestion.id == UseditemQuestionAnswer.question_id)
        .join(Useditem, Useditem.id == UseditemQuestion.useditem_id)
        .where(
            UseditemQuestionAnswer.id == id_or_not_found(answer_id, ANSWER_NOT_FOUND),
            UseditemQuestionAnswer.deleted_at.is_(None),
            UseditemQuestion.deleted_at.is_(None),
            Useditem.deleted_at.is_(None),
        )
    )


async def _live_item(s: AsyncSession, item_id: str) -> str | None:
    query = select(Useditem.id).where(Useditem.id == item_id, Useditem.deleted_at.is_(None))
    return (await s.execute(query)).scalar_one_or_none()


async def _one(s: AsyncSession, query: Select, message: str) -> Any:
    row = (await s.execute(query)).scalar_one_or_none()
    if row is None:
        raise DomainError(Code.NOT_FOUND, message)
    return row


async def _page(s: AsyncSession, model: type[_Row], query: Select, page: int | None) -> list[_Row]:
    """Page ``page`` of ``query``'s undeleted ``model`` rows, newest first."""
    query = (
        query.where(model.deleted_at.is_(None))
        .order_by(model.created_at.desc(), model.id.desc())
        .offset(page_offset(page))
        .limit(PAGE_SIZE)
    )
    return list((await s.execute(query)).scalars())


class QuestionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- writes ----------------------------------------------------------------------------

    async def ask(self, user_id: str, item_id: str, contents: str) -> UseditemQuestion:
        contents = _contents(contents, "contents")
        item_id = item_id_or_not_found(item_id)
        async with self.db.transaction() as s:
            if await _live_item(s, item_id) is None:
                raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
            question = UseditemQuestion(useditem_id=item_id, user_id=user_id, contents=contents)
            s.add(question)
        return question

    async def answer(self, user_id: str, question_id: str, contents: str) -> UseditemQuestionAnswer:
        contents = _contents(contents, "contents")
        async with self.db.transaction() as s:
            question = await _one(s, _live_question(question_id), QUESTION_NOT_FOUND)
            answer = UseditemQuestionAnswer(question_id=question.id, user_id=user_id, contents=contents)
            s.add(answer)
        return answer

    async def update_question(self, user_id: str, question_id: str, contents: str) -> UseditemQuestion:
        live = _live_question(question_id)
        return await self._change(UseditemQuestion, live, QUESTION_NOT_FOUND, user_id, contents)

    async def update_answer(self, user_id: str, answer_id: str, contents: str) -> UseditemQuestionAnswer:
        live = _live_answer(answer_id)
        return await self._change(UseditemQuestionAnswer, live, ANSWER_NOT_FOUND, user_id, contents)

    async def delete_question(self, user_id: str, question_id: str) -> str:
        live = _live_question(question_id)
        return (await self._change(UseditemQuestion, live, QUESTION_NOT_FOUND, user_id)).id

    async def delete_answer(self, user_id: str, answer_id: str) -> str:
        live = _live_answer(answer_id)
        return (await self._change(UseditemQuestionAnswer, live, ANSWER_NOT_FOUND, user_id)).id

    async def _change(
        self, model: type[_Row], live: Select, message: str, user_id: str, contents: str | None = None
    ) -> _Row:
        """The author's edit (``contents``) or soft delete (``contents`` None) of a live row."""
        values: dict[str, object] = {"updated_at": utcnow()}
        if contents is not None:
            values["contents"] = _contents(contents, "contents")
        else:
            values["deleted_at"] = values["updated_at"]
        async with self.db.transaction() as s:
            row: _Row = await _one(s, live, message)  # ``live`` selects a ``model`` row
            if row.user_id != user_id:
                verb = "수정" if contents is not None else "삭제"
                raise DomainError(Code.FORBIDDEN, f"자신이 작성한 글만 {verb}할 수 있습니다.")
            # Conditional on not deleted meanwhile: SQLite has no row locks to hold it still.
            done = await s.execute(
                update(model).where(model.id == row.id, model.deleted_at.is_(None)).values(**values)
            )
            if done.rowcount != 1:
                raise DomainError(Code.NOT_FOUND, message)
            for name, value in values.items():
                setattr(row, name, value)
        return row

    # --- reads -----------------------------------------------------------------------------

    async def questions(self, item_id: str, *, page: int | None = 1) -> list[UseditemQuestion]:
        """A live item's questions, 10 a page, newest first. One statement; a second only for an
        empty page, to tell a deleted item (NOT_FOUND) from one without questions."""
        item_id = item_id_or_not_found(item_id)
        query = (
            select(UseditemQuestion)
            .join(Useditem, Useditem.id == UseditemQuestion.useditem_id)
            .where(UseditemQuestion.useditem_id == item_id, Useditem.deleted_at.is_(None))
        )
        async with self.db.session() as s:
            rows = await _page(s, UseditemQuestion, query, page)
            if not rows and await _live_item(s, item_id) is None:
                raise DomainError(Code.NOT_FOUND, ITEM_NOT_FOUND)
        return rows

    async def answers(self, question_id: str, *, page: int | None = 1) -> list[UseditemQuestionAnswer]:
        """A live question's answers, 10 a page, newest first (one statement, two for an empty page)."""
        live = _live_question(question_id)
        of_live = UseditemQuestionAnswer.question_id.in_(live.with_only_columns(UseditemQuestion.id).scalar_subquery())
        async with self.db.session() as s:
            rows = await _page(s, UseditemQuestionAnswer, select(UseditemQuestionAnswer).where(of_live), page)
            if not rows:
                await _one(s, live, QUESTION_NOT_FOUND)
        return rows

    async def many_questions(self, question_ids: Sequence[str]) -> list[UseditemQuestion | None]:
        """The questions of a page of answers, deleted ones included, in one query (a DataLoader's batch)."""
        return await self.db.rows_by(UseditemQuestion.id, question_ids)


__all__ = ["MAX_CONTENTS", "QuestionService"]
