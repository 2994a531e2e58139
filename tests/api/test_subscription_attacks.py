"""Adversarial checks of subscriptions, auto top-up and cards (issue 25 review): someone else's ids,
amounts, racing clicks, a cancel or a card deletion while the runner charges, the balance cap, and
malformed ids — over real HTTP against the PortOne V1 sandbox."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from api.app import create_app
from tests.api.test_payment_cards import CARDS, DELETE, second_user
from tests.api.test_point_subscriptions import CANCEL, CREATE, LIST, at_, card_of, paid_at_portone, run_billing
from tests.api.topup_shop import FETCH, SET, topup_settings
from tests.api.test_subscriptions_other_gateways import run_billing as run_with
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants
from tests.sandbox.bootpay import Bootpay, bootpay, bootpay_session  # noqa: F401 - fixtures
from tests.schema.bootpay_api import bootpay_settings
from tests.servers import run_server

AGAIN = "POST /v1/subscribe/payments/again"


async def charging_cycle_two(clean_db: str) -> None:
    """Waits until the runner has recorded month 2's attempt (committed before PortOne is asked)."""
    for _ in range(300):
        if await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE cycle = 2") == 1:
            await asyncio.sleep(0.2)  # the request is on its way to the (slow) sandbox
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the runner never started month 2")


def clean_error(result: dict) -> str:
    """A GraphQL error with a stable code and a message that is not the masked 500."""
    [error] = result["errors"]
    code = error.get("extensions", {}).get("code")
    assert code and code not in ("INTERNAL_SERVER_ERROR", "INTERNAL_ERROR"), result
    return code


async def test_someone_elses_ids_in_every_mutation_and_list(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with a card, a subscription and auto top-up settings (the switch on), and another user
    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    other = await second_user(api)
    # when the other user uses them
    mine = await other(CREATE, {"c": card_id, "a": 10000})
    cancel = await other(CANCEL, {"s": sub["_id"]})
    delete = await other(DELETE, {"c": card_id})
    # then all are "not found" (Korean messages), and nothing changed
    assert error_code(mine) == error_code(delete) == "PAYMENT_CARD_NOT_FOUND"
    assert error_code(cancel) == "SUBSCRIPTION_NOT_FOUND"
    for result in (mine, cancel, delete):
        assert any("\uac00" <= ch <= "\ud7a3" for ch in result["errors"][0]["message"]), result
    assert (await api(LIST))["data"]["fetchPointSubscriptions"][0]["status"] == "ACTIVE"
    # and their lists show none of it
    assert (await other(LIST))["data"]["fetchPointSubscriptions"] == []
    assert (await other(CARDS))["data"]["fetchPaymentCards"] == []
    assert len(await paid_at_portone(sandbox, "ps_")) == 1


async def test_auto_top_up_with_someone_elses_card(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(topup_settings(clean_db, sandbox))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _ = await card_of(api, sandbox)
            other = await second_user(api)
            # when the other user points their auto top-up at the first user's card
            taken = await other(SET, {"c": card_id, "t": 1000, "a": 10000, "l": 50000, "e": True})
            # then PAYMENT_CARD_NOT_FOUND, and they have no settings
            assert error_code(taken) == "PAYMENT_CARD_NOT_FOUND"
            assert (await other(FETCH))["data"]["fetchPointAutoTopUp"] is None
            # and amounts: 0, negative, not a package, past the cap, past Int are clean errors
            for amount in (0, -10000, 1234, 2_000_000_000):
                got = await api(SET, {"c": card_id, "t": 1000, "a": amount, "l": 2_100_000_000, "e": True})
                assert clean_error(got) == "BAD_USER_INPUT", (amount, got)
            assert "errors" in await api(SET, {"c": card_id, "t": 0, "a": 2**31, "l": 2**31, "e": True})


async def test_amounts_are_validated(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    for amount in (0, -10000, 1234, 2_000_000_000, 2**31 - 1):
        got = await api(CREATE, {"c": card_id, "a": amount})
        assert clean_error(got) == "BAD_USER_INPUT", (amount, got)
        assert got["errors"][0]["extensions"].get("field") == "amount"
    assert "errors" in await api(CREATE, {"c": card_id, "a": 2**31})
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions") == 0
    assert (await sandbox.stats()).get(AGAIN, 0) == 0


async def test_ten_concurrent_clicks_one_subscription_one_charge(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    await sandbox.faults(latency_ms=300, endpoints=[AGAIN])
    results = await asyncio.gather(*(api(CREATE, {"c": card_id, "a": 10000}) for _ in range(10)))
    await sandbox.clear_faults()
    answered = {r["data"]["createPointSubscription"]["_id"] for r in results if r.get("data")}
    refused = [clean_error(r) for r in results if r.get("errors")]
    assert len(answered) == 1 and set(refused) <= {"RATE_LIMITED", "CARD_CHARGE_IN_PROGRESS"}, results
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions") == 1
    # one payment at PortOne (a click whose answer timed out under load may resend the same
    # merchant_uid after looking it up: PortOne refuses a paid one), credited once
    payments = await paid_at_portone(sandbox, "ps_")
    assert [p["status"] for p in payments if p["status"] == "paid"] == ["paid"], payments
    assert {p["merchant_uid"] for p in payments} == {f"ps_{answered.pop()}_c1_a1"}, payments
    assert list((await ledger_invariants(clean_db)).values()) == [10000]


async def test_cancel_while_the_runner_charges(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a subscription whose month 2 is being charged (PortOne slow)
    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = at_(sub["nextChargeAt"])
    await sandbox.faults(latency_ms=1500, endpoints=[AGAIN])
    run = asyncio.create_task(run_billing(clean_db, sandbox, due))
    await charging_cycle_two(clean_db)
    # when the user cancels meanwhile
    cancelled = (await api(CANCEL, {"s": sub["_id"]}))["data"]["cancelPointSubscription"]
    counts = await run
    await sandbox.clear_faults()
    # then the charge in flight is credited once, the subscription stays cancelled, nothing more runs
    assert cancelled["status"] == "CANCELLED"
    assert counts == {"claimed": 1, "paid": 1}
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "CANCELLED" and state["nextChargeAt"] is None
    paid = [p for p in await paid_at_portone(sandbox, "ps_") if p["status"] == "paid"]
    assert list((await ledger_invariants(clean_db)).values()) == [10000 * len(paid)] and len(paid) == 2
    assert (await run_billing(clean_db, sandbox, due + timedelta(days=40))).get("claimed", 0) == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions WHERE lease_token IS NOT NULL") == 0


async def test_card_deleted_while_its_cycle_is_charged(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = at_(sub["nextChargeAt"])
    await sandbox.faults(latency_ms=1500, endpoints=[AGAIN])
    run = asyncio.create_task(run_billing(clean_db, sandbox, due))
    await charging_cycle_two(clean_db)
    deleted = await api(DELETE, {"c": card_id})
    await run
    await sandbox.clear_faults()
    # then the card is gone, the subscription cancelled, and every paid payment is credited (none lost)
    assert deleted["data"]["deletePaymentCard"] == card_id
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "CANCELLED" and state["paymentCard"] is None
    paid = [p for p in await paid_at_portone(sandbox, "ps_") if p["status"] == "paid"]
    assert list((await ledger_invariants(clean_db)).values()) == [10000 * len(paid)]
    assert (await run_billing(clean_db, sandbox, due + timedelta(days=40))).get("claimed", 0) == 0


async def test_renewal_past_the_balance_cap_is_refunded(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(api_settings(clean_db, sandbox, balance_max=15000))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _ = await card_of(api, sandbox)
            sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
            # when month 2 would take the balance past the cap
            counts = await run_with(clean_db, sandbox, at_(sub["nextChargeAt"]), balance_max=15000)
            # then it is charged, not credited, and refunded at PortOne; the subscription says why
            payments = {p["merchant_uid"]: p for p in await paid_at_portone(sandbox, "ps_")}
            month2 = payments[f"ps_{sub['_id']}_c2_a1"]
            assert month2["status"] == "cancelled" and month2["cancel_amount"] == 10000, month2
            assert list((await ledger_invariants(clean_db)).values()) == [10000]
            [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
            assert counts == {"claimed": 1, "suspended": 1}, counts
            assert state["status"] == "SUSPENDED" and "한도" in (state["lastFailureReason"] or ""), state


async def test_first_month_past_the_balance_cap_is_refunded(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(api_settings(clean_db, sandbox, balance_max=5000))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _ = await card_of(api, sandbox)
            got = await api(CREATE, {"c": card_id, "a": 10000})
            assert clean_error(got) == "BALANCE_LIMIT_EXCEEDED"
            assert (await api(LIST))["data"]["fetchPointSubscriptions"] == []
            [payment] = await paid_at_portone(sandbox, "ps_")
            assert payment["status"] == "cancelled" and payment["cancel_amount"] == 10000
            assert list((await ledger_invariants(clean_db)).values()) in ([], [0])


BAD_IDS = ["x" * 20000, "카드" * 30, "\x00", "abc\x00def", "\n\t", "0123456789abcdef0123\x00", "' OR 1=1 --", "\u202e" * 5]


async def test_malformed_ids_are_clean_errors(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    await api.signup_and_login()
    calls = [
        (CREATE, lambda bad: {"c": bad, "a": 10000}),
        (CANCEL, lambda bad: {"s": bad}),
        (DELETE, lambda bad: {"c": bad}),
        ("mutation($u: ID) { registerPaymentCard(customerUid: $u) { _id } }", lambda bad: {"u": bad}),
        ("mutation($u: ID) { registerPaymentCard(billingKey: $u) { _id } }", lambda bad: {"u": bad}),
        ("mutation($u: ID) { registerPaymentCard(receiptId: $u) { _id } }", lambda bad: {"u": bad}),
        ("mutation($c: ID!, $m: String!) { createPointTransactionOfLoadingWithCard(paymentCardId: $c, merchantUid: $m)"
         " { _id } }", lambda bad: {"c": bad, "m": bad}),
    ]
    for query, variables in calls:
        for bad in BAD_IDS:
            clean_error(await api(query, variables(bad)))


async def test_double_click_past_the_balance_cap_answers_the_cap_to_both(clean_db: str, sandbox: SandboxControl) -> None:
    with run_server(create_app(api_settings(clean_db, sandbox, balance_max=5000))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _ = await card_of(api, sandbox)
            # when two clicks subscribe at once past the cap (PortOne slow: the second waits on the first)
            await sandbox.faults(latency_ms=800, endpoints=[AGAIN])
            clicks = await asyncio.gather(*(api(CREATE, {"c": card_id, "a": 10000}) for _ in range(2)))
            await sandbox.clear_faults()
            # then both say the balance cap (the one charge refunded), not "delete and register the card again"
            assert [clean_error(c) for c in clicks] == ["BALANCE_LIMIT_EXCEEDED"] * 2, clicks
            assert all(c["errors"][0]["extensions"].get("balanceMax") == 5000 for c in clicks), clicks
            [payment] = await paid_at_portone(sandbox, "ps_")
            assert payment["status"] == "cancelled"


async def test_billing_run_cli_at_past_future_and_garbage(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    import json
    import subprocess
    import sys

    from tests.api.test_crash import ROOT, server_env

    await api.signup_and_login()
    card_id, _ = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    env = server_env(clean_db, sandbox, POINTCHARGE_LOG_LEVEL="warning")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "billing", "run", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    # garbage --at: exit 2 and a clear line, nothing charged
    bad = cli("--at", "next tuesday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
    # --at in the past (naive: UTC): nothing due
    past = cli("--at", "2000-01-01T00:00:00", "--json")
    assert past.returncode == 0 and json.loads(past.stdout)["subscriptions"].get("claimed", 0) == 0
    # --at months ahead: one cycle (not the arrears), then nothing until the next billing day after it
    ahead = at_(sub["nextChargeAt"]) + timedelta(days=75)
    first = cli("--at", ahead.isoformat(), "--json")
    again = cli("--at", ahead.isoformat(), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["subscriptions"] == {"claimed": 1, "paid": 1}
    assert json.loads(again.stdout)["subscriptions"].get("claimed", 0) == 0
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert at_(state["nextChargeAt"]) > ahead


async def test_malformed_ids_with_every_gateway_and_auto_top_up_on(
    clean_db: str, sandbox: SandboxControl, bootpay: Bootpay
) -> None:
    settings = topup_settings(clean_db, sandbox, **bootpay_settings(bootpay))
    with run_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            for bad in BAD_IDS:
                for query, variables in (
                    ("mutation($u: ID) { registerPaymentCard(receiptId: $u) { _id } }", {"u": bad}),
                    ("mutation($u: ID) { registerPaymentCard(billingKey: $u) { _id } }", {"u": bad}),
                    (SET, {"c": bad, "t": 1000, "a": 10000, "l": 50000, "e": True}),
                    (CREATE, {"c": bad, "a": 10000}),
                ):
                    clean_error(await api(query, variables))


async def test_a_failed_refund_past_the_cap_is_refunded_by_reconcile(clean_db: str, sandbox: SandboxControl) -> None:
    from api.runtime import runtime
    from services.reconcile import Reconciler

    with run_server(create_app(api_settings(clean_db, sandbox, balance_max=15000))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            card_id, _ = await card_of(api, sandbox)
            sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = at_(sub["nextChargeAt"])
    # given month 2 past the cap, and PortOne refusing the automatic refund
    await sandbox.faults(error_rate=1.0, endpoints=["POST /v1/payments/cancel"])
    await run_with(clean_db, sandbox, due, balance_max=15000)
    await sandbox.clear_faults()
    month2 = {p["merchant_uid"]: p for p in await paid_at_portone(sandbox, "ps_")}[f"ps_{sub['_id']}_c2_a1"]
    assert month2["status"] == "paid"  # the money is at PortOne, not credited: not lost as long as someone refunds it
    # when reconcile runs
    async with runtime(api_settings(clean_db, sandbox, balance_max=15000)) as (services, db):
        await Reconciler(db, services.charging, services.webhooks, stale_after=timedelta(0),
                         extra_checks=services.reconcile_checks()).run(since=due - timedelta(days=40), apply=True)
    # then it is refunded, never credited
    month2 = {p["merchant_uid"]: p for p in await paid_at_portone(sandbox, "ps_")}[f"ps_{sub['_id']}_c2_a1"]
    assert month2["status"] == "cancelled", month2
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
