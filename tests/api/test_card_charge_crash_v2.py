"""A one-click V2 card charge whose process dies (SIGKILL) after PortOne charged the card and before
our commit (``card_charge_after_gateway``): the retry on a restarted server finds the payment under
the order's paymentId and credits it once, without a second ``POST /payments/{id}/billing-key``."""

from __future__ import annotations

import signal

import httpx
import pytest

from tests.api.test_card_charge_crash import FAST
from tests.api.test_crash import serve, server_env
from tests.api.test_payment_cards_v2 import CHARGE, PREPARE_CARD, PREPARE_V2, REGISTER, issue_in_browser, pay_calls, portone
from tests.conftest import GQL, SandboxControl, count_rows, ledger_invariants


async def test_killed_after_portone_charged_then_retry_credits_once(sandbox: SandboxControl, clean_db: str) -> None:
    # given a registered V2 card and a V2 order, on a server that dies right after PortOne charged
    with serve(server_env(clean_db, sandbox, POINTCHARGE_CRASH_AT="card_charge_after_gateway", **FAST)) as (proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            gql = GQL(http)
            await gql.signup_and_login()
            request = (await gql(PREPARE_CARD))["data"]["preparePaymentCard"]
            key = await issue_in_browser(sandbox, request)
            card_id = (await gql(REGISTER, {"k": key}))["data"]["registerPaymentCard"]["_id"]
            payment_id = (await gql(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]["merchantUid"]
            # when the charge is sent
            with pytest.raises(httpx.TransportError):
                await http.post("/graphql", json={"query": CHARGE, "variables": {"c": card_id, "m": payment_id}},
                                headers={"Authorization": f"Bearer {gql.token}"})
            assert proc.wait(10) == -signal.SIGKILL
    # then PortOne holds the paid payment and nothing of it is ours; the claim is left in flight
    assert (await portone(sandbox, "GET", f"/payments/{payment_id}"))["status"] == "PAID"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'charging'") == 1

    # when the user retries on the restarted server, twice
    with serve(server_env(clean_db, sandbox, **FAST)) as (_proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            gql.client = http
            retry = await gql(CHARGE, {"c": card_id, "m": payment_id})
            again = await gql(CHARGE, {"c": card_id, "m": payment_id})
    # then the card was charged once in all, and that payment is credited once
    entry = retry["data"]["createPointTransactionOfLoadingWithCard"]
    assert (entry["amount"], entry["balance"], entry["impUid"]) == (10000, 10000, payment_id)
    assert again["data"]["createPointTransactionOfLoadingWithCard"] == entry
    assert await pay_calls(sandbox) == 1
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM card_charges WHERE state = 'paid'") == 1
