from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import SignupRateLimit
from schema.types import CreateUserInput, User


@strawberry.type
class CreateUserMutation:
    @strawberry.mutation(permission_classes=[SignupRateLimit])
    async def create_user(self, info: Info, create_user_input: CreateUserInput) -> User:
        i = create_user_input
        user = await info.context.services.auth.create_user(i.email, i.password, i.name)
        # The caller typed this e-mail a moment ago: shown as it is, though nobody is logged in yet.
        return User.from_model(user, shown_to_owner=True)
