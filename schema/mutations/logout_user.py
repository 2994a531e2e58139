from __future__ import annotations

import strawberry

from schema.context import Info
from schema.mutations.login_user import clear_refresh_cookie


@strawberry.type
class LogoutUserMutation:
    @strawberry.mutation
    async def logout_user(self, info: Info) -> bool:
        # The cookie's login and the bearer token's, whichever came (an invalid or expired token
        # has nothing left to end): a client without the cookie still logs out.
        await info.context.services.auth.logout(info.context.refresh_cookie, login=info.context.token_login())
        clear_refresh_cookie(info)
        return True
