"""Rate limits (the ``limits`` package): login brute force and charging floods.

Moving windows, kept in process memory by default (``memory://``: each instance counts alone) or in
Redis (``POINTCHARGE_RATE_LIMIT_STORAGE=redis://host:6379/0``) so that N instances share one count.

* Login: **failed** attempts are counted, per account and per client IP; once either is over its
  limit, further attempts are refused with ``RATE_LIMITED`` *before* the password is checked (no
  Argon2 work for an attacker). Successful logins are never counted, so an office behind one NAT
  address or a load test logging in many users is not throttled.
* Charging: every ``preparePointCharge`` / ``createPointTransactionOfLoading`` call counts against
  its user; the defaults leave room for double clicks and retry loops, not for a script.

A limit is a ``limits`` string (``"5/minute;20/hour"``); ``off`` disables it. When the storage is
unreachable (Redis down) the limiter fails open and logs: a rate limit must not take payments down.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string
from limits.aio.strategies import MovingWindowRateLimiter

from services.errors import Code, DomainError

log = logging.getLogger("pointcharge.ratelimit")

OFF = frozenset({"", "off", "none", "0", "false", "disabled"})


@dataclass(frozen=True)
class RateLimitConfig:
    storage: str = "memory://"
    login_per_account: str = "5/minute;20/hour"
    login_per_ip: str = "30/minute;300/hour"
    charge_per_user: str = "120/minute"
    prepare_per_user: str = "60/minute"


def _items(spec: str) -> tuple[RateLimitItem, ...]:
    if spec.strip().lower() in OFF:
        return ()
    return tuple(parse_many(spec))


def storage_uri(uri: str) -> tuple[str, dict[str, object]]:
    """``redis://…`` / ``rediss://…`` / ``memory://`` → the async ``limits`` URI and options."""
    uri = uri.strip() or "memory://"
    scheme = uri.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss", "redis+unix"):
        # redis-py's asyncio client (the ``redis`` package), not coredis.
        return "async+" + uri, {"implementation": "redispy"}
    if scheme == "memory":
        return "async+memory://", {}
    if scheme.startswith("async+"):
        return uri, ({"implementation": "redispy"} if "redis" in scheme else {})
    raise ValueError(f"POINTCHARGE_RATE_LIMIT_STORAGE: unsupported URI scheme {scheme!r} (memory:// or redis://)")


_EXPIRY_PASS_S = 1.0


class InProcessStorage(MemoryStorage):
    """``limits``' in-process storage with a cheaper expiry pass.

    limits (5.8) starts a pass over every key after each hit whose previous pass has ended, and
    hands each key's events to a worker thread (``asyncio.to_thread``) to find the expired ones:
    under load, passes run back to back, one thread hand-off per active user each (5 % of a
    charge's CPU with 32 users; docs/PERFORMANCE.md). Here a pass runs at most once a second and
    trims on the event loop (a bisect per key). Counting is unchanged: a moving window reads only
    the entries inside it, expired ones just wait up to a second longer to be dropped.

    The two methods are limits' private ones (name-mangled ``MemoryStorage.__…``), pinned by the
    version range in pyproject.toml; tests/services/test_ratelimit_storage.py checks they are
    still the ones called."""

    def __init__(self, uri: str | None = None, **options: object) -> None:
        super().__init__(uri, **options)  # type: ignore[arg-type]
        self._next_pass = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_pass or (self.timer is not None and not self.timer.done()):
            return
        self._next_pass = now + _EXPIRY_PASS_S
        self.timer = asyncio.create_task(self._MemoryStorage__expire_events())

    async def _MemoryStorage__expire_events(self) -> None:
        now = time.time()
        for key in list(self.events):
            events = self.events[key]
            # Newest first (acquire_entry inserts at the front): keep those not yet expired.
            kept = events[: bisect.bisect_left(events, -now, key=lambda event: -event.expiry)]
            if kept:
                self.events[key] = kept
            else:
                self.events.pop(key, None)
                if key not in self.storage:
                    self.locks.pop(key, None)
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


class RateLimiter:
    def __init__(self, config: RateLimitConfig | None = None, *, prefix: str = "pointcharge") -> None:
        self.config = config or RateLimitConfig()
        uri, options = storage_uri(self.config.storage)
        self.storage: Storage = (
            InProcessStorage(uri, key_prefix=prefix)
            if uri == "async+memory://"
            else storage_from_string(uri, key_prefix=prefix, **options)
        )
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.limits: dict[str, tuple[RateLimitItem, ...]] = {
            "login_account": _items(self.config.login_per_account),
            "login_ip": _items(self.config.login_per_ip),
            "charge": _items(self.config.charge_per_user),
            "prepare": _items(self.config.prepare_per_user),
        }

    # --- primitives ----------------------------------------------------------------------------

    async def _over(self, scope: str, key: str) -> int | None:
        """Seconds until ``key`` may try again when it is over a limit of ``scope``, else None."""
        for item in self.limits[scope]:
            try:
                if not await self.strategy.test(item, scope, key):
                    reset, _remaining = await self.strategy.get_window_stats(item, scope, key)
                    return max(1, math.ceil(reset - time.time()))
            except Exception as exc:  # noqa: BLE001 - fail open: storage trouble must not refuse logins or payments
                log.warning("rate limit storage unavailable (%s): not limiting", type(exc).__name__)
                return None
        return None

    async def _hit(self, scope: str, key: str) -> bool:
        """Counts one event; False when that took ``key`` over a limit."""
        allowed = True
        for item in self.limits[scope]:
            try:
                allowed = await self.strategy.hit(item, scope, key) and allowed
            except Exception as exc:  # noqa: BLE001 - see _over
                log.warning("rate limit storage unavailable (%s): not limiting", type(exc).__name__)
                return True
        return allowed

    @staticmethod
    def _refuse(retry_after: int | None) -> DomainError:
        return DomainError(Code.RATE_LIMITED, retryAfter=retry_after)

    # --- login ---------------------------------------------------------------------------------

    async def check_login(self, account: str | None, ip: str | None) -> None:
        """Before verifying a password: refuses when the account or the IP failed too often."""
        for scope, key in (("login_account", account), ("login_ip", ip)):
            if key:
                retry = await self._over(scope, key)
                if retry is not None:
                    log.warning("login rate limited (%s)", scope)
                    raise self._refuse(retry)

    async def login_failed(self, account: str | None, ip: str | None) -> None:
        if account:
            await self._hit("login_account", account)
        if ip:
            await self._hit("login_ip", ip)

    # --- charging ------------------------------------------------------------------------------

    async def hit_user(self, scope: str, user_id: str) -> None:
        """Counts a charging call (``charge`` or ``prepare``); refuses once the user is over."""
        if not self.limits.get(scope):
            return
        if not await self._hit(scope, user_id):
            log.warning("%s rate limited for user %s", scope, user_id)
            raise self._refuse(await self._over(scope, user_id))

    async def reset(self) -> None:
        await self.storage.reset()

    async def close(self) -> None:
        closer = getattr(self.storage, "close", None) or getattr(self.storage, "aclose", None)
        if closer is None:
            return
        try:
            result = closer()
            if hasattr(result, "__await__"):
                await result
        except Exception:  # noqa: BLE001
            pass
