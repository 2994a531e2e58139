from __future__ import annotations

import strawberry

from schema.context import Info
from schema.mutations.login_user import clear_refresh_cookie


@strawberry.type
class LogoutUserMutation:
    @strawberry.mutation
    async def logout_user(self, info: Info) -> bool:
        await info.context.services.auth.logout(info.context.refresh_cookie)
        clear_refresh_cookie(info)
        return True
