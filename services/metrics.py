"""Prometheus metrics: every metric pointcharge exports is defined here, in one place.

Labels are low-cardinality on purpose — operation names are bounded to the schema's root fields,
outcomes and error codes to fixed catalogues, PortOne paths to endpoint templates. Never put a user
id, a payment id or anything a client chooses freely into a label.

Single process: the default registry, plus a collector that reads the database pool at scrape time.
Several workers (``pointcharge serve --workers N``): the CLI sets ``PROMETHEUS_MULTIPROC_DIR`` before
the workers start, prometheus-client then keeps every value in per-process files, ``/metrics`` sums
them with a ``MultiProcessCollector``, and the pool gauges are kept up to date by pool events
(a scrape reaches one worker, which cannot read the others' pools).
"""

from __future__ import annotations

import os
import re
import time
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.errors import Code, DomainError

# prometheus-client decides once, at import, from PROMETHEUS_MULTIPROC_DIR; so do we.
MULTIPROCESS = values.ValueClass is not values.MutexValue

NONE = "none"  # the ``code`` label of a success
OTHER = "other"
_KNOWN_CODES = frozenset(v for k, v in vars(Code).items() if k.isupper() and isinstance(v, str))

# --- GraphQL ---------------------------------------------------------------------------------

GRAPHQL_REQUESTS = Counter(
    "pointcharge_graphql_requests",
    "GraphQL operations by root field (bounded to the schema's root fields, else 'other') and "
    "outcome ('ok' or the first error's extensions.code)",
    ["operation", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "pointcharge_graphql_request_duration_seconds",
    "GraphQL request handling time by root field",
    ["operation"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- money -----------------------------------------------------------------------------------

CHARGES = Counter(
    "pointcharge_charges",
    "Payment syncs that may credit points, by source (mutation, webhook, redirect), outcome "
    "(credited, already_credited, pending, …, or 'error') and error code ('none' on success)",
    ["source", "outcome", "code"],
)
POINTS_CREDITED = Counter(
    "pointcharge_points_credited",
    "Points credited by new credits (KRW), by source; retries and already-credited syncs add nothing",
    ["source"],
)
CANCELS = Counter(
    "pointcharge_cancels",
    "cancelPointTransaction calls by outcome ('succeeded' or 'error') and error code",
    ["outcome", "code"],
)
RECONCILE_DIFFERENCES = Counter(
    "pointcharge_reconcile_differences",
    "Differences between the gateways and our records found by reconciliation, by kind",
    ["kind"],
)

# --- webhooks --------------------------------------------------------------------------------

WEBHOOK_DELIVERIES = Counter(
    "pointcharge_webhook_deliveries",
    "Webhook deliveries by provider and result: received (stored, to be processed), ignored, "
    "rejected, then processed or failed",
    ["provider", "result"],
)

# --- PortOne HTTP ----------------------------------------------------------------------------

PORTONE_LATENCY = Histogram(
    "pointcharge_portone_request_duration_seconds",
    "PortOne REST requests (until the response headers) by endpoint template and outcome "
    "(2xx/3xx/4xx/5xx, or 'error' for timeouts and connection failures)",
    ["endpoint", "outcome"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# --- database pool ---------------------------------------------------------------------------

_POOL_HELP = {
    "pointcharge_db_pool_checked_out": "Database connections currently checked out of the pool",
    "pointcharge_db_pool_size": "Configured database pool size (persistent connections)",
    "pointcharge_db_pool_max_overflow": "Connections the pool may open beyond its size under load",
}
# Multiprocess only (see the module docstring); each worker writes its own value, /metrics sums
# the live ones. Not registered: in a single process the scrape-time collector reports instead.
_MP_POOL = {
    name: Gauge(name, help_, multiprocess_mode="livesum", registry=None) for name, help_ in _POOL_HELP.items()
}


def bounded_code(code: str | None) -> str:
    return code if code in _KNOWN_CODES else OTHER


def error_code(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return bounded_code(exc.code)
    return Code.INTERNAL_SERVER_ERROR


def count_charge(source: str, outcome: str, *, code: str = NONE, credited: int = 0) -> None:
    """One sync that may credit points. ``credited``: the amount of a *new* credit, else 0."""
    CHARGES.labels(source, outcome, code).inc()
    if credited > 0:
        POINTS_CREDITED.labels(source).inc(credited)


def count_charge_error(source: str, exc: BaseException) -> None:
    count_charge(source, "error", code=error_code(exc))


# --- PortOne HTTP instrumentation (httpx event hooks + a transport for failures) -------------

_STARTED = "pointcharge.started"


def _templates(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    # Matched against the end of the path, so the base URL's own path (the sandbox's
    # /sandbox/portone/v1) does not matter. Most specific first.
    return tuple((re.compile(pattern + r"/?$"), template) for pattern, template in pairs)


_V1_ENDPOINTS = _templates(
    (
        (r"/users/getToken", "/users/getToken"),
        (r"/payments/prepare/[^/]+", "/payments/prepare/{merchant_uid}"),
        (r"/payments/prepare", "/payments/prepare"),
        (r"/payments/cancel", "/payments/cancel"),
        (r"/payments/status/[^/]+", "/payments/status/{status}"),
        (r"/payments/find/[^/]+(?:/[^/]+)?", "/payments/find/{merchant_uid}"),
        (r"/payments/findAll/[^/]+(?:/[^/]+)?", "/payments/findAll/{merchant_uid}"),
        (r"/subscribe/customers/[^/]+", "/subscribe/customers/{customer_uid}"),
        (r"/subscribe/payments/again", "/subscribe/payments/again"),
        (r"/payments/[^/]+", "/payments/{imp_uid}"),
    )
)
_V2_ENDPOINTS = _templates(
    (
        (r"/payments/[^/]+/(cancel|pre-register|confirm|instant|capture|transactions)", "/payments/{payment_id}/\\1"),
        (r"/payments/[^/]+", "/payments/{payment_id}"),
        (r"/(payments|payments-by-cursor|payment-events-by-cursor)", "/\\1"),
        (r"/login/api-secret", "/login/api-secret"),
    )
)


_BOOTPAY_ENDPOINTS = _templates(
    (
        (r"/receipt/[^/]+", "/v2/receipt/{receipt_id}"),
        (r"/(cancel|confirm|request/token)", "/v2/\\1"),
    )
)


def portone_endpoint(method: str, url: httpx.URL | str) -> str:
    """``GET /payments/{imp_uid}``: the request's endpoint template, ids left out (Bootpay's too,
    on the same shared client: ``GET /v2/receipt/{receipt_id}``)."""
    url = httpx.URL(url) if isinstance(url, str) else url
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")  # still percent-encoded
    bootpay = url.host.endswith("bootpay.co.kr") or "/bootpay/" in path
    v2 = url.host.endswith("portone.io") or "/v2/" in path
    for pattern, template in _BOOTPAY_ENDPOINTS if bootpay else _V2_ENDPOINTS if v2 else _V1_ENDPOINTS:
        match = pattern.search(path)
        if match:
            return f"{method.upper()} {match.expand(template)}"
    return f"{method.upper()} {OTHER}"


def _observe(request: httpx.Request, outcome: str) -> None:
    started = request.extensions.get(_STARTED)
    if started is None:
        return
    PORTONE_LATENCY.labels(portone_endpoint(request.method, request.url), outcome).observe(
        time.perf_counter() - started
    )


async def _on_request(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()


async def _on_response(response: httpx.Response) -> None:
    _observe(response.request, f"{response.status_code // 100}xx")


def portone_event_hooks() -> dict[str, list[Any]]:
    """For ``httpx.AsyncClient(event_hooks=…)``: times every request until its response headers."""
    return {"request": [_on_request], "response": [_on_response]}


class MeasuredTransport(httpx.AsyncBaseTransport):
    """Counts the requests that never get a response (no response hook runs for those)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self.inner.handle_async_request(request)
        except httpx.TransportError:
            _observe(request, "error")
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- database pool ---------------------------------------------------------------------------

_pools: weakref.WeakSet[Any] = weakref.WeakSet()


def _pool_numbers(pool: Any) -> tuple[int, int, int] | None:
    try:
        return int(pool.checkedout()), int(pool.size()), max(0, int(getattr(pool, "_max_overflow", 0)))
    except (AttributeError, TypeError):  # pools without a size (NullPool, StaticPool)
        return None


class _PoolCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals = [0, 0, 0]
        for pool in list(_pools):
            numbers = _pool_numbers(pool)
            if numbers is not None:
                totals = [a + b for a, b in zip(totals, numbers)]
        for (name, help_), value in zip(_POOL_HELP.items(), totals):
            yield GaugeMetricFamily(name, help_, value=value)


if not MULTIPROCESS:
    REGISTRY.register(_PoolCollector())


def _mp_checkout(*_: Any) -> None:
    _MP_POOL["pointcharge_db_pool_checked_out"].inc()


def _mp_checkin(*_: Any) -> None:
    _MP_POOL["pointcharge_db_pool_checked_out"].dec()


def track_pool(engine: AsyncEngine) -> None:
    """Reports this engine's pool in the pool gauges until ``untrack_pool``."""
    pool = engine.sync_engine.pool
    if not MULTIPROCESS:
        _pools.add(pool)
        return
    numbers = _pool_numbers(pool)
    if numbers is None:
        return
    _, size, overflow = numbers
    _MP_POOL["pointcharge_db_pool_size"].inc(size)
    _MP_POOL["pointcharge_db_pool_max_overflow"].inc(overflow)
    event.listen(pool, "checkout", _mp_checkout)
    event.listen(pool, "checkin", _mp_checkin)


def untrack_pool(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    if not MULTIPROCESS:
        _pools.discard(pool)
        return
    numbers = _pool_numbers(pool)
    if numbers is None or not event.contains(pool, "checkout", _mp_checkout):
        return
    _, size, overflow = numbers
    _MP_POOL["pointcharge_db_pool_size"].dec(size)
    _MP_POOL["pointcharge_db_pool_max_overflow"].dec(overflow)
    event.remove(pool, "checkout", _mp_checkout)
    event.remove(pool, "checkin", _mp_checkin)


def process_exiting() -> None:
    """A worker shutting down cleanly: drop its live gauges from the shared directory."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())


# --- exposition ------------------------------------------------------------------------------


def render() -> tuple[bytes, str]:
    """The ``/metrics`` body and content type: this process, or all workers in multiprocess mode."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
