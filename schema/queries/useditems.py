from __future__ import annotations

import strawberry

from schema.context import Info
from schema.item_types import Useditem, item_service
from schema.permissions import IsAuthenticated


def _items(rows: list) -> list[Useditem]:
    return [Useditem.from_model(r) for r in rows]


@strawberry.type
class UseditemQueries:
    @strawberry.field(description="상품 하나 (삭제된 상품은 NOT_FOUND)")
    async def fetch_useditem(self, info: Info, useditem_id: strawberry.ID) -> Useditem:
        return Useditem.from_model(await item_service(info).get(str(useditem_id)))

    @strawberry.field(description="상품 목록 (10개씩, 최신순). isSoldout: true면 판매된 상품, 아니면 판매 중인 상품")
    async def fetch_useditems(
        self, info: Info, is_soldout: bool | None = False, search: str | None = None, page: int | None = 1
    ) -> list[Useditem]:
        return _items(await item_service(info).listing(is_soldout=is_soldout, search=search, page=page))

    @strawberry.field(permission_classes=[IsAuthenticated], description="내가 구매한 상품 (10개씩, 최신순)")
    async def fetch_useditems_i_bought(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[Useditem]:
        return _items(await item_service(info).bought(info.context.require_user_id(), search=search, page=page))

    @strawberry.field(permission_classes=[IsAuthenticated], description="내가 판매 등록한 상품 (판매 완료 포함, 10개씩, 최신순)")
    async def fetch_useditems_i_sold(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[Useditem]:
        return _items(await item_service(info).sold(info.context.require_user_id(), search=search, page=page))

    @strawberry.field(permission_classes=[IsAuthenticated], description="내가 찜한 상품 (10개씩, 최신순)")
    async def fetch_useditems_i_picked(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[Useditem]:
        return _items(await item_service(info).picked(info.context.require_user_id(), search=search, page=page))

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_useditems_count_i_bought(self, info: Info) -> int:
        return await item_service(info).count_bought(info.context.require_user_id())

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_useditems_count_i_sold(self, info: Info) -> int:
        return await item_service(info).count_sold(info.context.require_user_id())

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_useditems_count_i_picked(self, info: Info) -> int:
        return await item_service(info).count_picked(info.context.require_user_id())

    @strawberry.field(description="찜이 가장 많은 상품 4개")
    async def fetch_useditems_of_the_best(self, info: Info) -> list[Useditem]:
        return _items(await item_service(info).best())
