from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession
from schema.types import UpdateUserInput, User


@strawberry.type
class UpdateUserMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated, LiveSession])
    async def update_user(self, info: Info, update_user_input: UpdateUserInput) -> User:
        i = update_user_input
        user = await info.context.services.auth.update_user(
            info.context.require_user_id(), name=i.name, picture=i.picture
        )
        return User.from_model(user)
