"""V2 billing keys and schedules through the official portone-server-sdk, unchanged: BillingKeyClient
(issue, get, list, delete), PaymentScheduleClient (create, get, list, revoke) and
PaymentClient.pay_with_billing_key against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from portone_server_sdk import PaymentClient
from portone_server_sdk import errors as sdk_errors
from portone_server_sdk.common import CardCredential, CustomerInput, PageInput, PaymentAmountInput
from portone_server_sdk.payment.billing_key import (
    BillingKeyFilterInput,
    InstantBillingKeyPaymentMethodInput,
    InstantBillingKeyPaymentMethodInputCard,
)
from portone_server_sdk.payment.payment_schedule import BillingKeyPaymentScheduleInput, PaymentScheduleFilterInput

from sandbox.portone.store import iso
from tests.sandbox.conftest import Sandbox

CARD = InstantBillingKeyPaymentMethodInput(card=InstantBillingKeyPaymentMethodInputCard(
    credential=CardCredential(number="5361810012349876", expiry_year="39", expiry_month="01",
                              birth_or_business_registration_number="900101", password_two_digits="00")))


@pytest.fixture
async def portone(sandbox: Sandbox) -> AsyncIterator[PaymentClient]:
    client = PaymentClient(secret=sandbox.config.v2_api_secret, base_url=sandbox.v2)
    yield client
    for sub in (client, client.billing_key, client.payment_schedule):
        await sub._async_client.aclose()


async def test_billing_keys_schedules_and_charges_through_the_official_sdk(http, sandbox, portone):
    keys, schedules = portone.billing_key, portone.payment_schedule
    # given a key issued through BillingKeyClient
    issued = await keys.issue_billing_key_async(method=CARD, channel_key=sandbox.config.channel_key,
                                                customer=CustomerInput(id="user-sdk"), skip_webhook=True)
    key = issued.billing_key_info.billing_key
    info = await keys.get_billing_key_info_async(billing_key=key)
    assert type(info).__name__ == "IssuedBillingKeyInfo" and info.customer.id == "user-sdk"
    assert info.methods[0].card.number == "536181******9876"
    listed = await keys.get_billing_key_infos_async(page=PageInput(number=0, size=5),
                                                    filter=BillingKeyFilterInput(customer_id="user-sdk"))
    assert [k.billing_key for k in listed.items] == [key] and listed.page.total_count == 1

    # when it pays now through PaymentClient.pay_with_billing_key
    paid = await portone.pay_with_billing_key_async(
        payment_id="sdk-pay-1", billing_key=key, order_name="원클릭 충전", customer=CustomerInput(id="user-sdk"),
        amount=PaymentAmountInput(total=5000), currency="KRW")
    assert paid.payment.pg_tx_id and paid.payment.paid_at
    payment = await portone.get_payment_async(payment_id="sdk-pay-1")
    assert type(payment).__name__ == "PaidPayment" and payment.billing_key == key
    assert payment.method.card.number == "536181******9876"  # the registered card
    with pytest.raises(sdk_errors.AlreadyPaidError):
        await portone.pay_with_billing_key_async(payment_id="sdk-pay-1", billing_key=key, order_name="x",
                                                 amount=PaymentAmountInput(total=5000), currency="KRW")

    # and a charge is scheduled, read back, listed and revoked through PaymentScheduleClient
    now = (await http.post("/_control/clock", json={"advance_s": 0})).json()["now"]
    created = await schedules.create_payment_schedule_async(
        payment_id="sdk-sched-1", time_to_pay=iso(now + 86400),
        payment=BillingKeyPaymentScheduleInput(billing_key=key, order_name="정기 충전",
                                               amount=PaymentAmountInput(total=9900), currency="KRW"))
    got = await schedules.get_payment_schedule_async(payment_schedule_id=created.schedule.id)
    assert type(got).__name__ == "ScheduledPaymentSchedule" and got.total_amount == 9900
    window = PaymentScheduleFilterInput(billing_key=key, from_=iso(now), until=iso(now + 2 * 86400))
    found = await schedules.get_payment_schedules_async(filter=window)
    assert [s.id for s in found.items] == [created.schedule.id]
    with pytest.raises(sdk_errors.PaymentScheduleAlreadyExistsError):
        await keys.delete_billing_key_async(billing_key=key)
    revoked = await schedules.revoke_payment_schedules_async(billing_key=key)
    assert revoked.revoked_schedule_ids == [created.schedule.id]
    assert type(await schedules.get_payment_schedule_async(payment_schedule_id=created.schedule.id)).__name__ \
        == "RevokedPaymentSchedule"

    # then the key deletes and reads DELETED; a charge with it is refused
    deleted = await keys.delete_billing_key_async(billing_key=key, reason="해지", skip_webhook=True)
    assert deleted.deleted_at
    assert type(await keys.get_billing_key_info_async(billing_key=key)).__name__ == "DeletedBillingKeyInfo"
    with pytest.raises(sdk_errors.BillingKeyAlreadyDeletedError):
        await portone.pay_with_billing_key_async(payment_id="sdk-pay-2", billing_key=key, order_name="x",
                                                 amount=PaymentAmountInput(total=100), currency="KRW")
    events = [d["event"] for d in (await http.get("/_control/webhooks")).json()["deliveries"]]
    assert events == ["Transaction.Paid"]  # the charge's; issue and delete were asked to skip theirs


async def test_a_decline_raises_pg_provider_error_with_the_pg_reason(http, portone):
    r = await http.post("/_control/billing-keys", json={"version": "v2", "customer_id": "user-x", "decline": True})
    key = r.json()["billing_key"]
    with pytest.raises(sdk_errors.PgProviderError) as caught:
        await portone.pay_with_billing_key_async(payment_id="sdk-decline", billing_key=key, order_name="충전",
                                                 amount=PaymentAmountInput(total=1000), currency="KRW")
    assert (caught.value.pg_code, caught.value.pg_message) == ("51", "한도초과")
    failed = await portone.get_payment_async(payment_id="sdk-decline")
    assert type(failed).__name__ == "FailedPayment" and failed.failure.pg_message == "한도초과"
    with pytest.raises(sdk_errors.BillingKeyNotFoundError):
        await portone.billing_key.get_billing_key_info_async(billing_key="billing-key-missing")
