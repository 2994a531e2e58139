"""A one-click card charge whose process dies (SIGKILL) mid-attempt. After PortOne charged the card
and before our commit (``card_charge_after_gateway``): the retry finds the payment at PortOne by the
order's merchant_uid and credits it once, without charging the card a second time. After the claim
was committed and before PortOne heard of it (``card_charge_before_gateway``): the retry finds
nothing at PortOne and charges once."""

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


@pytest.mark.parametrize(
    ("crash_at", "at_portone"),
    [("card_charge_after_gateway", ["paid"]), ("card_charge_before_gateway", [])],
)
async def test_killed_mid_charge_then_retry_charges_and_credits_once(
    sandbox: SandboxControl, clean_db: str, crash_at: str, at_portone: list[str]
) -> None:
    # given a registered card and an order, on a server that dies mid-charge
    with serve(server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT=crash_at, **FAST)) as (proc, url):
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
    # then PortOne charged the card (or heard nothing), and nothing of it is ours: no credit, the
    # claim left in flight
    assert [p["status"] for p in await again_payments(sandbox, merchant_uid)] == at_portone
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
    # then the card is charged once in all, and that payment is credited once
    entry = retry["data"]["createPointTransactionOfLoadingWithCard"]
    assert entry["amount"] == 10000 and entry["balance"] == 10000
    assert again["data"]["createPointTransactionOfLoadingWithCard"] == entry
    payments = await again_payments(sandbox, merchant_uid)
    assert [p["status"] for p in payments] == ["paid"] and payments[0]["imp_uid"] == entry["impUid"]
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'paid'") == 1
    # (the retry waited for the dead process's claim to lapse, no longer)
    assert waited < 10
