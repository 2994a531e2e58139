from __future__ import annotations

import strawberry
import structlog

from schema.context import Info
from schema.item_types import Useditem, item_service
from schema.permissions import IsAuthenticated, ItemRateLimit, LiveSession


@strawberry.type
class CreatePointTransactionOfBuyingAndSellingMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, ItemRateLimit],
        description=(
            "포인트로 상품을 구매합니다. 가격은 서버에 등록된 상품 가격입니다. 구매자에게 구매(-가격), "
            "판매자에게 판매(+가격) 내역이 한 번에 기록됩니다. 같은 구매자의 재시도는 상품을 그대로 돌려주고 "
            "포인트를 다시 옮기지 않습니다. expectedPrice(구매자가 본 가격)를 보내면, 그사이 판매자가 가격을 "
            "바꾼 경우 PRICE_CHANGED(extensions.price: 현재 가격)로 거절되고 아무것도 옮겨지지 않습니다."
        ),
    )
    async def create_point_transaction_of_buying_and_selling(
        self,
        info: Info,
        useritem_id: strawberry.ID,  # sic: the codecamp contract spells it "useritemId"
        expected_price: int | None = None,
    ) -> Useditem:
        structlog.contextvars.bind_contextvars(useditem_id=str(useritem_id)[:100])
        item = await item_service(info).buy(
            info.context.require_user_id(), str(useritem_id), expected_price=expected_price
        )
        return Useditem.from_model(item)
