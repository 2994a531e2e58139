"""The lean first-credit path: the common first sighting of a payment attempt — paid in full by
card (or any method without a virtual account), never recorded before — credited in one
transaction of five statements on the driver connection.

It writes exactly the rows the general path (services/sync.py) writes for that case (the attempt,
its event, the balance, the ledger entry; tests/services/test_charging_lean.py compares them),
takes the locks in the same order (the new attempt row, then the balance row), and hands over —
rolled back, returning None — whenever anything is unusual (an attempt already recorded, another
user's order, an amount that is not the order's…); the general path then decides. Exactly-once
still rests on the unique keys and the ``credited_at IS NULL`` guard. The rules it applies are
services/credit.py's, the same the general path applies.

On PostgreSQL the write is one statement instead of a transaction of six (``_CREDIT_AT_ONCE``,
data-modifying CTEs): every statement is a round trip there and most of a charge's driver CPU
(docs/PERFORMANCE.md), and a single statement in autocommit is atomic by itself. The order is read
before it, in autocommit too: orders are never updated. The same rows, the same keys, the same
hand-over (nothing written, None returned) when the attempt is recorded already or the owner has
no balance row; a unique key another sync took first fails the statement as a whole, and so does a
credit past the balance cap (the balance UPDATE, conditional on it after its row lock, returns
nothing, and the entry's NOT NULL balance refuses the row): the general path refuses and refunds it.
"""

from __future__ import annotations

from typing import Any

from services import credit, ledger, payment_state as st
from services.db import RawConnection
from services.faults import crash_point
from services.models import Payment, PointTransaction, UTCDateTime, detached, new_id, utcnow
from services.gateways.base import GatewayPayment

# Driver SQL: $n placeholders (services.db.RawConnection).


def _columns(model: Any) -> tuple[tuple[str, bool], ...]:
    """(column, is a UTC time) for every column of ``model``'s table, in the table's order."""
    return tuple((c.name, isinstance(c.type, UTCDateTime)) for c in model.__table__.columns)


_PAYMENT_COLUMNS = _columns(Payment)
_ENTRY_COLUMNS = _columns(PointTransaction)
# A recorded attempt and its credit entry (the entry's unique key is credit.charge_key's), one
# statement in autocommit: the duplicate fast path of a claim, webhook or redirect reads no more.
_RECORDED_ROWS = (
    "SELECT "
    + ", ".join(f"p.{name}" for name, _ in _PAYMENT_COLUMNS)
    + ", "
    + ", ".join(f"e.{name}" for name, _ in _ENTRY_COLUMNS)
    + " FROM payments p LEFT JOIN point_transactions e ON e.entry_key = $3 || p.id"
    " WHERE p.payment_key = $1 AND p.provider = $2"
)
# credit.charge_key is this prefix and the attempt's id: the join is on the same key the credit wrote.
_CHARGE_KEY_PREFIX = credit.charge_key("")
assert credit.charge_key("x") == _CHARGE_KEY_PREFIX + "x"


def _values(raw: RawConnection, columns: tuple[tuple[str, bool], ...], row: Any) -> dict[str, Any]:
    return {name: raw.read_time(value) if is_time else value for (name, is_time), value in zip(columns, row)}


async def load_recorded(
    raw: RawConnection, payment_key: str, provider: str
) -> tuple[Payment, PointTransaction | None] | None:
    """The attempt recorded under ``payment_key`` and its credit entry (None until credited), as
    the ORM would load them, from one driver statement."""
    rows = await raw.fetch(_RECORDED_ROWS, payment_key, provider, _CHARGE_KEY_PREFIX)
    if not rows:
        return None
    row, split = rows[0], len(_PAYMENT_COLUMNS)
    payment = detached(Payment, **_values(raw, _PAYMENT_COLUMNS, row[:split]))
    entry = None
    if payment.credited_at is not None and row[split] is not None:
        entry = detached(PointTransaction, **_values(raw, _ENTRY_COLUMNS, row[split:]))
    return payment, entry


# Orders are never updated: read without a lock.
_ORDER = "SELECT id, user_id, amount FROM orders WHERE provider = $1 AND order_key = $2"
# A recorded attempt conflicts on (provider, payment_key): nothing is inserted and the general path takes it.
_INSERT_PAYMENT = (
    "INSERT INTO payments (id, payment_key, user_id, amount, cancelled_amount, credited_amount, currency,"
    " pay_method, pg_provider, status, snapshot, credited_at, paid_at, updated_at, provider, order_key,"
    " created_at, order_id, order_amount)"
    " VALUES ($1, $2, $3, $4, 0, $4, $5, $6, $7, 'paid', $8, $9, $10, $9, $11, $12, $9, $13, $14)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_EVENT = (
    "INSERT INTO payment_events (id, payment_id, from_status, to_status, source, detail, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# PostgreSQL: the attempt, its event, the balance and the entry in one statement. Every parameter
# is cast (an INSERT … SELECT does not type them from the target columns); ``::text`` into a
# varchar(n) column still refuses an over-long value, as the plain INSERT does.
_CREDIT_AT_ONCE = (
    "WITH p AS (INSERT INTO payments (id, payment_key, user_id, amount, cancelled_amount, credited_amount,"
    " currency, pay_method, pg_provider, status, snapshot, credited_at, paid_at, updated_at, provider,"
    " order_key, created_at, order_id, order_amount)"
    " SELECT $1::text, $2::text, $3::text, $4::bigint, 0, $4::bigint, $5::text, $6::text, $7::text,"
    " $22::text, $8::text, $9::timestamptz, $10::timestamptz, $9::timestamptz, $11::text, $12::text,"
    " $9::timestamptz, $13::text, $14::bigint"
    " WHERE EXISTS (SELECT 1 FROM user_points WHERE user_id = $3::text)"
    " ON CONFLICT DO NOTHING RETURNING id),"
    " e AS (INSERT INTO payment_events (id, payment_id, from_status, to_status, source, detail, created_at)"
    " SELECT $15::text, p.id, $21::text, $22::text, $16::text, $17::text, $9::timestamptz FROM p),"
    " b AS (UPDATE user_points SET amount = amount + $4::bigint, updated_at = $9::timestamptz"
    " WHERE user_id = $3::text AND amount + $4::bigint <= $24::bigint AND EXISTS (SELECT 1 FROM p)"
    " RETURNING amount),"
    " t AS (INSERT INTO point_transactions (id, user_id, payment_id, entry_key, status, amount, balance,"
    " payment_key, detail, created_at)"
    " SELECT $18::text, $3::text, $1::text, $19::text, $20::text, $4::bigint, b.amount, $2::text,"
    " $23::text, $9::timestamptz FROM p LEFT JOIN b ON true)"
    " SELECT amount FROM b"
)
# Conditional on the balance cap ($4): past it nothing is updated and the general path refuses it.
_CREDIT_BALANCE = (
    "UPDATE user_points SET amount = amount + $1, updated_at = $2 WHERE user_id = $3 AND amount + $1 <= $4"
    " RETURNING amount"
)
_INSERT_ENTRY = (
    "INSERT INTO point_transactions (id, user_id, payment_id, entry_key, status, amount, balance, payment_key,"
    " detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)


async def credit_first_sighting(
    raw: RawConnection,
    remote: GatewayPayment,
    claimant: str | None,
    source: str,
    *,
    require_prepared_order: bool,
    balance_max: int = ledger.BALANCE_MAX,
    at_once: bool = False,
) -> credit.SyncResult | None:
    """Only statements are awaited in here (on SQLite it runs in the driver's thread).

    ``at_once`` (PostgreSQL, in autocommit): the write is ``_CREDIT_AT_ONCE``; otherwise the
    caller's transaction runs its statements one by one."""
    key = remote.payment_key
    orders = await raw.fetch(_ORDER, remote.provider, remote.order_key)
    if orders:
        order_id, owner, order_amount = orders[0]
        if credit.claim_conflict(owner, order_amount, claimant) or credit.amount_mismatch(remote, order_amount):
            return None
    else:
        # Nobody prepared it (the codecamp flow): the claimant owns it.
        if claimant is None or require_prepared_order:
            return None
        order_id, owner, order_amount = None, claimant, None

    now = utcnow()
    stamp = raw.time(now)
    snapshot = credit.snapshot(remote)
    payment_id, event_id, entry_id = new_id(), new_id(), new_id()
    entry_key, detail = credit.charge_key(payment_id), credit.charge_detail(remote)
    # $1–$14 of both _INSERT_PAYMENT and _CREDIT_AT_ONCE.
    attempt = (
        payment_id, key, owner, remote.amount, remote.currency, remote.pay_method, remote.pg_provider,
        snapshot, stamp, raw.time(remote.paid_at), remote.provider, remote.order_key, order_id, order_amount,
    )  # fmt: skip
    if at_once:
        # The statement is the commit: a crash before it leaves nothing written.
        crash_point("before_credit_commit")
        balance = await raw.fetch(
            _CREDIT_AT_ONCE, *attempt, event_id, source, remote.fail_reason, entry_id, entry_key, ledger.CHARGE,
            st.PREPARED, st.PAID, detail, balance_max,
        )  # fmt: skip
        if not balance:
            return None  # recorded already, or no balance row: nothing was written
    else:
        if not await raw.fetch(_INSERT_PAYMENT, *attempt):
            return None  # recorded already (or a concurrent first sighting won): the general path sees it
        await raw.fetch(_INSERT_EVENT, event_id, payment_id, st.PREPARED, st.PAID, source, remote.fail_reason, stamp)
        balance = await raw.fetch(_CREDIT_BALANCE, remote.amount, stamp, owner, balance_max)
        if not balance:
            return None  # no balance row, or past the cap: the general path reports it (rolled back)
        await raw.fetch(
            _INSERT_ENTRY, entry_id, owner, payment_id, entry_key, ledger.CHARGE,
            remote.amount, balance[0][0], key, detail, stamp,
        )  # fmt: skip
        # The gateway said paid and every row is written; the caller's COMMIT has not run.
        crash_point("before_credit_commit")
    payment = detached(
        Payment,
        id=payment_id, provider=remote.provider, payment_key=key, order_key=remote.order_key,
        order_id=order_id, user_id=owner, order_amount=order_amount, amount=remote.amount, cancelled_amount=0,
        credited_amount=remote.amount, currency=remote.currency, pay_method=remote.pay_method,
        pg_provider=remote.pg_provider, status=st.PAID, anomaly=None, snapshot=snapshot,
        credited_at=now, paid_at=remote.paid_at, created_at=now, updated_at=now,
    )  # fmt: skip
    entry = detached(
        PointTransaction,
        id=entry_id, user_id=owner, payment_id=payment_id, entry_key=entry_key, status=ledger.CHARGE,
        amount=remote.amount, balance=balance[0][0], payment_key=key, detail=detail, created_at=now,
    )  # fmt: skip
    return credit.SyncResult(credit.Outcome.CREDITED, payment, entry)
