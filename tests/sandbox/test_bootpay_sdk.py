"""Bootpay's official server SDK (`bootpay-backend`, PyPI), unchanged, against the emulator: every
method a payment backend uses, in both credential styles. The SDK has no base-URL setting; its
URLs are ``BASE_URL[mode] + "/" + path`` read through the instance, so an instance attribute
points it here (what the product's Bootpay client will do in sandbox mode)."""

from __future__ import annotations

import pytest
from bootpay_backend import BootpayBackend

from tests.sandbox.bootpay import bootpay, bootpay_session  # noqa: F401 - fixtures


def legacy(bootpay) -> BootpayBackend:
    cfg = bootpay.config
    sdk = BootpayBackend(cfg.application_id, cfg.private_key, mode="sandbox")
    sdk.BASE_URL = {"sandbox": bootpay.v2}
    return sdk


def basic(bootpay) -> BootpayBackend:
    cfg = bootpay.config
    sdk = BootpayBackend(client_key=cfg.client_key, secret_key=cfg.secret_key, mode="sandbox")
    sdk.BASE_URL = {"sandbox": bootpay.v2}
    return sdk


@pytest.fixture(params=["application_id/private_key", "client_key/secret_key"])
def sdk(request, bootpay) -> BootpayBackend:
    client = legacy(bootpay) if request.param.startswith("application") else basic(bootpay)
    token = client.get_access_token()
    assert "error_code" not in token
    return client


def test_token_styles(bootpay):
    # legacy: a real token, 30 minutes
    token = legacy(bootpay).get_access_token()
    assert len(token["access_token"]) >= 32 and token["expire_in"] == 1800
    # client_key/secret_key: the SDK answers itself, no call (and Basic auth on every request)
    assert basic(bootpay).get_access_token() == {"access_token": "", "expire_in": 0}
    assert bootpay.control("GET", "/stats").json() == {"POST /v2/request/token": 1}


def test_wrong_private_key_is_an_error_the_sdk_recognises(bootpay):
    sdk = BootpayBackend(bootpay.config.application_id, "wrong", mode="sandbox")
    sdk.BASE_URL = {"sandbox": bootpay.v2}
    response = sdk.get_access_token()
    assert response["error_code"] == "INVALID_APPLICATION_KEY" and sdk.token is None
    with pytest.raises(RuntimeError):  # the SDK will not call without a token
        sdk.receipt_payment("x")


def test_wrong_secret_key_comes_back_as_error_code(bootpay):
    sdk = BootpayBackend(client_key=bootpay.config.client_key, secret_key="wrong", mode="sandbox")
    sdk.BASE_URL = {"sandbox": bootpay.v2}
    assert sdk.receipt_payment("x")["error_code"] == "INVALID_CLIENT_KEY"


def test_lookup_and_partial_then_full_cancel(sdk, bootpay):
    rid = bootpay.pay(price=10000, order_id="sdk-card")["receipt_id"]
    receipt = sdk.receipt_payment(rid)
    assert (receipt["receipt_id"], receipt["order_id"], receipt["price"], receipt["status"], receipt["sandbox"]) == (
        rid, "sdk-card", 10000, 1, True)
    assert sdk.receipt_payment(rid, lookup_user_data=True)["status"] == 1
    # a partial cancel with a cancel_id, then the same id again: refused
    part = sdk.cancel_payment(receipt_id=rid, cancel_id="sdk-1", cancel_price=4000, cancel_username="관리자",
                              cancel_message="부분 환불")
    assert (part["status"], part["cancelled_price"]) == (20, 4000)
    assert sdk.cancel_payment(receipt_id=rid, cancel_id="sdk-1", cancel_price=4000)["error_code"] == "CANCEL_ID_DUPLICATED"
    # the rest, with every optional argument left to the SDK (nulls, '' and {})
    full = sdk.cancel_payment(receipt_id=rid)
    assert (full["status"], full["cancelled_price"]) == (20, 10000)
    assert sdk.cancel_payment(receipt_id=rid)["error_code"] == "RECEIPT_ALREADY_CANCELLED"
    assert sdk.receipt_payment("0" * 24)["error_code"] == "RECEIPT_NOT_FOUND"


def test_virtual_account_refund(sdk, bootpay):
    rid = bootpay.pay(price=30000, method="vbank")["receipt_id"]
    assert sdk.receipt_payment(rid)["status"] == 5
    bootpay.deposit(rid)
    assert sdk.receipt_payment(rid)["status"] == 1
    assert sdk.cancel_payment(receipt_id=rid, cancel_message="환불")["error_code"] == "REFUND_ACCOUNT_REQUIRED"
    done = sdk.cancel_payment(receipt_id=rid, cancel_id="vb-1", cancel_message="환불",
                              refund={"bank_account": "1234567890", "bank_username": "홍길동", "bank_code": "088"})
    assert (done["status"], done["cancelled_price"], done["method_symbol"]) == (20, 30000, "vbank")


def test_confirm(sdk, bootpay):
    rid = bootpay.pay(price=5000, separately_confirmed=True)["receipt_id"]
    assert sdk.receipt_payment(rid)["status"] == 2
    confirmed = sdk.confirm_payment(rid)
    assert (confirmed["status"], confirmed["price"]) == (1, 5000)
    assert sdk.confirm_payment(rid)["error_code"] == "RECEIPT_ALREADY_CONFIRMED"
