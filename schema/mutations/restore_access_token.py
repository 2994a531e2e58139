from __future__ import annotations

import strawberry

from schema.context import Info
from schema.mutations.login_user import clear_refresh_cookie, set_refresh_cookie
from schema.types import Token
from services.errors import DomainError


@strawberry.type
class RestoreAccessTokenMutation:
    @strawberry.mutation
    async def restore_access_token(self, info: Info) -> Token:
        try:
            pair = await info.context.services.auth.refresh(info.context.refresh_cookie)
        except DomainError:
            clear_refresh_cookie(info)
            raise
        set_refresh_cookie(info, pair)
        return Token(access_token=pair.access_token)
