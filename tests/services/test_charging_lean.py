"""The lean first-credit path (services/credit_lean.py, via ``ChargeService._credit_lean``) writes exactly what the
general ORM path writes, and hands over to it whenever it should."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select, text

import services.credit as credit_module
from services.auth import AuthConfig, AuthService
from services.charging import ChargeConfig, ChargeService, Outcome
from services.db import Database
from services.errors import DomainError
from services.models import Payment
from services.gateways.portone.v1 import PortOneV1Client
from tests.conftest import SandboxControl, ledger_invariants

# Columns that differ between two payments by construction (ids, times, PortOne's ids).
_OWN = {"id", "payment_key", "order_key", "order_id", "created_at", "updated_at", "credited_at", "paid_at", "snapshot"}


@dataclass
class World:
    url: str
    db: Database
    charging: ChargeService
    user_id: str
    lean_calls: list[bool]


@pytest.fixture
async def world(clean_db: str, sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    db = Database.from_url(clean_db)
    async with httpx.AsyncClient() as http:
        auth = AuthService(db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
        user = await auth.create_user("lean@example.com", "password123", "lean")
        cfg = sandbox.config
        provider = PortOneV1Client(
            http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key, imp_secret=cfg.imp_secret  # type: ignore[attr-defined]
        )
        charging = ChargeService(db, provider, ChargeConfig(None, 100, 2_000_000))
        calls: list[bool] = []
        original = ChargeService._credit_lean

        async def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            result = await original(self, *args, **kwargs)
            calls.append(result is not None)
            return result

        monkeypatch.setattr(ChargeService, "_credit_lean", spy)
        try:
            yield World(clean_db, db, charging, user.id, calls)
        finally:
            await db.dispose()


async def _attempt_id(db: Database, imp_uid: str) -> str:
    async with db.engine.connect() as conn:
        return (await conn.execute(text("SELECT id FROM payments WHERE payment_key = :u"), {"u": imp_uid})).scalar_one()


async def _rows(db: Database, payment_id: str) -> dict:
    async with db.engine.connect() as conn:
        payment = dict((await conn.execute(text("SELECT * FROM payments WHERE id = :i"), {"i": payment_id})).mappings().one())
        events = [
            tuple(r)
            for r in await conn.execute(
                text("SELECT from_status, to_status, source, detail FROM payment_events WHERE payment_id = :i"),
                {"i": payment_id},
            )
        ]
        entries = [
            dict(r)
            for r in (
                await conn.execute(
                    text("SELECT entry_key, status, amount, payment_key, detail FROM point_transactions WHERE payment_id = :i"),
                    {"i": payment_id},
                )
            ).mappings()
        ]
    return {"payment": payment, "events": events, "entries": entries}


def _comparable(rows: dict) -> dict:
    payment = rows["payment"]
    entries = [
        {**e, "entry_key": e["entry_key"].replace(payment["id"], "<id>"), "payment_key": e["payment_key"] == payment["payment_key"]}
        for e in rows["entries"]
    ]
    return {
        "payment": {k: v for k, v in payment.items() if k not in _OWN},
        "times_set": [payment[k] is not None for k in ("created_at", "updated_at", "credited_at", "paid_at")],
        "events": rows["events"],
        "entries": entries,
    }


@pytest.mark.parametrize("prepared", [False, True], ids=["codecamp", "prepared-order"])
async def test_lean_and_general_paths_write_the_same_rows(
    world: World, sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch, prepared: bool
) -> None:
    async def paid() -> str:
        fields = {}
        if prepared:
            order = await world.charging.prepare(world.user_id, 5000)
            fields["merchant_uid"] = order.order_key
        return (await sandbox.pay(5000, **fields))["imp_uid"]

    # given two identical paid payments
    lean_uid, general_uid = await paid(), await paid()

    # when one is credited by the lean path and the other by the general path
    lean = await world.charging.claim(world.user_id, lean_uid)
    monkeypatch.setattr(credit_module, "lean_candidate", lambda remote: False)
    general = await world.charging.claim(world.user_id, general_uid)

    # then the lean path ran once (the second was never offered to it), both credited…
    assert world.lean_calls == [True]
    assert lean.outcome is Outcome.CREDITED and general.outcome is Outcome.CREDITED
    # …and the rows differ only in ids and times
    lean_rows, general_rows = await _rows(world.db, lean.payment.id), await _rows(world.db, general.payment.id)
    assert _comparable(lean_rows) == _comparable(general_rows)
    assert json.loads(lean_rows["payment"]["snapshot"])["imp_uid"] == lean_uid
    balances = await ledger_invariants(world.url)
    assert balances[world.user_id] == 10_000

    # and what the lean path returned is what the ORM reads back
    async with world.db.session() as s:
        stored = (await s.execute(select(Payment).where(Payment.id == lean.payment.id))).scalar_one()
    assert stored.credited_at == lean.payment.credited_at
    assert stored.created_at == lean.payment.created_at
    assert (stored.user_id, stored.amount, stored.status) == (world.user_id, 5000, "paid")
    assert lean.entry is not None and lean.entry.balance == 5000 and lean.entry.created_at == stored.credited_at


async def test_lean_path_hands_over_what_it_does_not_handle(world: World, sandbox: SandboxControl) -> None:
    # given a prepared order of one user, paid
    order = await world.charging.prepare(world.user_id, 5000)
    imp_uid = (await sandbox.pay(5000, merchant_uid=order.order_key))["imp_uid"]
    auth = AuthService(world.db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
    other = await auth.create_user("other@example.com", "password123", "other")

    # when another user claims it
    with pytest.raises(DomainError) as raised:
        await world.charging.claim(other.id, imp_uid)

    # then the lean path declined and rolled back, and the general path refused
    assert world.lean_calls == [False]
    assert raised.value.code == "FORBIDDEN"
    attempt_id = await _attempt_id(world.db, imp_uid)
    rows = await _rows(world.db, attempt_id)
    assert rows["entries"] == []
    assert rows["payment"]["user_id"] == world.user_id
    assert rows["payment"]["credited_at"] is None

    # and the owner's claim is credited by the general path too: the refused claim recorded the
    # payment (bound to its PortOne id), and a recorded payment is never the lean path's
    result = await world.charging.claim(world.user_id, imp_uid)
    assert result.outcome is Outcome.CREDITED and world.lean_calls == [False, False]
    assert len((await _rows(world.db, attempt_id))["entries"]) == 1


async def test_the_duplicate_fast_path_reads_what_the_orm_reads(world: World, sandbox: SandboxControl) -> None:
    from services.credit_lean import load_recorded
    from services.models import PointTransaction

    # given a credited payment, one recorded but not credited (another user's order), and one unknown
    credited_uid = (await sandbox.pay(5000))["imp_uid"]
    await world.charging.claim(world.user_id, credited_uid)
    order = await world.charging.prepare(world.user_id, 5000)
    uncredited_uid = (await sandbox.pay(5000, merchant_uid=order.order_key))["imp_uid"]
    auth = AuthService(world.db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
    other = await auth.create_user("reader@example.com", "password123", "reader")
    with pytest.raises(DomainError):
        await world.charging.claim(other.id, uncredited_uid)

    # when the driver statement loads each
    async with world.db.raw() as raw:
        loaded = {uid: await load_recorded(raw, uid, "portone_v1") for uid in (credited_uid, uncredited_uid, "imp_none")}

    # then every column is what the ORM loads, times included, and the entry only once credited
    async with world.db.session() as s:
        for uid in (credited_uid, uncredited_uid):
            stored = (await s.execute(select(Payment).where(Payment.payment_key == uid))).scalar_one()
            payment, entry = loaded[uid]  # type: ignore[misc]
            for column in Payment.__table__.columns:
                assert getattr(payment, column.name) == getattr(stored, column.name), (uid, column.name)
            if uid == uncredited_uid:
                assert payment.credited_at is None and entry is None
                continue
            stored_entry = (
                await s.execute(select(PointTransaction).where(PointTransaction.payment_id == stored.id))
            ).scalar_one()
            assert entry is not None
            for column in PointTransaction.__table__.columns:
                assert getattr(entry, column.name) == getattr(stored_entry, column.name), column.name
            assert entry.created_at.tzinfo is not None and entry.amount == 5000
    assert loaded["imp_none"] is None


async def test_a_raw_transaction_left_open_is_not_returned_to_the_pool(world: World) -> None:
    # given a raw connection whose transaction was begun but never finished
    async with world.db.raw() as raw:
        await raw.execute("BEGIN")
        await raw.fetch("SELECT 1")
    # then the next checkout starts clean (the pool did not hand back an open transaction)
    for _ in range(3):
        async with world.db.raw() as raw:
            assert not raw.in_transaction()


def test_detached_instances_work_in_a_fresh_process() -> None:
    # given a new interpreter whose first ORM work is a detached instance (a fresh uvicorn worker
    # whose first request is a lean charge: found by the 2-worker benchmark)
    import subprocess
    import sys

    code = (
        "from services.models import Payment, detached\n"
        "p = detached(Payment, id='p1', user_id='u1', amount=5000)\n"
        "print(p.user_id, p.amount, p.anomaly)\n"
    )
    # when it reads the instance's attributes
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    # then they are there
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["u1", "5000", "None"]
