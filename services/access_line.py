"""Facts a service wants on the access line of the request it is serving.

A charge used to write two lines: ``credited …`` from the service and the access line from the
middleware (api.middleware.RequestId), which already names the request, its operation, user and
payment. Logging was the largest single item of pointcharge's own CPU per charge
(docs/PERFORMANCE.md), so a credit made while a request is being answered rides on that request's
access line instead. Work that runs after the access line is written (a webhook's background sync)
or outside any request (reconciliation, the CLI) still gets a line of its own: ``add`` says which.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any


class Notes:
    __slots__ = ("fields", "written")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.written = False


_current: ContextVar[Notes | None] = ContextVar("pointcharge_access_notes", default=None)


def open_notes() -> tuple[Notes, Token[Notes | None]]:
    notes = Notes()
    return notes, _current.set(notes)


def close_notes(token: Token[Notes | None]) -> None:
    _current.reset(token)


def add(**fields: Any) -> bool:
    """Puts ``fields`` on the current request's access line; False when no access line is still to
    be written (the caller logs a line of its own)."""
    notes = _current.get()
    if notes is None or notes.written:
        return False
    notes.fields.update(fields)
    return True
