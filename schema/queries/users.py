from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.types import User


@strawberry.type
class UserQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_user_logged_in(self, info: Info) -> User:
        user = await info.context.services.auth.get_user(info.context.require_user_id())
        return User.from_model(user)
