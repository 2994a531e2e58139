"""The in-process rate-limit storage (services/ratelimit.py ``InProcessStorage``): limits' own
moving window, with an expiry pass that neither runs after every hit nor leaves the event loop."""

from __future__ import annotations

import asyncio

import pytest

from services.errors import Code, DomainError
from services.ratelimit import InProcessStorage, RateLimitConfig, RateLimiter


async def _hits(limiter: RateLimiter, user: str, n: int) -> list[bool]:
    allowed = []
    for _ in range(n):
        try:
            await limiter.hit_user("charge", user)
            allowed.append(True)
        except DomainError as exc:
            assert exc.code == Code.RATE_LIMITED
            allowed.append(False)
    return allowed


async def test_the_moving_window_still_limits_and_expired_entries_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a limit of 3 charges a second per user, in process memory
    limiter = RateLimiter(RateLimitConfig(charge_per_user="3/second"))
    assert isinstance(limiter.storage, InProcessStorage)
    handed_off: list[object] = []
    monkeypatch.setattr(asyncio, "to_thread", lambda *a, **k: handed_off.append(a))
    # when two users charge 5 times each at once
    # then each gets 3, independently
    assert await _hits(limiter, "u1", 5) == [True, True, True, False, False]
    assert await _hits(limiter, "u2", 5) == [True, True, True, False, False]
    # and once the second has passed, u1 may charge again
    await asyncio.sleep(1.1)
    assert await _hits(limiter, "u1", 1) == [True]
    # and the pass that runs then (at most once a second, on the event loop) dropped u2's
    # expired entries and kept u1's fresh one
    assert limiter.storage.timer is not None
    await limiter.storage.timer
    keys = list(limiter.storage.events)
    assert len(keys) == 1 and "/u1/" in keys[0]
    assert handed_off == []


async def test_a_burst_of_hits_starts_one_expiry_pass_not_one_per_hit() -> None:
    # given the in-process storage
    limiter = RateLimiter(RateLimitConfig(charge_per_user="1000/second"))
    storage = limiter.storage
    assert isinstance(storage, InProcessStorage)
    passes = 0
    original = storage._MemoryStorage__expire_events

    async def counted() -> None:
        nonlocal passes
        passes += 1
        await original()

    storage._MemoryStorage__expire_events = counted  # type: ignore[method-assign]
    # when 200 hits from 20 users arrive within a few milliseconds, letting the loop run between
    for i in range(200):
        await limiter.hit_user("charge", f"u{i % 20}")
        await asyncio.sleep(0)
    # then limits' storage called our scheduler (its private hook is still the one we override),
    # and it ran a single pass
    assert passes == 1
