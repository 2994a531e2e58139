from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession


@strawberry.type
class ResetUserPasswordMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated, LiveSession])
    async def reset_user_password(self, info: Info, password: str) -> bool:
        await info.context.services.auth.reset_password(info.context.require_user_id(), password)
        return True
