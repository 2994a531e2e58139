from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "로그인이 필요합니다."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raises the precise reason (expired, forged, missing) rather than a generic message.
        info.context.require_user_id()
        return True


class LiveSession(BasePermission):
    """For every mutation that changes state: the token's login must not have been revoked
    (``logoutUser``, ``resetUserPassword``, a reused refresh token). One indexed query; reads stay
    stateless. Put it after ``IsAuthenticated``. tests/reliability/test_hardening.py walks the
    Mutation type and fails for a mutation without it (the exemptions are listed there)."""

    message = "로그인이 만료되었습니다. 다시 로그인해 주세요."
    error_extensions = {"code": "UNAUTHENTICATED"}

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        await info.context.require_live_session()
        return True


def rate_limited(scope: str) -> type[BasePermission]:
    """A per-user rate limit (services/ratelimit.py) as a permission: ``rate_limited("charge")``."""

    class RateLimited(BasePermission):
        message = "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."
        error_extensions = {"code": "RATE_LIMITED"}

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            limiter = info.context.services.ratelimit
            if limiter is not None:
                await limiter.hit_user(scope, info.context.require_user_id())  # raises RATE_LIMITED
            return True

    RateLimited.__name__ = RateLimited.__qualname__ = f"RateLimited_{scope}"
    return RateLimited


def rate_limited_by_ip(scope: str) -> type[BasePermission]:
    """A per-client-address rate limit as a permission (for calls made before there is a user)."""

    class RateLimitedByIp(BasePermission):
        message = "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."
        error_extensions = {"code": "RATE_LIMITED"}

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            limiter = info.context.services.ratelimit
            if limiter is not None and info.context.client_ip:
                await limiter.hit_address(scope, info.context.client_ip)  # raises RATE_LIMITED
            return True

    RateLimitedByIp.__name__ = RateLimitedByIp.__qualname__ = f"RateLimitedByIp_{scope}"
    return RateLimitedByIp


ChargeRateLimit = rate_limited("charge")
PrepareRateLimit = rate_limited("prepare")
CancelRateLimit = rate_limited("cancel")
PasswordResetRateLimit = rate_limited("password_reset")
# Item writes (createUseditem, updateUseditem, deleteUseditem, toggleUseditemPick,
# createPointTransactionOfBuyingAndSelling) and the Q&A's six (create/update/delete of
# UseditemQuestion and UseditemQuestionAnswer), one count: put it after IsAuthenticated, LiveSession.
ItemRateLimit = rate_limited("item")
SignupRateLimit = rate_limited_by_ip("signup")
UploadRateLimit = rate_limited("upload")  # uploadFile
