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
