from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession, PasswordResetRateLimit


@strawberry.type
class ResetUserPasswordMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, PasswordResetRateLimit],
        description="비밀번호를 바꿉니다. 최근(기본 10분 이내)에 로그인한 세션만 바꿀 수 있고, 이 세션을 뺀 모든 로그인이 끝납니다.",
    )
    async def reset_user_password(self, info: Info, password: str) -> bool:
        context = info.context
        await context.services.auth.reset_password(
            context.require_user_id(),
            password,
            family_id=context.login_id,
            max_login_age_s=context.services.settings.password_reset_max_age,
        )
        return True
