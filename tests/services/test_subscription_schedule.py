"""When a subscription's cycles fall due: the billing day (KST) kept from the first charge, clamped
to each month's end, never drifting after a short month; and the attempts' merchant_uids."""

from __future__ import annotations

from datetime import UTC, datetime

from services.billing.subscription_claims import KST, billing_day_of, due_at, order_key_of
from services.models import new_subscription_id


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=KST)


def test_the_31st_clamps_to_each_months_end_and_comes_back() -> None:
    # given a first charge on 31 January, 10:00 KST
    anchor = kst(2027, 1, 31, 10, 0)
    day = billing_day_of(anchor)
    # when the next cycles fall due
    dues = [due_at(anchor, day, cycle).astimezone(KST) for cycle in range(1, 6)]
    # then February's is its last day, and March is the 31st again (the anchor day is kept)
    assert [(d.month, d.day, d.hour) for d in dues] == [(1, 31, 10), (2, 28, 10), (3, 31, 10), (4, 30, 10), (5, 31, 10)]


def test_leap_february_and_the_year_turn() -> None:
    anchor = kst(2027, 12, 30, 9, 30)
    dues = [due_at(anchor, billing_day_of(anchor), cycle).astimezone(KST) for cycle in (1, 2, 3, 14)]
    assert [(d.year, d.month, d.day) for d in dues] == [(2027, 12, 30), (2028, 1, 30), (2028, 2, 29), (2029, 1, 30)]


def test_the_billing_day_is_the_korean_calendar_day() -> None:
    # given a first charge at 1 February 08:00 KST, which is still 31 January in UTC
    anchor = datetime(2027, 1, 31, 23, 0, tzinfo=UTC)
    # then the billing day is the 1st (what the user saw), and month 2 is 1 March 08:00 KST
    assert billing_day_of(anchor) == 1
    assert due_at(anchor, 1, 2) == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)


def test_merchant_uids_fit_portone_v1() -> None:
    sub_id = new_subscription_id()
    key = order_key_of(sub_id, 999, 3)
    assert key == f"ps_{sub_id}_c999_a3" and len(key) <= 40
    assert len(order_key_of(sub_id, 10**9, 3)) <= 40
