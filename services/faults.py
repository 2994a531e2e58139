"""Crash points, for proving recovery: ``POINTCHARGE_CRASH_AT=<name>`` makes the process kill itself
(SIGKILL: no cleanup, no rollback message, exactly like a power cut) when it reaches that point.
Never active in production mode."""

from __future__ import annotations

import os
import signal

_CRASH_AT = os.environ.get("POINTCHARGE_CRASH_AT") if os.environ.get("POINTCHARGE_MODE") != "production" else None


def crash_point(name: str) -> None:
    if _CRASH_AT == name:
        os.kill(os.getpid(), signal.SIGKILL)
