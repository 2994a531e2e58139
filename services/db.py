"""Database engine and transactions for SQLite (embedded default) and PostgreSQL (production).

Services own their transactions: ``async with db.transaction() as s:`` for writes,
``async with db.session() as s:`` for reads.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util import greenlet_spawn

from services.models import UTCDateTime

_BEGIN_OPTION = "pointcharge_sqlite_begin"
T = TypeVar("T")


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, busy_timeout_ms: int = 15_000
) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, busy_timeout_ms)
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it is a round trip (BEGIN; SELECT; ROLLBACK) on every checkout, and a charge
        # checks out three times (docs/PERFORMANCE.md). A connection the server closed (restart,
        # idle timeout, pg_terminate_backend) is seen by asyncpg as soon as the socket says so, and
        # _discard_closed below replaces it at checkout; pool_recycle bounds a connection's age.
        pool_recycle=1800,
        # A slow pool is back-pressure: fail fast rather than pile up requests behind it.
        pool_timeout=10,
    )

    @event.listens_for(engine.sync_engine, "checkout")
    def _discard_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError("connection closed by the server")

    return engine


def _create_sqlite_engine(url: str, busy_timeout_ms: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000},
        # The pool's reset-on-return is a ROLLBACK, i.e. a hop to aiosqlite's thread, on every
        # check-in, even when nothing is open (most check-ins: the ORM ended its transaction, a
        # driver statement ran in autocommit). _reset_if_open rolls back only what is still open.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine.sync_engine, "reset")
    def _reset_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling emits a plain deferred BEGIN lazily; take it over so
        # that we can say BEGIN IMMEDIATE for writers (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails with "database is locked" when
        # another writer got there first (the busy timeout cannot help an upgrade). Writers take
        # the write lock up front instead and queue on the busy timeout.
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _integrity_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        from asyncpg.exceptions import IntegrityConstraintViolationError
    except ImportError:  # SQLite-only installs
        pass
    else:
        errors.append(IntegrityConstraintViolationError)
    return tuple(errors)


# A unique key or constraint refused a driver statement (the raw path's IntegrityError).
RAW_INTEGRITY_ERRORS = _integrity_errors()

_PARAM = re.compile(r"\$(\d+)")


def _same(value: Any) -> Any:
    return value


class RawConnection:
    """The driver's own connection (aiosqlite or asyncpg), checked out of the engine's pool, for
    the few hot statements where the ORM's per-statement cost dominates (docs/PERFORMANCE.md).

    SQL is written once for PostgreSQL (``$1`` placeholders, ``FOR UPDATE``); SQLite gets ``?1``
    (the same numbered binding) and no ``FOR UPDATE``. Times go through the ORM's own column type
    (``time`` / ``read_time``), so both paths store and read the same values."""

    def __init__(self, driver: Any, db: "Database") -> None:
        self._driver = driver
        self.is_sqlite = db.is_sqlite
        self.time: Callable[[datetime | None], Any] = db.bind_time
        self.read_time: Callable[[Any], datetime | None] = db.read_time

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        if self.is_sqlite:
            return list(await self._driver.execute_fetchall(_sqlite_sql(sql), args))
        return await self._driver.fetch(sql, *args)

    def in_transaction(self) -> bool:
        if self.is_sqlite:
            return bool(self._driver.in_transaction)
        return bool(self._driver.is_in_transaction())

    async def execute(self, sql: str) -> None:
        if self.is_sqlite:
            await self._driver.execute_fetchall(sql, ())
        else:
            await self._driver.execute(sql)


_SQLITE_SQL: dict[str, str] = {}


def _sqlite_sql(sql: str) -> str:
    converted = _SQLITE_SQL.get(sql)
    if converted is None:
        # SQLite has no row locks: BEGIN IMMEDIATE already holds the database's one write lock.
        converted = _SQLITE_SQL[sql] = _PARAM.sub(r"?\1", sql).replace(" FOR UPDATE", "")
    return converted


class RawRollback(Exception):
    """Raised inside ``Database.run_raw_transaction`` to roll back without an error (a fast path that
    found its preconditions gone hands over to the general path)."""


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._read = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        writer = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}) if self.is_sqlite else engine
        self._write = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)
        self._writer_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._begin = "BEGIN IMMEDIATE" if self.is_sqlite else "BEGIN"
        # What the ORM does to a UTCDateTime column on this database, for the driver statements.
        time_type = UTCDateTime().dialect_impl(engine.dialect)
        self.bind_time: Callable[[datetime | None], Any] = time_type.bind_processor(engine.dialect) or _same
        self.read_time: Callable[[Any], datetime | None] = time_type.result_processor(engine.dialect, None) or _same

    def _writer_turn(self) -> AbstractAsyncContextManager[Any]:
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead
        # of in SQLite's busy handler, which sleeps and retries (seconds of tail latency under
        # load). Writers in other processes still meet the busy timeout. Per event loop: tests
        # run several loops over one Database. PostgreSQL: row locks, nothing to queue on here.
        if not self.is_sqlite:
            return nullcontext()
        loop = asyncio.get_running_loop()
        if self._writer_lock is None or self._writer_lock[0] is not loop:
            self._writer_lock = (loop, asyncio.Lock())
        return self._writer_lock[1]

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "Database":
        return cls(create_engine(url, **kwargs))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session (deferred transaction on SQLite)."""
        async with self._read() as s:
            yield s

    async def rows_by(self, column: InstrumentedAttribute[Any], keys: Sequence[Any]) -> list[Any]:
        """The row whose ``column`` is each of ``keys`` (None where there is none), all in one
        query: the batch of a per-request DataLoader (the sellers of a page of items, …)."""
        async with self.session() as s:
            rows = (await s.execute(select(column.class_).where(column.in_(keys)))).scalars()
            found = {getattr(row, column.key): row for row in rows}
        return [found.get(key) for key in keys]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed on success, rolled back on any exception."""
        async with self._writer_turn(), self._write() as s, s.begin():
            yield s

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[RawConnection]:
        """A pooled driver connection in autocommit mode: each statement is its own transaction.

        Straight from the pool (no Core ``Connection`` around it: that wrapper was a tenth of a
        charge's CPU for three checkouts)."""
        fairy = await self.engine.raw_connection()
        raw = RawConnection(fairy.driver_connection, self)
        try:
            yield raw
        finally:
            if raw.in_transaction():
                # A ROLLBACK that never ran (cancelled, connection lost): the pool's reset does not
                # know about our BEGIN (asyncpg's adapter would not roll it back), so this
                # connection must not be reused.
                await greenlet_spawn(fairy.invalidate)
            else:
                await greenlet_spawn(fairy.close)

    async def run_raw_transaction(self, body: Callable[[RawConnection], Awaitable[T]]) -> T | None:
        """Runs ``body`` in a write transaction on the driver connection: committed when it
        returns, rolled back when it raises; ``RawRollback`` rolls back and returns None.

        ``body`` may await only its connection's statements, and should not log. On SQLite that
        lets the whole transaction, BEGIN IMMEDIATE to COMMIT, run in one hand-off to aiosqlite's
        thread instead of one per statement (see ``_run_in_driver_thread``): the write lock is held
        for a fraction of the time, and SQLite has one writer at a time. (That thread does not carry
        the request's context: a log line written there would lack its request id.)"""
        async with self._writer_turn(), self.raw() as raw:
            if self.is_sqlite and _runs_in_driver_thread(raw._driver):
                return await raw._driver._execute(_run_in_driver_thread, raw._driver, body, self)  # type: ignore[no-any-return]
            return await _transaction(raw, self._begin, body)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _runs_in_driver_thread(driver: Any) -> bool:
    # aiosqlite's queue into its thread (``_execute``) and the sqlite3 connection it owns
    # (``_conn``) are private: pinned in pyproject.toml, and without them the statements go one
    # hand-off at a time as before. tests/services/test_db_pool.py runs both ways.
    return callable(getattr(driver, "_execute", None)) and hasattr(type(driver), "_conn")


async def _transaction(raw: RawConnection, begin: str, body: Callable[[RawConnection], Awaitable[T]]) -> T | None:
    await raw.execute(begin)
    try:
        result = await body(raw)
    except BaseException as exc:
        await raw.execute("ROLLBACK")
        if isinstance(exc, RawRollback):
            return None
        raise
    await raw.execute("COMMIT")
    return result


class _InThreadConnection(RawConnection):
    """The SQLite connection as seen from inside aiosqlite's thread: statements run at once."""

    async def fetch(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return self._driver.execute(_sqlite_sql(sql), args).fetchall()  # type: ignore[no-any-return]

    async def execute(self, sql: str) -> None:
        self._driver.execute(sql)


def _run_in_driver_thread(driver: Any, body: Callable[[RawConnection], Awaitable[Any]], db: "Database") -> Any:
    """The transaction, in aiosqlite's thread. Its statements complete at once here, so a body
    that awaits only them runs to its end in one ``send``."""
    transaction = _transaction(_InThreadConnection(driver._conn, db), db._begin, body)
    try:
        transaction.send(None)
    except StopIteration as done:
        return done.value
    # It is waiting for something nothing on this thread will ever deliver: roll back and refuse.
    transaction.throw(RuntimeError("a raw transaction's body awaited something other than its statements"))
    raise AssertionError("unreachable: the transaction re-raises what it is thrown")
