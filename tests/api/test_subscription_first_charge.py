"""The first month's answer lost (PortOne charged, then answered 500): createPointSubscription says
PORTONE_UNAVAILABLE and the subscription waits (CREATING, shown ACTIVE) until the next click or the
next run looks its merchant_uid up — charged once, credited once, never charged twice."""

from __future__ import annotations

from services.models import utcnow
from tests.api.test_point_subscriptions import CREATE, LIST, card_of, paid_at_portone, run_billing
from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

LOSE_AGAIN = {"error_rate": 1.0, "process_before_fault": True, "endpoints": ["POST /v1/subscribe/payments/again"]}


async def lose_first_answer(api: GQL, sandbox: SandboxControl) -> tuple[str, dict]:
    await api.signup_and_login()
    card_id, _uid = await card_of(api, sandbox)
    await sandbox.faults(**LOSE_AGAIN)
    lost = await api(CREATE, {"c": card_id, "a": 10000})
    await sandbox.clear_faults()
    return card_id, lost


async def test_the_next_click_finds_the_lost_first_charge(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a subscription whose first charge PortOne made but whose answer was lost
    card_id, lost = await lose_first_answer(api, sandbox)
    assert error_code(lost) == "PORTONE_UNAVAILABLE"
    [pending] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert pending["status"] == "ACTIVE" and pending["lastChargedAt"] is None
    assert list((await ledger_invariants(clean_db)).values()) == [0]
    # when the user clicks again (the same card and amount)
    again = await api(CREATE, {"c": card_id, "a": 10000})
    # then the same subscription answers, its first month found at PortOne and credited, not charged again
    sub = again["data"]["createPointSubscription"]
    assert sub["_id"] == pending["_id"] and sub["status"] == "ACTIVE" and sub["lastChargedAt"]
    assert [(p["merchant_uid"], p["status"]) for p in await paid_at_portone(sandbox, "ps_")] == [
        (f"ps_{sub['_id']}_c1_a1", "paid")
    ]
    assert list((await ledger_invariants(clean_db)).values()) == [10000]


async def test_the_runner_settles_a_lost_first_charge(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given the same lost first charge, and no second click
    _card_id, lost = await lose_first_answer(api, sandbox)
    assert error_code(lost) == "PORTONE_UNAVAILABLE"
    # when the runner runs
    assert await run_billing(clean_db, sandbox, utcnow()) == {"claimed": 1, "paid": 1}
    # then the subscription is active, month 1 charged once and credited once, month 2 next
    [sub] = (await api(LIST))["data"]["fetchPointSubscriptions"]
    assert sub["status"] == "ACTIVE" and sub["lastChargedAt"] and sub["nextChargeAt"] > sub["createdAt"]
    assert len(await paid_at_portone(sandbox, "ps_")) == 1
    assert list((await ledger_invariants(clean_db)).values()) == [10000]
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_subscriptions WHERE status = 'ACTIVE' AND cycle = 2") == 1
