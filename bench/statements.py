"""Counting the SQL statements a piece of work sends to the database (the instrument behind
tests/services/test_statement_counts.py and the profile's "statements per charge").

What counts as one statement, the same way on SQLite (aiosqlite) and PostgreSQL (asyncpg):

- every statement SQLAlchemy executes (its ``after_cursor_execute`` event: ORM and Core);
- SQLAlchemy's transaction control, from its ``begin`` / ``commit`` / ``rollback`` connection
  events: ``BEGIN``, ``COMMIT``, and the ``ROLLBACK`` that ends every read session. (On SQLite the
  ``BEGIN`` is a real statement that services/db.py's ``begin`` hook executes, so it also reaches the
  cursor event; it is counted once, from the ``begin`` event. On PostgreSQL the asyncpg adapter sends
  its ``BEGIN`` with the first statement and no cursor event sees it.)
- every statement of the driver connections services/db.py hands out (``RawConnection`` and its
  subclasses: ``_InThreadConnection``, the SQLite lean transaction run in aiosqlite's thread), ``BEGIN``,
  ``COMMIT`` and ``ROLLBACK`` included.

What is not counted: asyncpg's statement preparation and type introspection (per connection,
cached: a property of the pool's history, not of the work), and the pool's own reset on check-in
(a no-op on both databases when nothing is left open: see services/db.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Statement:
    sql: str  # whitespace collapsed
    ms: float | None  # time in the driver, when known (None: transaction control from an event)
    where: str  # "orm" (SQLAlchemy) or "driver" (services.db raw connections)


@dataclass
class StatementLog:
    statements: list[Statement] = field(default_factory=list)
    recording: bool = True

    def add(self, sql: str, ms: float | None, where: str) -> None:
        if self.recording:
            self.statements.append(Statement(" ".join(sql.split()), ms, where))

    def clear(self) -> None:
        self.statements.clear()

    def __len__(self) -> int:
        return len(self.statements)

    @property
    def driver_ms(self) -> float:
        return sum(s.ms or 0.0 for s in self.statements)

    def lines(self, width: int = 150) -> list[str]:
        return [
            (f"{s.ms:6.3f} ms  " if s.ms is not None else "   –      ") + f"[{s.where}] {s.sql[:width]}"
            for s in self.statements
        ]


def _raw_classes() -> list[type]:
    """services.db's driver connection and every subclass of it (today ``_InThreadConnection``, the
    SQLite lean transaction in aiosqlite's thread): found by inheritance, not by name, so that a
    renamed or added one is still counted rather than silently missed."""
    import services.db as db_module

    classes: list[type] = []
    pending: list[type] = [db_module.RawConnection]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    return classes


@contextmanager
def record_statements(engine: Engine) -> Iterator[StatementLog]:
    """Records every statement sent through ``engine`` (a sync engine: ``AsyncEngine.sync_engine``)
    and through services.db's driver connections while the block runs. The driver classes are
    patched process-wide: use it around one application at a time."""
    log = StatementLog()
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        t0 = started.pop(id(cursor), None)
        if statement.lstrip()[:5].upper() == "BEGIN":
            return  # SQLite's BEGIN from services/db.py's begin hook: counted by on_begin
        log.add(statement, (time.perf_counter() - t0) * 1000 if t0 is not None else None, "orm")

    def on_begin(conn: Any) -> None:
        log.add("BEGIN", None, "orm")

    def on_commit(conn: Any) -> None:
        log.add("COMMIT", None, "orm")

    def on_rollback(conn: Any) -> None:
        log.add("ROLLBACK", None, "orm")

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_cursor_execute", before), ("after_cursor_execute", after),
        ("begin", on_begin), ("commit", on_commit), ("rollback", on_rollback),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(self: Any, sql: str, *args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(self, sql, *args)
            finally:
                log.add(sql, (time.perf_counter() - t0) * 1000, "driver")

        return wrapper

    restore: list[tuple[type, str, Any]] = []
    for cls in _raw_classes():
        for name in ("fetch", "execute"):
            if name in cls.__dict__:
                restore.append((cls, name, cls.__dict__[name]))
                setattr(cls, name, timed(cls.__dict__[name]))
    try:
        yield log
    finally:
        for cls, name, fn in reversed(restore):
            setattr(cls, name, fn)
        for name, fn in listeners:
            event.remove(engine, name, fn)
