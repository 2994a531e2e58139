from __future__ import annotations

import strawberry

from schema.auto_top_up_types import PointAutoTopUp
from schema.context import Info
from schema.permissions import IsAuthenticated


@strawberry.type
class AutoTopUpQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="내 자동 충전 설정 (설정한 적이 없으면 null)")
    async def fetch_point_auto_top_up(self, info: Info) -> PointAutoTopUp | None:
        topups = info.context.services.auto_topups
        assert topups is not None
        view = await topups.get(info.context.require_user_id())
        return PointAutoTopUp.of(view) if view is not None else None
