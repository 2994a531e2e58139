"""The per-request DataLoaders behind every nested read (``Context.loader``).

A field that reads a row per parent — an item's seller, buyer or address, a user's balance, a
ledger entry's item — goes through one of these, so a page of N parents costs one batched query
per kind of row instead of N sessions, however the document nests or aliases them (issue 23). One
function per loader name: the first resolver to ask for a name decides its batch function.
"""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from schema.context import Info
from services import models
from services.items import ItemService
from services.questions import QuestionService


def item_service(info: Info) -> ItemService:
    items = info.context.services.items
    assert items is not None, "api.app builds the item service"
    return items


def question_service(info: Info) -> QuestionService:
    questions = info.context.services.questions
    assert questions is not None, "api.app builds the question service"
    return questions


def users(info: Info) -> DataLoader[str, models.User | None]:
    return info.context.loader("users", info.context.services.auth.users)


def user_points(info: Info) -> DataLoader[str, models.UserPoint | None]:
    return info.context.loader("user_points", info.context.services.auth.user_points)


def items(info: Info) -> DataLoader[str, models.Useditem | None]:
    return info.context.loader("items", item_service(info).many)


def addresses(info: Info) -> DataLoader[str, models.UseditemAddress | None]:
    return info.context.loader("addresses", item_service(info).addresses)


def questions(info: Info) -> DataLoader[str, models.UseditemQuestion | None]:
    return info.context.loader("questions", question_service(info).many_questions)


def payments(info: Info) -> DataLoader[str, models.Payment | None]:
    return info.context.loader("payments", info.context.services.history.payments)
