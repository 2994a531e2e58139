from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema import loaders
from schema.context import Info
from services import models
from services.errors import Code, DomainError


@strawberry.type
class Token:
    access_token: str


def mask_email(email: str) -> str:
    """``hong@example.com`` → ``ho***@example.com``: still an address (codecamp frontends check the
    shape), never the one. At most two characters of the local part stay, and never all of it."""
    local, at, domain = email.rpartition("@")
    if not at:
        local, domain = email, "invalid"
    return f"{local[:min(2, len(local) - 1)]}***@{domain}"


def _is_callers(user: "User", info: Info) -> bool:
    return user.shown_to_owner or info.context.user_id == user.id


def _email(root: "User", info: Info) -> str:
    return root.real_email if _is_callers(root, info) else mask_email(root.real_email)


@strawberry.type
class UserPoint:
    id: strawberry.ID = strawberry.field(name="_id")
    amount: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    user_id: strawberry.Private[str]

    @strawberry.field
    async def user(self, info: Info) -> Annotated["User", strawberry.lazy("schema.types")]:
        user = await loaders.users(info).load(self.user_id)
        if user is None:
            raise DomainError(Code.NOT_FOUND, "사용자를 찾을 수 없습니다.")
        return User.from_model(user)

    @classmethod
    def from_model(cls, p: models.UserPoint) -> "UserPoint":
        return cls(
            id=strawberry.ID(p.id),
            amount=p.amount,
            created_at=p.created_at,
            updated_at=p.updated_at,
            deleted_at=p.deleted_at,
            user_id=p.user_id,
        )


@strawberry.type(
    description="사용자. 로그인한 본인이 아니면 email은 가려지고(ho***@example.com) userPoint는 null입니다."
)
class User:
    """Whoever reaches a User — an item's seller or buyer, a question's author, any path added
    later — sees someone else's e-mail masked and no balance: the rule lives in the type's own
    fields, not in the queries (tests/schema/test_user_privacy.py walks every path to it)."""

    id: strawberry.ID = strawberry.field(name="_id")
    email: str = strawberry.field(resolver=_email)
    name: str
    picture: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    real_email: strawberry.Private[str]
    # The answer to createUser: its caller is the new user, though not logged in yet.
    shown_to_owner: strawberry.Private[bool] = False

    @strawberry.field
    async def user_point(self, info: Info) -> UserPoint | None:
        if not _is_callers(self, info):
            return None
        point = await loaders.user_points(info).load(str(self.id))
        return UserPoint.from_model(point) if point else None

    @classmethod
    def from_model(cls, u: models.User, *, shown_to_owner: bool = False) -> "User":
        return cls(
            id=strawberry.ID(u.id),
            name=u.name,
            picture=u.picture,
            created_at=u.created_at,
            updated_at=u.updated_at,
            deleted_at=u.deleted_at,
            real_email=u.email,
            shown_to_owner=shown_to_owner,
        )


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    name: str


@strawberry.input
class UpdateUserInput:
    name: str | None = None
    picture: str | None = None
