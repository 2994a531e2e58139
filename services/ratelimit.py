"""Rate limits (the ``limits`` package): login brute force, sign-ups, charging and cancel floods,
item writes, and webhook/redirect floods per address.

Moving windows, kept in process memory by default (``memory://``: each instance counts alone) or in
Redis (``POINTCHARGE_RATE_LIMIT_STORAGE=redis://host:6379/0``) so that N instances share one count.

* Login: every attempt takes a slot, per client IP and per account, *atomically and before* the
  password is checked (hit-then-verify: the moving window's acquire is one locked step in memory, one
  Lua script in Redis), so N parallel attempts cannot all pass a check made before any of them
  failed. Past the limit, ``RATE_LIMITED`` with no Argon2 work. A successful login gives its slot
  back (an office behind one NAT address, a load test logging many users in, are not throttled) —
  except while that account or address is being refused (a burst is under way), so that a right
  password among a burst cannot free a slot for one more guess.
* Charging: every ``preparePointCharge`` / ``createPointTransactionOfLoading`` call counts against
  its user; the defaults leave room for double clicks and retry loops, not for a script.
* Per user: ``cancelPointTransaction``, ``resetUserPassword``, item writes. Per client IP:
  ``createUser``, and ``/webhooks/portone`` + ``/payments/complete`` (each its own count). Every
  per-IP count keys IPv6 clients by prefix (``address_key``: /64 by default), IPv4-mapped as IPv4.
* A de-duplication window per payment (``first_in_window``): it only saves PortOne calls — every
  sync is idempotent — so memory storage (one window per instance) is as correct as Redis.

A limit is a ``limits`` string (``"5/minute;20/hour"``); ``off`` disables it. When the storage is
unreachable (Redis down) the limiter fails open and logs: a rate limit must not take payments down.
"""

from __future__ import annotations

import asyncio
import bisect
import ipaddress
import logging
import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
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
    signup_per_ip: str = "20/minute;200/hour"
    cancel_per_user: str = "10/minute;50/hour"
    item_per_user: str = "60/minute;1000/hour"
    upload_per_user: str = "30/minute;300/hour"
    password_reset_per_user: str = "5/minute;20/hour"
    webhook_per_ip: str = "1200/minute"
    # An IPv6 client usually holds a whole /64 (SLAAC, privacy addresses): counted per prefix.
    ipv6_prefix: int = 64


def address_key(ip: str, ipv6_prefix: int = 64) -> str:
    """The key an address is counted under: IPv4 as it is (an IPv4-mapped IPv6 address too), IPv6
    by its ``/ipv6_prefix`` network — one host picks any address of its /64 at will, so counting each
    address alone would multiply every per-IP limit by 2^64."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


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


def _refused_key(scope: str, key: str) -> str:
    return f"refused/{scope}/{key}"


@dataclass
class LoginAttempt:
    """The slots one login attempt holds (limit item, scope, key)."""

    held: list[tuple[RateLimitItem, str, str]] = field(default_factory=list)


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
            "signup": _items(self.config.signup_per_ip),
            "cancel": _items(self.config.cancel_per_user),
            "item": _items(self.config.item_per_user),
            "upload": _items(self.config.upload_per_user),
            "password_reset": _items(self.config.password_reset_per_user),
            "webhook": _items(self.config.webhook_per_ip),
            "redirect": _items(self.config.webhook_per_ip),  # same limit, its own count
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

    async def begin_login(self, account: str | None, ip: str | None) -> "LoginAttempt":
        """Takes this attempt's slot per client IP, then per account, before the password is
        checked; refuses (``RATE_LIMITED``) when either is full. The acquire is atomic, so
        parallel attempts never all pass."""
        attempt = LoginAttempt()
        for scope, key in (("login_ip", self._address(ip)), ("login_account", account)):
            if not key:
                continue
            for item in self.limits[scope]:
                try:
                    acquired = await self.strategy.hit(item, scope, key)
                except Exception as exc:  # noqa: BLE001 - fail open, see _over
                    log.warning("rate limit storage unavailable (%s): not limiting", type(exc).__name__)
                    continue
                if not acquired:
                    await self._give_back(attempt.held)  # a refused attempt costs nothing
                    await self._mark_refused(scope, key, item)
                    log.warning("login rate limited (%s)", scope)
                    raise self._refuse(await self._retry_after(item, scope, key))
                attempt.held.append((item, scope, key))
        return attempt

    async def login_succeeded(self, attempt: "LoginAttempt") -> None:
        """A right password gives its slot back, unless its account or address is being refused
        right now (a burst: the slot would be one more guess for the others)."""
        returned: list[tuple[RateLimitItem, str, str]] = []
        for held in attempt.held:
            _item, scope, key = held
            try:
                refused = await self.storage.get(_refused_key(scope, key))
            except Exception:  # noqa: BLE001
                refused = 1
            if not refused:
                returned.append(held)
        await self._give_back(returned)

    async def _mark_refused(self, scope: str, key: str, item: RateLimitItem) -> None:
        try:
            await self.storage.incr(_refused_key(scope, key), item.get_expiry())
        except Exception:  # noqa: BLE001
            pass

    async def _retry_after(self, item: RateLimitItem, scope: str, key: str) -> int | None:
        try:
            reset, _remaining = await self.strategy.get_window_stats(item, scope, key)
        except Exception:  # noqa: BLE001
            return None
        return max(1, math.ceil(reset - time.time()))

    async def _give_back(self, held: list[tuple[RateLimitItem, str, str]]) -> None:
        """Removes one entry from each moving window (the newest: the count is what matters).
        limits has no "un-hit"; the moving window is a newest-first list in both storages (memory:
        ``events[key]``; Redis: a list the acquire script LPUSHes to), pinned by pyproject's range."""
        for item, scope, key in held:
            full_key = item.key_for(scope, key)
            try:
                if isinstance(self.storage, MemoryStorage):
                    async with self.storage.locks[full_key]:
                        events = self.storage.events.get(full_key)
                        if events:
                            events.pop(0)
                else:
                    bridge = self.storage.bridge  # type: ignore[attr-defined]
                    await bridge.get_connection().lpop(bridge.prefixed_key(full_key))
            except Exception as exc:  # noqa: BLE001 - at worst the slot expires with its window
                log.warning("rate limit slot not given back (%s)", type(exc).__name__)

    # --- per address ------------------------------------------------------------------------------

    def exempt(self, scope: str) -> bool:
        return not self.limits.get(scope)

    def _address(self, ip: str | None) -> str | None:
        return address_key(ip, self.config.ipv6_prefix) if ip else None

    async def hit_ip(self, scope: str, ip: str | None) -> int | None:
        """Counts a request from ``ip`` (IPv6: its prefix); returns seconds to wait when it is over
        (None: go on)."""
        key = self._address(ip)
        if not key or not self.limits.get(scope):
            return None
        if await self._hit(scope, key):
            return None
        log.warning("%s rate limited for address %s", scope, key)
        return await self._over(scope, key) or 1

    async def hit_address(self, scope: str, ip: str) -> None:
        """``hit_user`` for a call counted per client address (IPv6: its prefix): refuses once over."""
        key = self._address(ip)
        if key:
            await self.hit_user(scope, key)

    async def first_in_window(self, key: str, seconds: float) -> bool:
        """True for the first call with ``key`` in a ``seconds`` moving window, False for the
        others. Fails open (True): it only saves work that is safe to repeat."""
        if seconds <= 0:
            return True
        item = RateLimitItemPerSecond(1, max(1, math.ceil(seconds)))
        try:
            return await self.strategy.hit(item, "window", key)
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limit storage unavailable (%s): no de-duplication", type(exc).__name__)
            return True

    async def forget_window(self, key: str, seconds: float) -> None:
        """Ends ``key``'s window early: the next ``first_in_window`` is first again (a fetch that
        failed must not make the deliveries after it duplicates of nothing)."""
        if seconds <= 0:
            return
        item = RateLimitItemPerSecond(1, max(1, math.ceil(seconds)))
        try:
            await self.strategy.clear(item, "window", key)
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limit storage unavailable (%s): window not cleared", type(exc).__name__)

    # --- charging ------------------------------------------------------------------------------

    async def hit_user(self, scope: str, user_id: str) -> None:
        """Counts a call of ``scope`` (``charge``, ``prepare``, ``cancel``, ``item``, ``signup`` keyed by
        address…) for ``user_id``; refuses once it is over."""
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
