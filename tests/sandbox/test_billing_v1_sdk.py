"""PortOne V1's official Python client, iamport-rest-client (PyPI), run unchanged against the sandbox's
/subscribe/* endpoints. Its constructor takes the API base URL (imp_url), which is all it needs."""

from __future__ import annotations

import httpx
import pytest
from iamport import Iamport

from tests.sandbox.conftest import Sandbox

CARD = {"card_number": "5361-8100-0000-4321", "expiry": "2099-12", "birth": "900101", "pwd_2digit": "12"}


@pytest.fixture
def iamport(sandbox: Sandbox) -> Iamport:
    return Iamport(imp_key=sandbox.config.imp_key, imp_secret=sandbox.config.imp_secret, imp_url=sandbox.v1 + "/")


def sandbox_now(sandbox: Sandbox) -> int:
    return int(httpx.post(sandbox.base_url + "/_control/clock", json={}).json()["now"])


def test_the_official_client_manages_keys_and_charges(iamport: Iamport, sandbox: Sandbox) -> None:
    # given a key made with customer_create
    customer = iamport.customer_create(customer_uid="sdk-user-1", customer_name="홍길동", **CARD)
    assert (customer["customer_uid"], customer["card_number"]) == ("sdk-user-1", "536181******4321")
    assert iamport.customer_get("sdk-user-1")["customer_name"] == "홍길동"
    # when it pays again
    paid = iamport.pay_again(customer_uid="sdk-user-1", merchant_uid="sdk-again-1", amount=9900, name="포인트")
    # then the payment is paid with the key, and is_paid agrees
    assert (paid["status"], paid["customer_uid"], paid["customer_uid_usage"]) == ("paid", "sdk-user-1", "payment")
    assert iamport.is_paid(9900, imp_uid=paid["imp_uid"])
    # and a onetime payment with a declining card comes back as failed, not as an exception
    declined = iamport.pay_onetime(merchant_uid="sdk-onetime-1", amount=1000, **{**CARD, "card_number": "4000-0000-0000-0002"})
    assert (declined["status"], declined["fail_reason"]) == ("failed", "한도초과")
    # and an unknown customer is PortOne's ResponseError code 1
    with pytest.raises(Iamport.ResponseError) as err:
        iamport.pay_again(customer_uid="nobody", merchant_uid="sdk-again-2", amount=1000)
    assert (err.value.code, err.value.message) == (1, "등록되지 않은 구매자입니다.")


def test_the_official_client_schedules_and_unschedules(iamport: Iamport, sandbox: Sandbox) -> None:
    iamport.customer_create(customer_uid="sdk-user-2", **CARD)
    at = sandbox_now(sandbox) + 3600
    # when two payments are scheduled
    booked = iamport.pay_schedule(customer_uid="sdk-user-2", schedules=[
        {"merchant_uid": "sdk-sub-1", "schedule_at": at, "amount": 5000, "name": "정기 1"},
        {"merchant_uid": "sdk-sub-2", "schedule_at": at + 86400, "amount": 5000, "name": "정기 2"}])
    assert [s["schedule_status"] for s in booked] == ["scheduled", "scheduled"]
    # then each is found by merchant_uid, and the range listing has both
    assert iamport.pay_schedule_get("sdk-sub-1")["schedule_at"] == at
    listed = iamport.pay_schedule_get_between(schedule_from=at, schedule_to=at + 2 * 86400)
    assert listed["total"] == 2
    # when one is unscheduled
    revoked = iamport.pay_unschedule(customer_uid="sdk-user-2", merchant_uid=["sdk-sub-2"])
    assert [(s["merchant_uid"], s["schedule_status"]) for s in revoked] == [("sdk-sub-2", "revoked")]
    assert iamport.pay_schedule_get("sdk-sub-2")["revoked_at"] > 0
    # and nothing left to revoke is the error the client's own tests expect
    iamport.pay_unschedule(customer_uid="sdk-user-2")
    with pytest.raises(Iamport.ResponseError) as err:
        iamport.pay_unschedule(customer_uid="sdk-user-2")
    assert (err.value.code, err.value.message) == (1, "취소할 예약결제 기록이 존재하지 않습니다.")
    # when the key is deleted it is gone (the spec's 404)
    assert iamport.customer_delete("sdk-user-2")["customer_uid"] == "sdk-user-2"
    with pytest.raises(Iamport.HttpError) as gone:
        iamport.customer_get("sdk-user-2")
    assert gone.value.code == 404
