from __future__ import annotations

import strawberry

from schema.context import REFRESH_COOKIE, Info
from schema.types import Token
from services.auth import TokenPair


def set_refresh_cookie(info: Info, pair: TokenPair) -> None:
    settings = info.context.services.settings
    info.context.response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_token_ttl_s,
        path="/graphql",
        httponly=True,
        secure=bool(settings.cookie_secure),
        samesite=settings.cookie_samesite,  # type: ignore[arg-type]
    )


def clear_refresh_cookie(info: Info) -> None:
    settings = info.context.services.settings
    info.context.response.delete_cookie(
        REFRESH_COOKIE,
        path="/graphql",
        httponly=True,
        secure=bool(settings.cookie_secure),
        samesite=settings.cookie_samesite,  # type: ignore[arg-type]
    )


async def _login(info: Info, email: str, password: str) -> Token:
    pair = await info.context.services.auth.login(email, password, client_ip=info.context.client_ip)
    set_refresh_cookie(info, pair)
    return Token(access_token=pair.access_token)


@strawberry.type
class LoginUserMutation:
    @strawberry.mutation
    async def login_user(self, info: Info, email: str, password: str) -> Token:
        return await _login(info, email, password)

    @strawberry.mutation(description="loginUser와 같습니다 (예제 프론트엔드 호환).")
    async def login_user_example(self, info: Info, email: str, password: str) -> Token:
        # Not self.login_user(...): the root value (self) is None at execution time.
        return await _login(info, email, password)
