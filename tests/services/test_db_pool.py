"""The connection pool without pre-ping (PostgreSQL) and without an unconditional reset (SQLite):
what each of them protected against still holds (services/db.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

import services.db as db_module
from services.db import Database, RawConnection, RawRollback


async def test_a_connection_the_server_closed_is_replaced_at_checkout(clean_db: str) -> None:
    if not clean_db.startswith("postgresql"):
        pytest.skip("server-side disconnects are PostgreSQL's")
    # given a pool holding one idle connection
    db = Database.from_url(clean_db, pool_size=1, max_overflow=0)
    admin = Database.from_url(clean_db)
    try:
        async with db.raw() as raw:
            (pid,) = (await raw.fetch("SELECT pg_backend_pid()"))[0]
        # when the server ends that connection (a restart, an idle timeout, pg_terminate_backend)
        async with admin.raw() as raw:
            assert (await raw.fetch("SELECT pg_terminate_backend($1)", pid))[0][0] is True
        await asyncio.sleep(0.2)  # the socket's end reaches asyncpg through the event loop
        # then the next checkouts, driver and ORM alike, get a live connection instead of an error
        async with db.raw() as raw:
            (new_pid,) = (await raw.fetch("SELECT pg_backend_pid()"))[0]
        assert new_pid != pid
        async with db.session() as s:
            assert (await s.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await db.dispose()
        await admin.dispose()


async def test_a_transaction_left_open_below_the_orm_is_rolled_back_on_return(clean_db: str) -> None:
    if not clean_db.startswith("sqlite"):
        pytest.skip("SQLite's reset on return is ours; PostgreSQL keeps SQLAlchemy's")
    # given one pooled connection on which a transaction was begun behind SQLAlchemy's back and
    # never finished (the pool's own reset on return is off on SQLite: it only rolls back what
    # is still open)
    db = Database.from_url(clean_db, pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.execute("BEGIN IMMEDIATE")
            assert raw.in_transaction
        # when the connection is checked out again
        async with db.raw() as again:
            # then it starts clean, and a write through it is not stuck behind the old transaction
            assert not again.in_transaction()
        async with db.transaction() as s:
            await s.execute(text("SELECT 1"))
    finally:
        await db.dispose()


async def test_driver_statements_in_autocommit_leave_nothing_open(clean_db: str) -> None:
    # given the pool that serves both the ORM and the driver statements
    db = Database.from_url(clean_db, pool_size=1, max_overflow=0)
    try:
        # when a driver read and a driver write transaction have used the one connection
        async with db.raw() as raw:
            await raw.fetch("SELECT 1")
        async def body(raw: RawConnection) -> int:
            return (await raw.fetch("SELECT 1"))[0][0]

        assert await db.run_raw_transaction(body) == 1
        # then an ORM write transaction can take it and commit
        async with db.transaction() as s:
            assert (await s.execute(text("SELECT 2"))).scalar_one() == 2
        async with db.raw() as raw:
            assert not raw.in_transaction()
    finally:
        await db.dispose()


@pytest.fixture(params=["one hand-off", "per statement"])
def hand_off(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    # On SQLite a raw transaction runs in one hand-off to aiosqlite's thread when its private
    # hooks are there, else statement by statement: both must behave alike.
    if request.param == "per statement":
        monkeypatch.setattr(db_module, "_runs_in_driver_thread", lambda driver: False)
    return str(request.param)


async def _count(db: Database, marker: str) -> int:
    async with db.raw() as raw:
        return int((await raw.fetch("SELECT count(*) FROM users WHERE email = $1", marker))[0][0])


async def _insert_user(raw: RawConnection, marker: str) -> None:
    stamp = raw.time(datetime.now(timezone.utc))
    await raw.fetch(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ($1, $2, 'n', 'h', $3, $3)",
        marker, marker, stamp,
    )


async def test_a_raw_transaction_commits_rolls_back_and_hands_over(clean_db: str, hand_off: str) -> None:
    db = Database.from_url(clean_db)
    try:
        # when a body returns, its writes are committed and its result returned
        async def commit(raw: RawConnection) -> str:
            await _insert_user(raw, "a@example.com")
            return "done"

        assert await db.run_raw_transaction(commit) == "done"

        # when a body raises RawRollback, nothing it wrote stays, and the answer is None
        async def hand_over(raw: RawConnection) -> str:
            await _insert_user(raw, "b@example.com")
            raise RawRollback

        assert await db.run_raw_transaction(hand_over) is None

        # when a statement fails (a unique key), the error reaches the caller and nothing stays
        async def duplicate(raw: RawConnection) -> None:
            await _insert_user(raw, "c@example.com")
            await _insert_user(raw, "a@example.com")

        with pytest.raises(db_module.RAW_INTEGRITY_ERRORS):
            await db.run_raw_transaction(duplicate)
        # then
        assert [await _count(db, m) for m in ("a@example.com", "b@example.com", "c@example.com")] == [1, 0, 0]
        async with db.raw() as raw:
            assert not raw.in_transaction()
    finally:
        await db.dispose()


async def test_a_body_that_awaits_anything_else_is_refused_in_the_driver_thread(clean_db: str) -> None:
    if not clean_db.startswith("sqlite"):
        pytest.skip("the one-hand-off transaction is SQLite's")
    db = Database.from_url(clean_db)
    try:
        # given a body that would suspend between its statements (it cannot, in aiosqlite's thread)
        async def suspends(raw: RawConnection) -> None:
            await _insert_user(raw, "d@example.com")
            await asyncio.sleep(0)

        # when it runs, then it is refused as a programming error and its write rolled back
        with pytest.raises(RuntimeError, match="awaited something other"):
            await db.run_raw_transaction(suspends)
        assert await _count(db, "d@example.com") == 0
    finally:
        await db.dispose()
