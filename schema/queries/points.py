from __future__ import annotations

import strawberry

from schema.context import Info
from schema.permissions import IsAuthenticated
from schema.point_types import (
    PaymentGateway,
    PointChargeConfig,
    PointChargeOrder,
    PointTransaction,
    PointTransactionPage,
)
from services import ledger


async def _page(info: Info, status: str | None, search: str | None, page: int | None) -> list[PointTransaction]:
    entries = await info.context.services.history.page(
        info.context.require_user_id(), status=status, search=search, page=page
    )
    return [PointTransaction.from_model(e) for e in entries]


async def _count(info: Info, status: str | None) -> int:
    return await info.context.services.history.count(info.context.require_user_id(), status=status)


@strawberry.type
class PointQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="내 포인트 내역 (10개씩, 최신순)")
    async def fetch_point_transactions(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[PointTransaction]:
        return await _page(info, None, search, page)

    @strawberry.field(permission_classes=[IsAuthenticated], description="충전 내역")
    async def fetch_point_transactions_of_loading(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[PointTransaction]:
        return await _page(info, ledger.CHARGE, search, page)

    @strawberry.field(permission_classes=[IsAuthenticated], description="구매 내역")
    async def fetch_point_transactions_of_buying(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[PointTransaction]:
        return await _page(info, ledger.BUY, search, page)

    @strawberry.field(permission_classes=[IsAuthenticated], description="판매 내역")
    async def fetch_point_transactions_of_selling(
        self, info: Info, search: str | None = None, page: int | None = 1
    ) -> list[PointTransaction]:
        return await _page(info, ledger.SELL, search, page)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_point_transactions_count_of_loading(self, info: Info) -> int:
        return await _count(info, ledger.CHARGE)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_point_transactions_count_of_buying(self, info: Info) -> int:
        return await _count(info, ledger.BUY)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def fetch_point_transactions_count_of_selling(self, info: Info) -> int:
        return await _count(info, ledger.SELL)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="커서 기반 내역 (큰 내역용): after에 이전 응답의 nextCursor를 넘기세요. status로 거르기 가능.",
    )
    async def fetch_point_transactions_by_cursor(
        self, info: Info, first: int = 10, after: str | None = None, status: str | None = None
    ) -> PointTransactionPage:
        page = await info.context.services.history.after(
            info.context.require_user_id(), first=first, after=after, status=status
        )
        return PointTransactionPage(
            items=[PointTransaction.from_model(e) for e in page.items],
            next_cursor=page.next_cursor,
            has_next_page=page.next_cursor is not None,
        )

    @strawberry.field(permission_classes=[IsAuthenticated], description="내 충전 주문과 결제 상태 (최신 20개)")
    async def fetch_point_charge_orders(self, info: Info) -> list[PointChargeOrder]:
        orders = await info.context.services.charging.get_orders(info.context.require_user_id())
        client = info.context.services.portone_client
        return [
            PointChargeOrder.from_model(o, store_id=client.store_id, channel_key=client.channel_key)
            for o in orders
        ]

    @strawberry.field(description="충전 화면 설정: 쓸 수 있는 결제 대행사, IMP.init 가맹점 코드, PG, 부트페이 application_id, 충전 금액 목록")
    def fetch_point_charge_config(self, info: Info) -> PointChargeConfig:
        services = info.context.services
        charge = services.charging.config
        client = services.portone_client
        gateways = list(dict.fromkeys(PaymentGateway.of(name) for name in services.charging.providers))
        return PointChargeConfig(
            merchant_code=client.merchant_code,
            pg=client.pg,
            test_mode=client.test_mode,
            packages=list(charge.packages or []),
            min_amount=charge.min_amount,
            max_amount=charge.max_amount,
            require_prepared_order=charge.require_prepared_order,
            store_id=client.store_id,
            channel_key=client.channel_key,
            gateways=gateways,
            bootpay_application_id=services.bootpay_application_id if PaymentGateway.BOOTPAY in gateways else None,
            auto_top_up_available=services.auto_topups is not None and services.auto_topups.available,
        )
