"""Bootpay REST v2 as the emulator answers it (docs/SANDBOX.md, Bootpay): tokens and both auth
styles, receipts and their status codes, cancel arithmetic, cancel_id, vbank refunds, confirm,
and the non-2xx {error_code, message} envelope."""

from __future__ import annotations

import httpx

from tests.sandbox.bootpay import bootpay, bootpay_session  # noqa: F401 - fixtures


def assert_error(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error_code"] == code and isinstance(body["message"], str) and body["message"]


# ---------------------------------------------------------------------- auth
def test_token_lives_30_minutes_and_is_the_same_within_25(bootpay):
    cfg = bootpay.config
    keys = {"application_id": cfg.application_id, "private_key": cfg.private_key}
    # given a token
    first = httpx.post(bootpay.v2 + "/request/token", json=keys).json()
    assert set(first) == {"access_token", "expire_in"} and first["expire_in"] == 1800
    # when asked again 20 minutes later: the same token, with what is left of its life
    bootpay.control("POST", "/clock", json={"advance_s": 1200})
    again = httpx.post(bootpay.v2 + "/request/token", json=keys).json()
    assert again["access_token"] == first["access_token"] and 590 <= again["expire_in"] <= 600
    # after 26 minutes a new one, and the old one still works until its 30 minutes are up
    bootpay.control("POST", "/clock", json={"advance_s": 360})
    new = httpx.post(bootpay.v2 + "/request/token", json=keys).json()
    assert new["access_token"] != first["access_token"] and new["expire_in"] == 1800
    paid = bootpay.pay()
    old = {"Authorization": "Bearer " + first["access_token"]}
    assert bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", headers=old).status_code == 200
    # then, past 30 minutes, the old token is refused and the new one is not
    bootpay.control("POST", "/clock", json={"advance_s": 300})
    assert_error(bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", headers=old), 401, "TOKEN_EXPIRED")
    fresh = {"Authorization": "Bearer " + new["access_token"]}
    assert bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", headers=fresh).status_code == 200


def test_wrong_keys_get_no_token(bootpay):
    r = httpx.post(bootpay.v2 + "/request/token", json={"application_id": bootpay.config.application_id,
                                                        "private_key": "wrong"})
    assert_error(r, 401, "INVALID_APPLICATION_KEY")
    assert "access_token" not in r.json()


def test_calls_without_valid_credentials_are_refused(bootpay):
    paid = bootpay.pay()
    path = f"/receipt/{paid['receipt_id']}"
    assert_error(bootpay.rest("GET", path, headers={}), 401, "UNAUTHORIZED")
    assert_error(bootpay.rest("GET", path, headers={"Authorization": "Bearer nope"}), 401, "INVALID_TOKEN")
    wrong = httpx.BasicAuth(bootpay.config.client_key, "wrong")
    assert_error(httpx.get(bootpay.v2 + path, auth=wrong), 401, "INVALID_CLIENT_KEY")
    assert_error(bootpay.rest("GET", path, headers={"Authorization": "Basic !!"}), 401, "INVALID_CLIENT_KEY")
    # and nothing was cancelled by a refused call
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": paid["receipt_id"]}, headers={}),
                 401, "UNAUTHORIZED")
    assert bootpay.rest("GET", path).json()["status"] == 1


def test_token_expired_fault_kills_issued_tokens(bootpay):
    paid = bootpay.pay()
    bearer = {"Authorization": "Bearer " + bootpay.token()}
    bootpay.control("PUT", "/faults", json={"token_expired": True})
    assert_error(bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", headers=bearer), 401, "TOKEN_EXPIRED")
    assert bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", headers={
        "Authorization": "Bearer " + bootpay.token()}).status_code == 200


# ---------------------------------------------------------------------- receipts
def test_card_receipt_as_bootpay_shows_it(bootpay):
    paid = bootpay.pay(price=12000, order_id="order-card", order_name="포인트 충전")
    r = bootpay.rest("GET", f"/receipt/{paid['receipt_id']}", params={"lookup_user_data": "false"})
    assert r.status_code == 200
    receipt = r.json()
    assert len(receipt["receipt_id"]) == 24 and int(receipt["receipt_id"], 16) >= 0
    assert {k: receipt[k] for k in ("order_id", "order_name", "price", "cancelled_price", "status", "status_locale",
                                    "method", "method_symbol", "sandbox", "currency", "cancelled_at")} == {
        "order_id": "order-card", "order_name": "포인트 충전", "price": 12000, "cancelled_price": 0, "status": 1,
        "status_locale": "결제완료", "method": "카드", "method_symbol": "card", "sandbox": True, "currency": "KRW",
        "cancelled_at": None}
    assert receipt["purchased_at"].endswith("+09:00")
    assert {"tid", "card_approve_no", "card_no", "card_quota", "card_company"} <= set(receipt["card_data"])
    assert "vbank_data" not in receipt


def test_unknown_receipt_and_path_are_404_envelopes(bootpay):
    assert_error(bootpay.rest("GET", "/receipt/000000000000000000000000"), 404, "RECEIPT_NOT_FOUND")
    assert_error(bootpay.rest("GET", "/nothing/here"), 404, "NOT_FOUND")


def test_virtual_account_is_status_5_until_the_deposit(bootpay):
    issued = bootpay.pay(price=30000, method="vbank")
    receipt = bootpay.rest("GET", f"/receipt/{issued['receipt_id']}").json()
    assert (receipt["status"], receipt["status_locale"], receipt["purchased_at"]) == (5, "가상계좌발급완료", None)
    assert {"bank_code", "bank_name", "bank_account", "bank_username", "expired_at"} <= set(receipt["vbank_data"])
    # an issued account cannot be cancelled like a payment
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": issued["receipt_id"]}), 400,
                 "RECEIPT_NOT_CANCELLABLE")
    bootpay.deposit(issued["receipt_id"])
    paid = bootpay.rest("GET", f"/receipt/{issued['receipt_id']}").json()
    assert (paid["status"], paid["method_symbol"]) == (1, "vbank") and paid["purchased_at"]
    # a second deposit is refused
    assert bootpay.control("POST", f"/receipts/{issued['receipt_id']}/deposit").status_code == 409


def test_a_deadline_passed_account_takes_no_deposit(bootpay):
    issued = bootpay.pay(price=30000, method="vbank")
    bootpay.control("POST", "/clock", json={"advance_s": 4 * 86400})
    r = bootpay.control("POST", f"/receipts/{issued['receipt_id']}/deposit")
    assert r.status_code == 409 and r.json()["error"]["kind"] == "VBANK_EXPIRED"


# ---------------------------------------------------------------------- cancel
def test_partial_cancels_add_up_and_cannot_exceed_the_price(bootpay):
    rid = bootpay.pay(price=10000)["receipt_id"]
    # a partial cancel: status 20, cancelled_price is the running total
    one = bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 3000, "cancel_id": "c-1"}).json()
    assert (one["status"], one["status_locale"], one["price"], one["cancelled_price"]) == (20, "결제취소완료", 10000, 3000)
    # more than is left: refused, nothing changes
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 7001}), 400,
                 "CANCEL_PRICE_EXCEEDED")
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 0}), 400,
                 "INVALID_CANCEL_PRICE")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 3000
    # no cancel_price (JSON null, as the SDK sends it): the rest
    rest = bootpay.rest("POST", "/cancel", json={
        "receipt_id": rid, "cancel_id": "", "metadata": {}, "cancel_username": "", "cancel_message": "",
        "cancel_price": None, "cancel_tax_free": None, "refund": None, "items": None}).json()
    assert (rest["status"], rest["cancelled_price"]) == (20, 10000) and rest["cancelled_at"]
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid}), 400, "RECEIPT_ALREADY_CANCELLED")
    history = bootpay.control("GET", f"/receipts/{rid}/cancellations").json()
    assert [(c["cancel_id"], c["price"]) for c in history] == [("c-1", 3000), (None, 7000)]


def test_a_repeated_cancel_id_is_refused_and_refunds_nothing(bootpay):
    rid = bootpay.pay(price=10000)["receipt_id"]
    body = {"receipt_id": rid, "cancel_price": 1000, "cancel_id": "refund-42"}
    assert bootpay.rest("POST", "/cancel", json=body).json()["cancelled_price"] == 1000
    assert_error(bootpay.rest("POST", "/cancel", json=body), 409, "CANCEL_ID_DUPLICATED")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 1000
    # an empty cancel_id (the SDK's default) is no id at all
    for _ in range(2):
        bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 1000, "cancel_id": ""})
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 3000


def test_tax_free_cancel_is_bounded(bootpay):
    rid = bootpay.pay(price=10000, tax_free=2000)["receipt_id"]
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 1000, "cancel_tax_free": 1500}),
                 400, "INVALID_CANCEL_TAX_FREE")
    r = bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 3000, "cancel_tax_free": 1500}).json()
    assert (r["cancelled_price"], r["cancelled_tax_free"]) == (3000, 1500)
    full = bootpay.rest("POST", "/cancel", json={"receipt_id": rid}).json()
    assert (full["cancelled_price"], full["cancelled_tax_free"]) == (10000, 2000)


def test_deposited_virtual_account_needs_a_refund_account_and_a_full_cancel(bootpay):
    rid = bootpay.pay(price=30000, method="vbank")["receipt_id"]
    bootpay.deposit(rid)
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid}), 400, "REFUND_ACCOUNT_REQUIRED")
    partial_refund = {"bank_account": "1234567890", "bank_username": "홍길동"}
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "refund": partial_refund}), 400,
                 "REFUND_ACCOUNT_REQUIRED")
    refund = {**partial_refund, "bank_code": "088"}
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 1000, "refund": refund}),
                 400, "PARTIAL_CANCEL_NOT_SUPPORTED")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["status"] == 1
    done = bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "refund": refund, "cancel_message": "환불"}).json()
    assert (done["status"], done["cancelled_price"]) == (20, 30000)
    [entry] = bootpay.control("GET", f"/receipts/{rid}/cancellations").json()
    assert entry["refund"] == refund and entry["message"] == "환불"


def test_bad_cancel_input_is_400(bootpay):
    rid = bootpay.pay()["receipt_id"]
    assert_error(bootpay.rest("POST", "/cancel", content=b"{not json", headers={
        **bootpay.basic(), "Content-Type": "application/json"}), 400, "INVALID_PARAMETER")
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": "1000"}), 400,
                 "INVALID_PARAMETER")
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 10.5}), 400,
                 "INVALID_PARAMETER")
    assert_error(bootpay.rest("POST", "/cancel", json={"cancel_price": 1000}), 400, "INVALID_PARAMETER")
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "refund": "x"}), 400, "INVALID_PARAMETER")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 0


# ---------------------------------------------------------------------- confirm
def test_separately_confirmed_payment_waits_at_2_until_confirm(bootpay):
    rid = bootpay.pay(price=5000, separately_confirmed=True)["receipt_id"]
    waiting = bootpay.rest("GET", f"/receipt/{rid}").json()
    assert (waiting["status"], waiting["status_locale"], waiting["purchased_at"]) == (2, "결제승인대기", None)
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid}), 400, "RECEIPT_NOT_CANCELLABLE")
    confirmed = bootpay.rest("POST", "/confirm", json={"receipt_id": rid}).json()
    assert (confirmed["status"], confirmed["price"]) == (1, 5000) and confirmed["purchased_at"]
    assert_error(bootpay.rest("POST", "/confirm", json={"receipt_id": rid}), 400, "RECEIPT_ALREADY_CONFIRMED")
    vbank = bootpay.pay(method="vbank")["receipt_id"]
    assert_error(bootpay.rest("POST", "/confirm", json={"receipt_id": vbank}), 400, "RECEIPT_NOT_CONFIRMABLE")
    assert_error(bootpay.rest("POST", "/confirm", json={"receipt_id": "0" * 24}), 404, "RECEIPT_NOT_FOUND")


# ---------------------------------------------------------------------- faults and control input
def test_faults_answer_5xx_envelopes_and_can_apply_the_change_first(bootpay):
    rid = bootpay.pay(price=10000)["receipt_id"]
    bootpay.control("PUT", "/faults", json={"error_rate": 1, "error_status": 503, "endpoints": ["POST /v2/cancel"]})
    assert_error(bootpay.rest("POST", "/cancel", json={"receipt_id": rid, "cancel_price": 1000}), 503,
                 "INTERNAL_SERVER_ERROR")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 0  # other endpoints: unaffected
    # the cancel happened, only its answer was lost (what a retry with the same cancel_id must survive)
    bootpay.control("PUT", "/faults", json={"error_rate": 1, "process_before_fault": True, "endpoints": ["POST /v2/cancel"]})
    body = {"receipt_id": rid, "cancel_price": 1000, "cancel_id": "after-timeout"}
    assert bootpay.rest("POST", "/cancel", json=body).status_code == 500
    bootpay.control("DELETE", "/faults")
    assert_error(bootpay.rest("POST", "/cancel", json=body), 409, "CANCEL_ID_DUPLICATED")
    assert bootpay.rest("GET", f"/receipt/{rid}").json()["cancelled_price"] == 1000
    assert bootpay.control("GET", "/stats").json()["POST /v2/cancel"] == 3


def test_timeout_and_malformed_faults(bootpay):
    rid = bootpay.pay()["receipt_id"]
    bootpay.control("PUT", "/faults", json={"timeout_rate": 1, "timeout_s": 0.2})
    assert_error(bootpay.rest("GET", f"/receipt/{rid}"), 504, "GATEWAY_TIMEOUT")
    bootpay.control("PUT", "/faults", json={"malformed_rate": 1})
    r = bootpay.rest("GET", f"/receipt/{rid}")
    assert r.status_code == 200 and r.content.startswith(b"{")
    try:
        r.json()
        raise AssertionError("a cut body parsed")
    except ValueError:
        pass


def test_control_input_is_checked(bootpay):
    for body, word in [({"price": 0}, "price"), ({"price": 100, "method": "phone"}, "method"),
                       ({"price": 100, "surprise": 1}, "unknown"), ({"price": "100"}, "price"),
                       ({"price": 100, "method": "vbank", "separately_confirmed": True}, "separately_confirmed")]:
        r = bootpay.control("POST", "/receipts", json=body)
        assert r.status_code == 400 and word in r.json()["error"]["message"], (body, r.text)
    for body in [{"error_rate": 2}, {"endpoints": ["GET /v2/nothing"]}, {"error_status": 404}, {"nope": 1}]:
        assert bootpay.control("PUT", "/faults", json=body).status_code == 400, body
    assert bootpay.control("GET", "/receipts").json() == []
    assert bootpay.control("GET", "/receipts/nope").status_code == 404
