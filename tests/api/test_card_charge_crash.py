"""A one-click card charge whose process dies after PortOne charged the card and before our commit
(SIGKILL at crash point ``card_charge_after_gateway``): the retry finds the payment at PortOne by the
order's merchant_uid and credits it once, without charging the card a second time."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.api.test_crash import serve, server_env
from tests.api.test_payment_cards import CHARGE, PREPARE, PREPARE_CARD, REGISTER, again_payments, issue_key
from tests.conftest import GQL, SandboxControl, count_rows, ledger_invariants

# The claim on an order lasts max(lease, 3 × PortOne timeout): 3 s here, so the retry waits little.
FAST = {"POINTCHARGE_PORTONE_TIMEOUT_S": "1", "POINTCHARGE_BILLING_CHARGE_LEASE_S": "1"}


async def test_killed_after_portone_charged_then_retry_credits_once(sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered card and an order, on a server that dies once PortOne has answered
    with serve(server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT="card_charge_after_gateway", **FAST)) as (proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            gql = GQL(http)
            await gql.signup_and_login()
            request = (await gql(PREPARE_CARD))["data"]["preparePaymentCard"]
            await issue_key(sandbox, request["customerUid"])
            card_id = (await gql(REGISTER, {"u": request["customerUid"]}))["data"]["registerPaymentCard"]["_id"]
            merchant_uid = (await gql(PREPARE, {"a": 10000}))["data"]["preparePointCharge"]["merchantUid"]
            # when the charge is sent
            with pytest.raises(httpx.TransportError):
                await http.post("/graphql", json={"query": CHARGE, "variables": {"c": card_id, "m": merchant_uid}},
                                headers={"Authorization": f"Bearer {gql.token}"})
            assert proc.wait(10) == -signal.SIGKILL
    # then PortOne charged the card, and nothing of it is ours: no credit, the claim left in flight
    assert [p["status"] for p in await again_payments(sandbox, merchant_uid)] == ["paid"]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'charging'") == 1

    # when the user retries on the restarted server (the same login), twice
    with serve(server_env(clean_db, sandbox, **FAST)) as (_proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            gql.client = http
            started = time.monotonic()
            retry = await gql(CHARGE, {"c": card_id, "m": merchant_uid})
            waited = time.monotonic() - started
            again = await gql(CHARGE, {"c": card_id, "m": merchant_uid})
    # then the payment PortOne made is credited once, and the card was not charged again
    entry = retry["data"]["createPointTransactionOfLoadingWithCard"]
    assert entry["amount"] == 10000 and entry["balance"] == 10000
    assert again["data"]["createPointTransactionOfLoadingWithCard"] == entry
    payments = await again_payments(sandbox, merchant_uid)
    assert [p["status"] for p in payments] == ["paid"] and payments[0]["imp_uid"] == entry["impUid"]
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'paid'") == 1
    # (the retry waited for the dead process's claim to lapse, no longer)
    assert waited < 10
