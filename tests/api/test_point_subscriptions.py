"""Monthly point subscriptions (정기 충전, issue 25): the API over real HTTP against the PortOne V1
sandbox over real HTTP, and the runner (``BillingRunner.run(at)``, what ``pointcharge billing run
--at`` calls) on the same database. Keys are issued as a browser would (POST /_control/billing-keys);
re-issuing one under the same customer_uid with ``decline: true`` makes that card decline from then on
(PortOne rebinds a reused uid to the newer card)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from api.runtime import runtime
from tests.api.test_payment_cards import CARDS, DELETE, PREPARE_CARD, REGISTER, issue_key, second_user
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants

FIELDS = "_id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt paymentCard { _id }"
CREATE = f"mutation($c: ID!, $a: Int!) {{ createPointSubscription(paymentCardId: $c, amount: $a) {{ {FIELDS} }} }}"
CANCEL = f"mutation($s: ID!) {{ cancelPointSubscription(pointSubscriptionId: $s) {{ {FIELDS} }} }}"
LIST = f"{{ fetchPointSubscriptions {{ {FIELDS} }} }}"


async def card_of(api: GQL, sandbox: SandboxControl, *, decline: bool = False) -> tuple[str, str]:
    """A registered card: (its _id, its customer_uid)."""
    request = (await api(PREPARE_CARD))["data"]["preparePaymentCard"]
    await issue_key(sandbox, request["customerUid"], decline=decline)
    card = (await api(REGISTER, {"u": request["customerUid"]}))["data"]["registerPaymentCard"]
    return card["_id"], request["customerUid"]


async def run_billing(clean_db: str, sandbox: SandboxControl, at: datetime) -> dict[str, int]:
    async with runtime(api_settings(clean_db, sandbox, billing_every=0)) as (services, _db):
        assert services.billing is not None
        return (await services.billing.run(at))["subscriptions"]


async def paid_at_portone(sandbox: SandboxControl, prefix: str) -> list[dict]:
    listed = (await sandbox.http.get("/_control/payments")).json()
    return [p["payment"] for p in listed if str(p["payment"].get("merchant_uid", "")).startswith(prefix)]


def at_(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_subscribe_charges_month_one_then_the_runner_renews_monthly(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a user with a registered card
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    # when they subscribe to 10,000 a month
    created = await api(CREATE, {"c": card_id, "a": 10000})
    sub = created["data"]["createPointSubscription"]
    # then month 1 is charged and credited now, and month 2 is due on the same day next month
    assert sub["status"] == "ACTIVE" and sub["amount"] == 10000 and sub["paymentCard"] == {"_id": card_id}
    assert sub["lastChargedAt"] and sub["lastFailureReason"] is None
    next_at = at_(sub["nextChargeAt"])
    assert 28 <= (next_at - at_(sub["createdAt"])).days <= 31
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    # when the runner runs just before month 2 is due
    assert (await run_billing(clean_db, sandbox, next_at - timedelta(seconds=1))).get("claimed", 0) == 0
    # and at its time, twice
    first = await run_billing(clean_db, sandbox, next_at + timedelta(seconds=1))
    second = await run_billing(clean_db, sandbox, next_at + timedelta(seconds=1))
    # then month 2 is charged once and credited once
    assert first == {"claimed": 1, "paid": 1} and second.get("claimed", 0) == 0
    [after] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert after["status"] == "ACTIVE" and at_(after["nextChargeAt"]) > next_at + timedelta(days=27)
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    payments = await paid_at_portone(sandbox, f"ps_{sub['_id']}_")
    assert sorted(p["merchant_uid"] for p in payments) == [f"ps_{sub['_id']}_c1_a1", f"ps_{sub['_id']}_c2_a1"]
    assert {p["status"] for p in payments} == {"paid"}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'paid'") == 2
    # and the charges show in the user's history like any charge
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status = '충전'") == 2


async def test_a_declined_first_month_leaves_no_subscription(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a card the card company declines
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox, decline=True)
    # when the user subscribes with it
    result = await api(CREATE, {"c": card_id, "a": 10000})
    # then it is CARD_DECLINED with the card company's reason, no points, no live subscription
    assert error_code(result) == "CARD_DECLINED"
    assert result["errors"][0]["extensions"]["failReason"] == "한도초과"
    assert (await api(LIST))["data"]["fetchPointSubscriptions"] == []
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 0
    # and a good card can subscribe right after
    good_id, _ = await card_of(api, sandbox)
    assert (await api(CREATE, {"c": good_id, "a": 10000}))["data"]["createPointSubscription"]["status"] == "ACTIVE"


async def test_declines_are_retried_after_one_then_three_days_then_suspended(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an active subscription whose card starts declining after month 1
    await api.signup_and_login()
    card_id, uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 5000}))["data"]["createPointSubscription"]
    await issue_key(sandbox, uid, decline=True)
    due = at_(sub["nextChargeAt"])
    # when month 2 is run: declined → PAST_DUE, retried a day later
    assert await run_billing(clean_db, sandbox, due) == {"claimed": 1, "declined": 1}
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "PAST_DUE" and state["lastFailureReason"] == "한도초과"
    assert at_(state["nextChargeAt"]) == due + timedelta(days=1)
    # (nothing more before the retry is due)
    assert (await run_billing(clean_db, sandbox, due + timedelta(hours=23))).get("claimed", 0) == 0
    # when attempt 2 is run a day later: declined again, retried three days later
    assert await run_billing(clean_db, sandbox, due + timedelta(days=1)) == {"claimed": 1, "declined": 1}
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "PAST_DUE" and at_(state["nextChargeAt"]) == due + timedelta(days=4)
    # when attempt 3 is declined too
    assert await run_billing(clean_db, sandbox, due + timedelta(days=4)) == {"claimed": 1, "suspended": 1}
    # then the subscription is suspended: no next charge, never run again
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "SUSPENDED" and state["nextChargeAt"] is None and state["lastFailureReason"] == "한도초과"
    assert (await run_billing(clean_db, sandbox, due + timedelta(days=90))).get("claimed", 0) == 0
    # and PortOne saw three attempts of month 2, each under its own merchant_uid, none paid
    month2 = await paid_at_portone(sandbox, f"ps_{sub['_id']}_c2_")
    assert sorted((p["merchant_uid"], p["status"]) for p in month2) == [
        (f"ps_{sub['_id']}_c2_a{n}", "failed") for n in (1, 2, 3)
    ]
    assert list((await ledger_invariants(clean_db)).values()) == [5000]
    # and a suspended subscription holds no slot: the user can subscribe again with another card
    good_id, _ = await card_of(api, sandbox)
    assert (await api(CREATE, {"c": good_id, "a": 5000}))["data"]["createPointSubscription"]["status"] == "ACTIVE"


async def test_a_decline_then_a_paid_retry_goes_back_to_the_monthly_day(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given month 2 declined once
    await api.signup_and_login()
    card_id, uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 5000}))["data"]["createPointSubscription"]
    await issue_key(sandbox, uid, decline=True)
    due = at_(sub["nextChargeAt"])
    await run_billing(clean_db, sandbox, due)
    # when the card works again by the retry
    await issue_key(sandbox, uid)
    assert await run_billing(clean_db, sandbox, due + timedelta(days=1)) == {"claimed": 1, "paid": 1}
    # then it is ACTIVE again, the failure cleared, month 3 due on the billing day (not a day later)
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "ACTIVE" and state["lastFailureReason"] is None
    assert at_(state["nextChargeAt"]).astimezone(due.tzinfo).time() == due.time()
    assert 28 <= (at_(state["nextChargeAt"]) - due).days <= 31
    assert list((await ledger_invariants(clean_db)).values()) == [10000]


async def test_double_click_one_subscription_one_charge(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with a card
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    # when they click subscribe three times at once
    results = await asyncio.gather(*(api(CREATE, {"c": card_id, "a": 10000}) for _ in range(3)))
    # then every click answers the same subscription, charged once
    ids = {r["data"]["createPointSubscription"]["_id"] for r in results}
    assert len(ids) == 1, results
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    assert len(await paid_at_portone(sandbox, "ps_")) == 1
    # and another amount (or card) while it lives is SUBSCRIPTION_EXISTS
    other = await api(CREATE, {"c": card_id, "a": 30000})
    assert error_code(other) == "SUBSCRIPTION_EXISTS"
    assert other["errors"][0]["extensions"]["subscriptionId"] == ids.pop()
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions") == 1


async def test_amount_limits_and_cards_are_checked(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with a card, and another user
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    other = await second_user(api)
    # when subscribing with an amount preparePointCharge refuses, or with someone else's card
    bad_amount = await api(CREATE, {"c": card_id, "a": 1234})
    not_mine = await other(CREATE, {"c": card_id, "a": 10000})
    made_up = await api(CREATE, {"c": "x" * 40, "a": 10000})
    # then nothing is charged
    assert error_code(bad_amount) == "BAD_USER_INPUT"
    assert error_code(not_mine) == "PAYMENT_CARD_NOT_FOUND" and error_code(made_up) == "PAYMENT_CARD_NOT_FOUND"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions") == 0
    assert await paid_at_portone(sandbox, "ps_") == []


async def test_cancel_is_idempotent_and_stops_the_charges(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given an active subscription, and another user
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    other = await second_user(api)
    # when someone else cancels it, or a made-up id
    assert error_code(await other(CANCEL, {"s": sub["_id"]})) == "SUBSCRIPTION_NOT_FOUND"
    assert error_code(await api(CANCEL, {"s": "nope"})) == "SUBSCRIPTION_NOT_FOUND"
    # when its owner cancels it twice
    first = (await api(CANCEL, {"s": sub["_id"]}))["data"]["cancelPointSubscription"]
    second = (await api(CANCEL, {"s": sub["_id"]}))["data"]["cancelPointSubscription"]
    # then it is CANCELLED once (the same answer), and the runner charges it no more
    assert first["status"] == "CANCELLED" and first["nextChargeAt"] is None and first["cancelledAt"]
    assert second == first
    assert (await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]) + timedelta(days=40))).get("claimed", 0) == 0
    assert sorted((await ledger_invariants(clean_db)).values()) == [0, 10000]
    # and the other user's list does not show it
    assert (await other(LIST))["data"]["fetchPointSubscriptions"] == []


async def test_deleting_the_card_cancels_its_live_subscription(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given an active subscription on a card
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    # when the user deletes the card
    assert (await api(DELETE, {"c": card_id}))["data"]["deletePaymentCard"] == card_id
    # then the subscription is cancelled before the key went, shows no card, and is never charged
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "CANCELLED" and state["paymentCard"] is None and state["nextChargeAt"] is None
    assert (await api(CARDS))["data"]["fetchPaymentCards"] == []
    assert (await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]) + timedelta(days=1))).get("claimed", 0) == 0
    assert len(await paid_at_portone(sandbox, "ps_")) == 1
    assert await count_rows(
        clean_db, "SELECT COUNT(*) FROM point_subscriptions WHERE ended_reason = '카드 삭제로 해지'"
    ) == 1


async def test_a_key_deleted_at_portone_suspends_the_subscription(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an active subscription whose key was deleted in PortOne's console
    await api.signup_and_login()
    card_id, uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    token = await sandbox.v1_token()
    gone = await sandbox.http.delete(f"/v1/subscribe/customers/{uid}", headers={"Authorization": token})
    assert gone.status_code == 200, gone.text
    # when month 2 is run
    counts = await run_billing(clean_db, sandbox, at_(sub["nextChargeAt"]))
    # then it is suspended at once (no retries: the key is gone), with PortOne's reason
    assert counts == {"claimed": 1, "suspended": 1}
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "SUSPENDED" and state["nextChargeAt"] is None and state["lastFailureReason"]
    assert len(await paid_at_portone(sandbox, "ps_")) == 1


async def test_portone_unavailable_leaves_the_attempt_open_and_the_next_run_looks_it_up(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an active subscription, and PortOne losing its answer to month 2's charge (it charges,
    # then answers 500)
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    due = at_(sub["nextChargeAt"])
    await sandbox.faults(error_rate=1.0, process_before_fault=True, endpoints=["POST /v1/subscribe/payments/again"])
    # when the runner runs
    counts = await run_billing(clean_db, sandbox, due)
    # then the attempt is unknown, the subscription unchanged (still due), nothing credited
    assert counts == {"claimed": 1, "unknown": 1}
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscription_attempts WHERE state = 'unknown'") == 1
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert state["status"] == "ACTIVE" and at_(state["nextChargeAt"]) == due
    # when PortOne is back and the runner runs again
    await sandbox.clear_faults()
    assert await run_billing(clean_db, sandbox, due) == {"claimed": 1, "paid": 1}
    # then month 2 was charged once in all: the lost payment was found by its merchant_uid and credited
    month2 = await paid_at_portone(sandbox, f"ps_{sub['_id']}_c2_")
    assert [(p["merchant_uid"], p["status"]) for p in month2] == [(f"ps_{sub['_id']}_c2_a1", "paid")]
    assert list((await ledger_invariants(clean_db)).values()) == [20000]


async def test_a_run_months_late_charges_one_cycle_not_the_arrears(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given an active subscription, and no runner for three months
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    sub = (await api(CREATE, {"c": card_id, "a": 10000}))["data"]["createPointSubscription"]
    late = at_(sub["nextChargeAt"]) + timedelta(days=70)
    # when the runner finally runs, twice
    assert await run_billing(clean_db, sandbox, late) == {"claimed": 1, "paid": 1}
    assert (await run_billing(clean_db, sandbox, late)).get("claimed", 0) == 0
    # then one month is charged, and the next is the first billing day after the run
    [state] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert late < at_(state["nextChargeAt"]) <= late + timedelta(days=31)
    assert list((await ledger_invariants(clean_db)).values()) == [20000]
    assert len(await paid_at_portone(sandbox, f"ps_{sub['_id']}_")) == 2
