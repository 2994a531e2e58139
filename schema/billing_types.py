"""Saved cards (정기결제 billing keys, issue 25): what the browser needs to issue one, and the card."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.point_types import PaymentGateway, PortOneVersion
from services import models
from services.billing.cards import CardRequest


@strawberry.type(
    description=(
        "카드 등록(빌링키 발급)에 필요한 값. V1: IMP.request_pay({customer_uid, merchant_uid, amount: 0, pg, …}), "
        "V2: PortOne.requestIssueBillingKey({storeId, channelKey, issueId, issueName, billingKeyMethod, "
        "customer: {customerId}}), 부트페이: Bootpay.requestSubscription({subscription_id, order_name, price, pg, "
        "method, …})에 넘기세요."
    )
)
class PaymentCardRequest:
    version: PortOneVersion
    gateway: PaymentGateway = strawberry.field(description="카드를 등록할 결제 대행사")
    customer_uid: str | None = strawberry.field(description="V1: IMP.request_pay의 customer_uid (이 사용자·이 카드 전용, 재사용 금지). V2는 null")
    customer_id: str = strawberry.field(description="결제사에 넘기는 구매자 식별값 (V1 customer_id, V2 customer.customerId)")
    merchant_uid: str | None = strawberry.field(description="V1: 0원 빌링키 발급 기록의 merchant_uid. V2는 null")
    pg: str | None = strawberry.field(description="V1: 빌링키 발급을 지원하는 PG (예: html5_inicis.INIBillTst). V2는 null")
    amount: int = strawberry.field(description="0: 빌링키만 발급하고 결제하지 않습니다")
    name: str
    pay_method: str = strawberry.field(description='IMP.request_pay의 pay_method ("card")')
    store_id: str | None = strawberry.field(description="V2: requestIssueBillingKey의 storeId")
    channel_key: str | None = strawberry.field(description="V2: requestIssueBillingKey의 channelKey (정기결제 채널)")
    issue_id: str | None = strawberry.field(description="V2: requestIssueBillingKey의 issueId (이 요청 전용, 재사용 금지)")
    issue_name: str | None = strawberry.field(description="V2: requestIssueBillingKey의 issueName")
    billing_key_method: str | None = strawberry.field(description='V2: requestIssueBillingKey의 billingKeyMethod ("CARD")')
    subscription_id: str | None = strawberry.field(
        default=None, description="Bootpay: Bootpay.requestSubscription의 subscription_id (서버가 만든 값, 이 사용자·이 카드 전용)")
    order_name: str | None = strawberry.field(default=None, description="Bootpay: requestSubscription의 order_name")
    price: int | None = strawberry.field(default=None, description="Bootpay: requestSubscription의 price (0: 빌링키만 발급)")
    method: str | None = strawberry.field(default=None, description='Bootpay: requestSubscription의 method ("카드자동")')

    @classmethod
    def of(cls, r: CardRequest) -> "PaymentCardRequest":
        v2 = r.version == PortOneVersion.V2.value
        return cls(
            version=_version(r.version), gateway=PaymentGateway.of(r.version), customer_uid=r.customer_uid,
            customer_id=r.customer_id, merchant_uid=r.order_key, pg=r.pg, amount=r.amount, name=r.name,
            pay_method=r.pay_method, store_id=r.store_id, channel_key=r.channel_key, issue_id=r.issue_id,
            issue_name=r.name if v2 else None, billing_key_method=r.billing_key_method,
            subscription_id=r.subscription_id, order_name=r.order_name, price=r.price, method=r.method,
        )


def _version(provider: str) -> PortOneVersion:
    # A Bootpay card has no PortOne version; the contract keeps the field non-null: V1, read gateway.
    return PortOneVersion(provider) if provider in {v.value for v in PortOneVersion} else PortOneVersion.V1


@strawberry.type(description="등록된 카드 (카드 번호는 저장하지 않고 결제사가 보여 주는 마스킹된 번호만)")
class PaymentCard:
    id: strawberry.ID = strawberry.field(name="_id")
    card_name: str | None = strawberry.field(description="카드사 이름 (예: 신한카드)")
    card_number: str | None = strawberry.field(description="마스킹된 카드 번호 (예: 536181******1234)")
    version: PortOneVersion = strawberry.field(description="PortOne 카드의 API 버전 (Bootpay 카드는 V1로 표시: gateway를 보세요)")
    gateway: PaymentGateway = strawberry.field(description="이 카드로 결제하는 결제 대행사 (PORTONE | BOOTPAY)")
    created_at: datetime = strawberry.field(description="등록 시각")

    @classmethod
    def from_model(cls, c: models.PaymentCard) -> "PaymentCard":
        return cls(
            id=strawberry.ID(c.id), card_name=c.card_name, card_number=c.card_number,
            version=_version(c.provider), gateway=PaymentGateway.of(c.provider),
            created_at=c.registered_at or c.created_at,
        )
