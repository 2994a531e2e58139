from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema import loaders
from schema.context import Info
from schema.item_types import Useditem, load_item
from schema.types import User
from services import models
from services.orders import OrderView


@strawberry.enum(description="결제 대행사")
class PaymentGateway(Enum):
    PORTONE = "portone"
    BOOTPAY = "bootpay"

    @classmethod
    def of(cls, provider: str) -> "PaymentGateway":
        """The gateway of a payment row's provider (portone_v1, portone_v2, bootpay)."""
        return cls.BOOTPAY if provider == "bootpay" else cls.PORTONE


@strawberry.type
class PointTransaction:
    id: strawberry.ID = strawberry.field(name="_id")
    imp_uid: strawberry.ID | None = strawberry.field(
        description="결제 ID: PortOne imp_uid(V2는 paymentId), 부트페이는 receipt_id"
    )
    amount: int = strawberry.field(description="부호 있는 금액 (충전 +, 취소·구매 -)")
    balance: int = strawberry.field(description="이 거래 직후 잔액")
    status: str = strawberry.field(description='"충전", "취소", "구매", "판매"')
    status_detail: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    user_id: strawberry.Private[str]
    useditem_id: strawberry.Private[str | None] = None
    payment_id: strawberry.Private[str | None] = None
    provider: strawberry.Private[str | None] = None  # known to whoever built it (a charge), else loaded

    @strawberry.field(description="충전·취소 내역의 결제 대행사 (구매·판매는 null)")
    async def gateway(self, info: Info) -> PaymentGateway | None:
        if self.provider is not None:
            return PaymentGateway.of(self.provider)
        if self.payment_id is None:
            return None
        payment = await loaders.payments(info).load(self.payment_id)
        return PaymentGateway.of(payment.provider) if payment is not None else None

    @strawberry.field(description="구매·판매 내역의 상품 (충전·취소는 null)")
    async def useditem(self, info: Info) -> Useditem | None:
        if self.useditem_id is None:
            return None
        # Sold items cannot be deleted; deleted ones are still loaded, against an operator's hand.
        return await load_item(info, self.useditem_id)

    @strawberry.field
    async def user(self, info: Info) -> User | None:
        user = await loaders.users(info).load(self.user_id)
        return User.from_model(user) if user is not None else None

    @classmethod
    def from_model(cls, e: models.PointTransaction, *, provider: str | None = None) -> "PointTransaction":
        return cls(
            id=strawberry.ID(e.id),
            imp_uid=strawberry.ID(e.payment_key) if e.payment_key else None,
            amount=e.amount,
            balance=e.balance,
            status=e.status,
            status_detail=e.detail,
            created_at=e.created_at,
            updated_at=e.created_at,  # entries are immutable
            deleted_at=None,
            user_id=e.user_id,
            # Entries built by the lean charge path (models.detached) may lack the attribute.
            useditem_id=e.__dict__.get("useditem_id"),
            payment_id=e.__dict__.get("payment_id"),
            provider=provider,
        )


@strawberry.type
class PointTransactionPage:
    items: list[PointTransaction]
    next_cursor: str | None = strawberry.field(description="다음 페이지를 위한 after 값, 마지막이면 null")
    has_next_page: bool


@strawberry.enum(description="PortOne API 버전")
class PortOneVersion(Enum):
    V1 = "portone_v1"
    V2 = "portone_v2"


@strawberry.type(description="가상계좌 정보")
class VirtualAccount:
    bank_name: str | None
    bank_code: str | None
    account_number: str | None
    holder: str | None
    due_at: datetime | None


@strawberry.type(description="충전 주문(결제) 한 건과 그 상태")
class PointChargeOrder:
    id: strawberry.ID = strawberry.field(name="_id")
    gateway: PaymentGateway
    version: PortOneVersion | None = strawberry.field(description="PortOne API 버전 (부트페이는 null)")
    merchant_uid: str = strawberry.field(
        description="V1: IMP.request_pay의 merchant_uid, V2: paymentId와 같음, 부트페이: requestPayment의 order_id"
    )
    payment_id: str | None = strawberry.field(description="V2: PortOne.requestPayment의 paymentId")
    store_id: str | None = strawberry.field(description="V2: PortOne.requestPayment의 storeId")
    channel_key: str | None = strawberry.field(description="V2: PortOne.requestPayment의 channelKey")
    imp_uid: strawberry.ID | None = strawberry.field(description="결제 ID (PortOne imp_uid·paymentId, 부트페이 receipt_id)")
    receipt_id: strawberry.ID | None = strawberry.field(description="부트페이 receipt_id (결제 전이거나 PortOne이면 null)")
    amount: int = strawberry.field(description="주문 금액 (사전 등록 주문이 아니면 결제 금액)")
    paid_amount: int
    cancelled_amount: int
    status: str = strawberry.field(
        description="prepared, ready(입금 대기), authorized(부트페이 승인 대기), paid, partially_cancelled, cancelled, failed"
    )
    pay_method: str | None
    virtual_account: VirtualAccount | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(
        cls, p: models.Payment | OrderView, *, store_id: str | None = None, channel_key: str | None = None
    ) -> "PointChargeOrder":
        v2 = p.provider == PortOneVersion.V2.value
        gateway = PaymentGateway.of(p.provider)
        portone = gateway is PaymentGateway.PORTONE
        va = None
        if p.vbank_num:
            va = VirtualAccount(
                bank_name=p.vbank_name,
                bank_code=p.vbank_code,
                account_number=p.vbank_num,
                holder=p.vbank_holder,
                due_at=p.vbank_due_at,
            )
        key = strawberry.ID(p.payment_key) if p.payment_key else None
        return cls(
            id=strawberry.ID(p.id),
            gateway=gateway,
            version=PortOneVersion(p.provider) if portone else None,
            merchant_uid=p.order_key,
            payment_id=p.order_key if v2 else None,
            store_id=store_id if v2 else None,
            channel_key=channel_key if v2 else None,
            imp_uid=key,
            receipt_id=key if not portone else None,
            amount=p.order_amount if p.order_amount is not None else p.amount,
            paid_amount=p.amount,
            cancelled_amount=p.cancelled_amount,
            status=p.status,
            pay_method=p.pay_method,
            virtual_account=va,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


@strawberry.type(description="프론트엔드가 IMP.init / IMP.request_pay, Bootpay.requestPayment에 쓰는 값 (비밀 값 없음)")
class PointChargeConfig:
    merchant_code: str = strawberry.field(description="IMP.init에 넘길 가맹점 식별코드")
    pg: str
    test_mode: bool = strawberry.field(description="true면 샌드박스(테스트) 결제")
    packages: list[int] = strawberry.field(description="선택 가능한 충전 금액 (비어 있으면 자유 금액)")
    min_amount: int
    max_amount: int
    require_prepared_order: bool
    store_id: str | None = strawberry.field(description="V2 storeId (V2를 쓰지 않으면 null)")
    channel_key: str | None = strawberry.field(description="V2 channelKey (V2를 쓰지 않으면 null)")
    gateways: list[PaymentGateway] = strawberry.field(description="이 서버에서 쓸 수 있는 결제 대행사")
    bootpay_application_id: str | None = strawberry.field(
        description="부트페이 requestPayment의 application_id (웹용; 부트페이를 쓰지 않으면 null)"
    )
    auto_top_up_available: bool = strawberry.field(
        default=False, description="자동 충전(setPointAutoTopUp)을 쓸 수 있는지 (서버 설정, 기본 꺼짐)"
    )
