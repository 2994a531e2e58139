"""The sandbox's durable state: one SQLite file, written through on every change, read once at start.

PortOne remembers its payments whatever happens to the merchant's servers; an emulator that forgot
them on restart would leave the merchant's database pointing at payments nobody can cancel or
deposit into. The in-memory structures of sandbox/portone/store.py stay the working copy (the views and
lookups read them as before); this module only mirrors each change into ``state(kind, key, data)``
rows of JSON, so that the next process starts where this one stopped.

One process owns a file at a time (`pointcharge serve` refuses several sandbox-mode workers for the
same reason). ``:memory:`` keeps nothing, for tests that want a throwaway sandbox.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
)
"""


class StateFile:
    def __init__(self, path: str = MEMORY):
        self.path = path or MEMORY
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection, used only from the event loop that serves the sandbox (and the thread
        # that built it); autocommit, with explicit transactions where a change spans rows.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        if self.path != MEMORY:
            # First, so that N processes opening one file at once (workers: the secret) wait
            # for each other instead of failing "database is locked".
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (not a power cut): enough for an emulator,
            # and a write costs no fsync.
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"sandbox state {self.path} is closed")
        return self._conn

    def load(self) -> dict[str, dict[str, Any]]:
        """Every row, as {kind: {key: data}}."""
        loaded: dict[str, dict[str, Any]] = {}
        for kind, key, data in self.conn.execute("SELECT kind, key, data FROM state"):
            loaded.setdefault(kind, {})[key] = json.loads(data)
        return loaded

    def write(
        self,
        puts: Iterable[tuple[str, str, Any]] = (),
        deletes: Iterable[tuple[str, str | None]] = (),
    ) -> None:
        """Upserts ``(kind, key, data)`` and deletes ``(kind, key)`` (key None: the whole kind),
        in one transaction."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            for kind, key in deletes:
                if key is None:
                    conn.execute("DELETE FROM state WHERE kind = ?", (kind,))
                else:
                    conn.execute("DELETE FROM state WHERE kind = ? AND key = ?", (kind, key))
            conn.executemany(
                "INSERT INTO state (kind, key, data) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
                [(kind, key, json.dumps(data, ensure_ascii=False)) for kind, key, data in puts],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def clear(self, keep: Iterable[str] = ()) -> None:
        """Forget everything but the kinds in ``keep``."""
        kept = tuple(keep)
        marks = ",".join("?" * len(kept))
        self.conn.execute(f"DELETE FROM state WHERE kind NOT IN ({marks})" if kept else "DELETE FROM state", kept)

    def secret(self, name: str, nbytes: int = 48) -> str:
        """A random secret made once for this state file (this install) and kept in it. Survives
        ``clear`` of the sandbox's records: the secret belongs to the install, not to the ledger.
        The first writer wins, so two processes opening one file agree on it."""
        self.conn.execute(
            "INSERT INTO state (kind, key, data) VALUES ('secret', ?, ?) ON CONFLICT DO NOTHING",
            (name, json.dumps(secrets.token_urlsafe(nbytes))),
        )
        row = self.conn.execute("SELECT data FROM state WHERE kind = 'secret' AND key = ?", (name,)).fetchone()
        return json.loads(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def clear_file(path: str) -> None:
    """`pointcharge sandbox --reset`: empty a state file (its install secrets kept)."""
    state = StateFile(path)
    try:
        state.clear(keep=("secret",))
    finally:
        state.close()
