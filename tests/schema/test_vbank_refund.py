"""Refunding a deposited virtual account (issue 17): cancelPointTransaction takes the buyer's refund
account, checks it before PortOne is called, passes it to PortOne (V1 refund_* fields, V2
refundAccount through the official SDK) and neither stores nor logs it. API and sandbox over HTTP."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import GQL, SandboxControl, count_rows, ledger_invariants

PREPARE = "mutation($a: Int!, $v: PortOneVersion!) { preparePointCharge(amount: $a, version: $v) { merchantUid } }"
CHARGE_V1 = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { amount balance } }"
CHARGE_V2 = "mutation($i: ID!) { createPointTransactionOfLoading(paymentId: $i) { amount balance } }"
CANCEL = """mutation($i: ID!, $a: Int, $r: RefundAccountInput) {
  cancelPointTransaction(impUid: $i, amount: $a, refundAccount: $r) { amount balance status }
}"""
NUMBER, HOLDER, TEL = "110-4321-987654", "홍길동", "010-2345-6789"
ACCOUNT = {"bank": "088", "number": NUMBER, "holder": HOLDER, "tel": TEL}
SECRETS = ("1104321987654", NUMBER, HOLDER, "01023456789")


async def deposited_vbank(api: GQL, sandbox: SandboxControl, version: str) -> str:
    """A 10,000 KRW order paid into a virtual account and credited; returns its PortOne id."""
    order = (await api(PREPARE, {"a": 10000, "v": version}))["data"]["preparePointCharge"]["merchantUid"]
    if version == "V1":
        key = (await sandbox.pay(10000, merchant_uid=order, pay_method="vbank", outcome="ready"))["imp_uid"]
    else:
        key = (await sandbox.pay(10000, version="v2", payment_id=order, pay_method="vbank", outcome="ready"))["id"]
    await sandbox.deposit(key, webhook=False)
    charged = await api(CHARGE_V1 if version == "V1" else CHARGE_V2, {"i": key})
    assert charged["data"]["createPointTransactionOfLoading"] == {"amount": 10000, "balance": 10000}, charged
    return key


async def console(sandbox: SandboxControl, key: str) -> list[dict]:
    return (await sandbox.http.get(f"/_control/payments/{key}/cancellations")).json()


async def cancelled_at_portone(sandbox: SandboxControl, key: str) -> int:
    return sum(c["amount"] for c in await console(sandbox, key))


@pytest.mark.parametrize(("version", "bank_at_portone"), [("V1", "088"), ("V2", "SHINHAN")])
async def test_deposited_vbank_is_refunded_in_two_parts_to_the_refund_account(
    api: GQL, sandbox: SandboxControl, clean_db: str, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str], version: str, bank_at_portone: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    user_id = await api.signup_and_login()
    key = await deposited_vbank(api, sandbox, version)

    # when 5,000 is cancelled with a refund account
    part = await api(CANCEL, {"i": key, "a": 5000, "r": ACCOUNT})

    # then PortOne shows a partial cancel to that account, and the points follow
    assert part["data"]["cancelPointTransaction"] == {"amount": -5000, "balance": 5000, "status": "취소"}, part
    shown = await console(sandbox, key)
    assert [(c["amount"], c["refund_bank"], c["refund_account"], c["refund_holder"], c["refund_tel"]) for c in shown] == [
        (5000, bank_at_portone, "1104321987654", HOLDER, "01023456789")
    ]

    # when the rest is cancelled
    rest = await api(CANCEL, {"i": key, "r": ACCOUNT})

    # then the whole payment is refunded and the balance is back to zero
    assert rest["data"]["cancelPointTransaction"]["balance"] == 0, rest
    assert await cancelled_at_portone(sandbox, key) == 10000
    assert await ledger_invariants(clean_db) == {user_id: 0}

    # and the refund account is nowhere in our logs or our database
    logged = caplog.text + "".join(capfd.readouterr())
    stored = await _everything_stored(clean_db)
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} logged"
        assert secret not in stored, f"{secret!r} stored"


@pytest.mark.parametrize("version", ["V1", "V2"])
@pytest.mark.parametrize(
    ("account", "field"),
    [
        (None, "refundAccount"),
        ({**ACCOUNT, "bank": "999"}, "refundAccount.bank"),
        ({**ACCOUNT, "bank": "SAMSUNG_SECURITIES"}, "refundAccount.bank"),
        ({**ACCOUNT, "number": "110-4321-98765x"}, "refundAccount.number"),
        ({**ACCOUNT, "number": "12345"}, "refundAccount.number"),
        ({**ACCOUNT, "holder": "  "}, "refundAccount.holder"),
    ],
)
async def test_missing_or_invalid_refund_account_changes_nothing(
    api: GQL, sandbox: SandboxControl, clean_db: str, version: str, account: dict | None, field: str
) -> None:
    user_id = await api.signup_and_login()
    key = await deposited_vbank(api, sandbox, version)
    calls = await sandbox.stats()

    # when a cancel comes without a usable refund account
    result = await api(CANCEL, {"i": key, "a": 5000, "r": account})

    # then a clear error names the field…
    error = result["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    if account is None:
        assert error["message"] == "환불 계좌를 입력해 주세요."
    # …and nothing changed: PortOne was not called, nothing was recorded, no points moved
    assert await sandbox.stats() == calls
    assert await cancelled_at_portone(sandbox, key) == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests") == 0
    assert await ledger_invariants(clean_db) == {user_id: 10000}


async def test_card_cancel_needs_no_refund_account(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    await api(CHARGE_V1, {"i": paid["imp_uid"]})
    result = await api(CANCEL, {"i": paid["imp_uid"]})
    assert result["data"]["cancelPointTransaction"]["balance"] == 0, result
    # and a refund account sent anyway is not passed on for a card payment
    assert [c["refund_account"] for c in await console(sandbox, paid["imp_uid"])] == [None]


async def _everything_stored(url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import SQLModel

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            dump = []
            for table in SQLModel.metadata.sorted_tables:
                dump.extend(str(tuple(row)) for row in await conn.execute(text(f"SELECT * FROM {table.name}")))
    finally:
        await engine.dispose()
    return "\n".join(dump)
