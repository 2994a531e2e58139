"""Payment ids are unique per provider only (issue 17): a V2 paymentId is chosen by the client and
may equal a V1 imp_uid. Two such payments are two payments, each credited to its own owner.

V1 and V2 are two PortOne sandboxes here (one store keys both versions' ids in one dictionary;
PortOne does not), the API talking to both over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.portone.app import create_app as create_sandbox
from sandbox.portone.config import SandboxConfig
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants
from tests.servers import run_server

CHARGE_V1 = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id impUid amount balance } }"
CHARGE_V2 = "mutation($p: ID!) { createPointTransactionOfLoading(paymentId: $p) { _id impUid amount balance } }"
CANCEL = "mutation($i: ID!, $v: PortOneVersion) { cancelPointTransaction(impUid: $i, version: $v) { amount balance } }"


@pytest.fixture
async def v2_sandbox() -> AsyncIterator[SandboxControl]:
    config = SandboxConfig(webhook_url=None, v2_webhook_url=None)
    with run_server(create_sandbox(config)) as url:
        control = SandboxControl(url, config)
        try:
            yield control
        finally:
            await control.http.aclose()


@pytest.fixture
async def two_users(clean_db: str, sandbox: SandboxControl, v2_sandbox: SandboxControl) -> AsyncIterator[tuple[GQL, GQL]]:
    from api.app import create_app

    settings = api_settings(clean_db, sandbox, portone_v2_base_url=f"{v2_sandbox.base_url}/v2")
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as a, httpx.AsyncClient(base_url=url, timeout=30) as b:
            yield GQL(a), GQL(b)


async def test_a_v1_and_a_v2_payment_with_the_same_id_are_two_payments(
    two_users: tuple[GQL, GQL], sandbox: SandboxControl, v2_sandbox: SandboxControl, clean_db: str
) -> None:
    alice, bob = two_users
    alice_id = await alice.signup_and_login("alice@example.com")
    bob_id = await bob.signup_and_login("bob@example.com")
    # given a V1 payment claimed by Alice, and a V2 payment whose client-chosen id is that imp_uid
    v1 = await sandbox.pay(1000)
    same_id = v1["imp_uid"]
    await v2_sandbox.pay(2000, version="v2", payment_id=same_id)
    assert "errors" not in await alice(CHARGE_V1, {"i": same_id})

    # when Bob claims the V2 payment
    bobs = await bob(CHARGE_V2, {"p": same_id})

    # then it is his, credited to him; Alice's is untouched
    assert "errors" not in bobs, bobs
    assert (bobs["data"]["createPointTransactionOfLoading"]["amount"], bobs["data"]["createPointTransactionOfLoading"]["balance"]) == (2000, 2000)
    assert await ledger_invariants(clean_db) == {alice_id: 1000, bob_id: 2000}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM payments WHERE payment_key = :u", u=same_id) == 2
    # and each claim again answers its own payment, neither claimable by the other user
    assert (await alice(CHARGE_V1, {"i": same_id}))["data"]["createPointTransactionOfLoading"]["amount"] == 1000
    assert error_code(await alice(CHARGE_V2, {"p": same_id})) == "PAYMENT_ALREADY_CLAIMED"

    # and a cancel by id reaches only the caller's own payment
    cancelled = await bob(CANCEL, {"i": same_id, "v": None})
    assert "errors" not in cancelled, cancelled
    assert await ledger_invariants(clean_db) == {alice_id: 1000, bob_id: 0}
    assert (await v2_sandbox.http.get(f"/_control/payments/{same_id}")).json()["status"] == "CANCELLED"
    assert (await sandbox.v1_payment(same_id))["cancel_amount"] == 0


async def test_a_user_with_a_v1_and_a_v2_payment_under_one_id_names_the_version_to_cancel(
    two_users: tuple[GQL, GQL], sandbox: SandboxControl, v2_sandbox: SandboxControl, clean_db: str
) -> None:
    alice, _ = two_users
    alice_id = await alice.signup_and_login("alice@example.com")
    # given Alice's V1 payment and her V2 payment whose client-chosen id is that imp_uid, both credited
    v1 = await sandbox.pay(1000)
    same_id = v1["imp_uid"]
    await v2_sandbox.pay(2000, version="v2", payment_id=same_id)
    assert "errors" not in await alice(CHARGE_V1, {"i": same_id})
    assert "errors" not in await alice(CHARGE_V2, {"p": same_id})

    # when she cancels by the id alone, then she is asked which one, and nothing is held or sent
    ambiguous = await alice(CANCEL, {"i": same_id, "v": None})
    assert error_code(ambiguous) == "BAD_USER_INPUT", ambiguous
    assert ambiguous["errors"][0]["extensions"].get("field") == "version", ambiguous
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests") == 0

    # and naming V2 cancels the V2 payment only
    cancelled = await alice(CANCEL, {"i": same_id, "v": "V2"})
    assert "errors" not in cancelled, cancelled
    assert cancelled["data"]["cancelPointTransaction"] == {"amount": -2000, "balance": 1000}
    assert await ledger_invariants(clean_db) == {alice_id: 1000}
    assert (await v2_sandbox.http.get(f"/_control/payments/{same_id}")).json()["status"] == "CANCELLED"
    assert (await sandbox.v1_payment(same_id))["cancel_amount"] == 0
