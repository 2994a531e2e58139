"""Database engine and transactions for SQLite (embedded default) and PostgreSQL (production).

Services own their transactions: ``async with db.transaction() as s:`` for writes,
``async with db.session() as s:`` for reads.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.models import UTCDateTime

_BEGIN_OPTION = "pointcharge_sqlite_begin"


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, busy_timeout_ms: int = 15_000
) -> AsyncEngine:
    if make_url(url).get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, busy_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        # A slow pool is back-pressure: fail fast rather than pile up requests behind it.
        pool_timeout=10,
    )


def _create_sqlite_engine(url: str, busy_timeout_ms: int) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

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
    """Raised inside ``Database.raw_transaction`` to roll back without an error (a fast path that
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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed on success, rolled back on any exception."""
        async with self._writer_turn(), self._write() as s, s.begin():
            yield s

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[RawConnection]:
        """A pooled driver connection in autocommit mode: each statement is its own transaction."""
        async with self.engine.connect() as conn:
            fairy = await conn.get_raw_connection()
            raw = RawConnection(fairy.driver_connection, self)
            try:
                yield raw
            finally:
                if raw.in_transaction():
                    # A ROLLBACK that never ran (cancelled, connection lost): the pool's own
                    # reset does not know about our BEGIN, so this connection must not be reused.
                    await conn.invalidate()

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[RawConnection]:
        """A write transaction on the driver connection: committed on success, rolled back on
        any exception (``RawRollback`` is swallowed after the rollback)."""
        async with self._writer_turn(), self.raw() as raw, _raw_tx(raw, self._begin):
            yield raw

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _raw_tx(raw: RawConnection, begin: str) -> AsyncIterator[None]:
    await raw.execute(begin)
    try:
        yield
    except BaseException as exc:
        await raw.execute("ROLLBACK")
        if isinstance(exc, RawRollback):
            return
        raise
    await raw.execute("COMMIT")
