from __future__ import annotations

import strawberry

from schema.billing_types import PaymentCardRequest
from schema.context import Info
from schema.permissions import IsAuthenticated, LiveSession, PrepareRateLimit
from schema.point_types import PaymentGateway, PortOneVersion


@strawberry.type
class PreparePaymentCardMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, LiveSession, PrepareRateLimit],
        description=(
            "카드 등록(빌링키 발급)을 시작합니다. V1: 받은 customerUid·merchantUid·pg로 IMP.request_pay({customer_uid, "
            "amount: 0, …})를 호출하고, 성공하면 registerPaymentCard(customerUid)를 호출하세요. V2: storeId·channelKey·"
            "issueId·issueName·billingKeyMethod와 customer.customerId로 PortOne.requestIssueBillingKey를 호출하고, 받은 "
            "billingKey로 registerPaymentCard(billingKey)를 호출하세요. gateway: BOOTPAY면 받은 subscriptionId·orderName·"
            "price·pg·method로 Bootpay.requestSubscription을 호출하고, 받은 receipt_id로 registerPaymentCard(receiptId)를 "
            "호출하세요. 받은 값은 카드 한 장에만 씁니다."
        ),
    )
    async def prepare_payment_card(
        self, info: Info, version: PortOneVersion = PortOneVersion.V1, gateway: PaymentGateway = PaymentGateway.PORTONE
    ) -> PaymentCardRequest:
        cards = info.context.services.cards
        assert cards is not None
        provider = version.value if gateway is PaymentGateway.PORTONE else gateway.value
        request = await cards.prepare(info.context.require_user_id(), provider=provider)
        return PaymentCardRequest.of(request)
