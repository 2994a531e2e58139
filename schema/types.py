from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.context import Info
from services import models


@strawberry.type
class Token:
    access_token: str


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
        return User.from_model(await info.context.services.auth.get_user(self.user_id))

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


@strawberry.type
class User:
    id: strawberry.ID = strawberry.field(name="_id")
    email: str
    name: str
    picture: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @strawberry.field
    async def user_point(self, info: Info) -> UserPoint | None:
        point = await info.context.services.auth.get_user_point(str(self.id))
        return UserPoint.from_model(point) if point else None

    @classmethod
    def from_model(cls, u: models.User) -> "User":
        return cls(
            id=strawberry.ID(u.id),
            email=u.email,
            name=u.name,
            picture=u.picture,
            created_at=u.created_at,
            updated_at=u.updated_at,
            deleted_at=u.deleted_at,
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
