"""Concurrent calls for one key in this process share the first one's outcome (a confirm of one
held payment: twenty racing claims send one ``POST /confirm``, not twenty). Other processes are
not covered; for them the gateway's own refusal of a repeat is the guard."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


def _retrieve(future: asyncio.Future) -> None:  # type: ignore[type-arg]
    # A failure nobody else waited for is the leader's to raise: not "never retrieved" noise.
    if not future.cancelled():
        future.exception()


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The leader was cancelled (its client went away), not us: ask ourselves.
                return await self.run(key, call)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        self._running[key] = future
        try:
            result = await call()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._running[key]
