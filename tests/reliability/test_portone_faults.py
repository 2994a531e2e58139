"""PortOne misbehaving (the sandbox's fault knobs): every client gets a clear answer — the charge, or
``PORTONE_UNAVAILABLE`` — and after the faults clear, the next webhook or reconciliation leaves every
paid payment credited exactly once. Plus back-pressure: a slow PortOne does not take the database
pool, ``/healthz`` or other users' reads down with it.

(Single-payment retries after 5xx / garbage / timeouts are in tests/schema/test_charging.py::
test_portone_down_then_retry_succeeds; this file does it under concurrency, for every knob.)
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.runtime import runtime
from services.reconcile import Reconciler
from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code, ledger_invariants

PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { _id amount } }"
HISTORY = "{ fetchPointTransactionsOfLoading(page: 1) { _id amount } }"
GET_PAYMENT = "GET /v1/payments/{imp_uid}"


async def reconcile(clean_db: str, sandbox: SandboxControl) -> object:
    async with runtime(api_settings(clean_db, sandbox)) as (services, db):
        return await Reconciler(db, services.charging, services.webhooks).run(
            since=datetime.now(UTC) - timedelta(days=1), apply=True
        )


async def charges(clean_db: str) -> int:
    return await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE amount > 0")


async def paid_orders(api: GQL, sandbox: SandboxControl, n: int, *, webhook: bool = False) -> list[dict]:
    out = []
    for _ in range(n):
        order = (await api(PREPARE, {"a": 5000}))["data"]["preparePointCharge"]
        out.append(await sandbox.pay(5000, merchant_uid=order["merchantUid"], webhook=webhook))
    return out


FAULTS = {
    "latency_below_timeout": {"latency_ms": 400},
    "timeouts": {"timeout_rate": 1.0, "timeout_s": 3},  # our client gives up after 2 s (x3 tries)
    "http_5xx": {"error_rate": 1.0},
    "malformed_json": {"malformed_rate": 1.0},
    "token_expiry_mid_flight": {"token_expired": True},
    "mixed_30pct": {"error_rate": 0.3, "malformed_rate": 0.2, "timeout_rate": 0.1, "timeout_s": 3, "seed": 7},
}


@pytest.mark.parametrize("kind", list(FAULTS))
async def test_fault_gives_a_clear_code_then_reconcile_credits_once(
    api: GQL, sandbox: SandboxControl, clean_db: str, kind: str
) -> None:
    # given 8 paid orders whose webhooks never came, and PortOne misbehaving on payment lookups
    user_id = await api.signup_and_login()
    payments = await paid_orders(api, sandbox, 8)
    knobs = dict(FAULTS[kind])
    if "token_expired" not in knobs:
        knobs["endpoints"] = [GET_PAYMENT]
    await sandbox.faults(**knobs)

    # when the user claims all of them at once, twice (a double click)
    results = await asyncio.gather(*(api(CHARGE, {"i": p["imp_uid"]}) for p in payments for _ in range(2)))

    # then every answer is the charge or PORTONE_UNAVAILABLE, never anything else
    codes = Counter(error_code(r) or "OK" for r in results)
    assert set(codes) <= {"OK", "PORTONE_UNAVAILABLE"}, codes
    if kind in ("latency_below_timeout", "token_expiry_mid_flight"):
        assert codes == {"OK": 16}
    if kind in ("timeouts", "http_5xx", "malformed_json"):
        assert codes == {"PORTONE_UNAVAILABLE": 16}
    # and exactly the payments someone got an OK for are credited, once each
    ok = {payments[i // 2]["imp_uid"] for i, r in enumerate(results) if error_code(r) is None}
    assert await charges(clean_db) == len(ok)
    assert await count_rows(clean_db, "SELECT COUNT(*) - COUNT(DISTINCT payment_key) FROM point_transactions") == 0

    # when PortOne recovers and reconciliation runs
    await sandbox.clear_faults()
    report = await reconcile(clean_db, sandbox)

    # then every paid payment is credited exactly once
    assert report.clean, [d for d in report.remaining]  # type: ignore[attr-defined]
    assert await charges(clean_db) == 8
    assert await ledger_invariants(clean_db) == {user_id: 40_000}
    # and the user's retry gets the original entries
    again = await asyncio.gather(*(api(CHARGE, {"i": p["imp_uid"]}) for p in payments))
    assert all(error_code(r) is None for r in again)


async def test_prepare_and_cancel_answers_lost_after_portone_processed(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a credited charge
    user_id = await api.signup_and_login()
    paid = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"i": paid["imp_uid"]})) is None
    # when PortOne processes the cancel but its answer is lost (5xx after processing)
    await sandbox.faults(error_rate=1.0, process_before_fault=True, endpoints=["POST /v1/payments/cancel"])
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) == "PORTONE_UNAVAILABLE"
    # and the prepare answer is lost the same way
    await sandbox.faults(error_rate=1.0, process_before_fault=True, endpoints=["POST /v1/payments/prepare"])
    assert error_code(await api(PREPARE, {"a": 5000})) == "PORTONE_UNAVAILABLE"
    await sandbox.clear_faults()
    # then reconciliation claws the refunded points back exactly once
    report = await reconcile(clean_db, sandbox)
    assert report.clean, report.remaining  # type: ignore[attr-defined]
    assert await ledger_invariants(clean_db) == {user_id: 0}
    at_portone = await sandbox.v1_payment(paid["imp_uid"])
    assert at_portone["cancel_amount"] == 5000 and len(at_portone["cancel_history"]) == 1
    # and a second reconciliation changes nothing
    assert (await reconcile(clean_db, sandbox)).clean  # type: ignore[attr-defined]
    assert await ledger_invariants(clean_db) == {user_id: 0}


async def test_webhooks_dropped_duplicated_and_delayed(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given PortOne's webhooks pointed at us, half of them dropped, the rest sent twice and late
    sandbox.config.webhook_url = str(api.client.base_url).rstrip("/") + "/webhooks/portone"  # type: ignore[attr-defined]
    user_id = await api.signup_and_login()
    await sandbox.faults(webhook_drop_rate=0.5, webhook_duplicate=1.0, webhook_delay_ms=200, seed=3)
    # when 12 prepared orders are paid and every browser is closed (nobody sends the mutation)
    payments = await paid_orders(api, sandbox, 12, webhook=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = (await sandbox.http.get("/_control/webhooks")).json()
        if not log["pending"]:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    by_webhook = await charges(clean_db)
    # then the delivered ones are credited once each (duplicates change nothing) …
    assert 0 < by_webhook < 12
    assert await count_rows(clean_db, "SELECT COUNT(*) - COUNT(DISTINCT payment_key) FROM point_transactions") == 0
    # … and reconciliation credits the dropped ones, exactly once
    await sandbox.clear_faults()
    report = await reconcile(clean_db, sandbox)
    fixed = Counter(d.kind for d in report.differences if d.fixed)  # type: ignore[attr-defined]
    assert fixed["paid_not_credited"] == 12 - by_webhook, report.differences  # type: ignore[attr-defined]
    assert await charges(clean_db) == 12
    assert await ledger_invariants(clean_db) == {user_id: 60_000}
    assert await count_rows(clean_db, "SELECT COUNT(DISTINCT payment_key) FROM point_transactions") == len(payments)


# --- back-pressure -------------------------------------------------------------------------------


SLOW = {
    # PortOne answers after 5 s; our timeout is the production default (10 s): every charge waits.
    "latency_5s": ({"latency_ms": 5000}, 10.0),
    # PortOne hangs; our timeout (4 s here) fires on each of the 3 tries.
    "hanging": ({"timeout_rate": 1.0, "timeout_s": 8}, 4.0),
}


@pytest.fixture(params=list(SLOW))
async def slow_api(request: pytest.FixtureRequest, clean_db: str, sandbox: SandboxControl) -> AsyncIterator[tuple[str, object, str]]:
    """The API and its app object (so that the test can look at its database pool)."""
    from api.app import create_app
    from tests.servers import run_server

    app = create_app(api_settings(clean_db, sandbox, portone_timeout_s=SLOW[request.param][1],
                                  rate_limit_charge="off", rate_limit_prepare="off"))
    with run_server(app) as url:
        yield url, app, request.param


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 1) if values else 0.0


async def test_slow_portone_does_not_exhaust_the_pool_or_block_others(
    slow_api: tuple[str, object, str], sandbox: SandboxControl, clean_db: str
) -> None:
    url, app, fault = slow_api
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=300)) as http:
        gql = GQL(http)
        # given 10 users with 10 paid payments each, and one more user reading their history
        tokens = []
        for i in range(10):
            await gql.signup_and_login(f"slow{i}@example.com")
            tokens.append(gql.token)
        await gql.signup_and_login("reader@example.com")
        reader = gql.token
        payments = [await sandbox.pay(1000) for _ in range(100)]
        pool = app.state.db.engine.sync_engine.pool  # type: ignore[attr-defined]
        # when PortOne answers payment lookups only after 5 s (or hangs past our timeout)
        await sandbox.faults(**SLOW[fault][0], endpoints=[GET_PAYMENT])
        await sandbox.http.delete("/_control/stats")
        # when the 1st lookup reached PortOne at the earliest and the 100th at the latest: the 1st is
        # bounded below by the last poll that still saw none (a loaded CI machine answers a poll late,
        # and a late reading would stretch the window into the first answers' credits)
        arrivals: list[float] = []

        async def watch_portone() -> None:
            last_empty = 0.0
            while len(arrivals) < 2 and not stop.is_set():
                polled = time.monotonic() - started_all
                n = (await sandbox.stats()).get(GET_PAYMENT, 0)
                if n == 0:
                    last_empty = polled
                elif not arrivals:
                    arrivals.append(last_empty)
                if n >= 100:
                    arrivals.append(time.monotonic() - started_all)
                await asyncio.sleep(0.02)

        async def charge(i: int) -> tuple[str, float]:
            started = time.monotonic()
            result = await gql(CHARGE, {"i": payments[i]["imp_uid"]}, token=tokens[i % 10])
            return error_code(result) or "OK", time.monotonic() - started

        health: list[float] = []
        history: list[tuple[float, float]] = []
        checked_out: list[tuple[float, int]] = []
        stop = asyncio.Event()

        async def observe_health() -> None:
            while not stop.is_set():
                started = time.monotonic()
                assert (await http.get("/healthz")).status_code == 200
                health.append(time.monotonic() - started)
                await asyncio.sleep(0.05)

        async def observe_history() -> None:
            while not stop.is_set():
                started = time.monotonic()
                assert "errors" not in await gql(HISTORY, token=reader)
                history.append((started - started_all, time.monotonic() - started))
                await asyncio.sleep(0.05)

        async def observe_pool() -> None:  # the server runs in a thread of this process
            while not stop.is_set():
                checked_out.append((time.monotonic() - started_all, pool.checkedout()))
                await asyncio.sleep(0.02)

        started_all = time.monotonic()
        observers = [asyncio.create_task(f()) for f in (observe_health, observe_history, observe_pool, watch_portone)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        results = await asyncio.gather(*(charge(i) for i in range(100)))
        wall = time.monotonic() - started
        stop.set()
        await asyncio.gather(*observers)
        await sandbox.clear_faults()

    codes = Counter(code for code, _ in results)
    # the window in which all 100 charges wait on PortOne: the last has arrived, the first has not
    # been answered yet (latency: 5 s) or timed out (hanging: 4 s)
    assert len(arrivals) == 2, arrivals
    window = (arrivals[1] + 0.05, arrivals[0] + (4.9 if fault == "latency_5s" else 3.9))
    waiting = [n for t, n in checked_out if window[0] <= t <= window[1]]
    everything = [n for _, n in checked_out]
    reads = [d for _, d in history]
    reads_waiting = [d for t, d in history if window[0] <= t <= window[1]]
    durations = [d for _, d in results]
    print(
        f"\nback-pressure {fault}: 100 concurrent charges in {wall:.1f}s, codes {dict(codes)}, "
        f"charge p50 {pct(durations, 0.5)} ms max {pct(durations, 1.0)} ms; "
        f"/healthz p50 {pct(health, 0.5)} p95 {pct(health, 0.95)} max {pct(health, 1.0)} ms (n={len(health)}); "
        f"other user's history p50 {pct(reads, 0.5)} p95 {pct(reads, 0.95)} max {pct(reads, 1.0)} ms "
        f"(while all 100 wait on PortOne: max {pct(reads_waiting, 1.0)} ms); "
        f"DB pool checked out while they wait ({window[0]:.1f}-{window[1]:.1f} s): max {max(waiting, default=0)}, "
        f"over the whole run: max {max(everything, default=0)} mean {statistics.fmean(everything or [0]):.1f} "
        f"(pool {pool.size()}+{pool._max_overflow})"  # type: ignore[attr-defined]
    )
    if fault == "latency_5s":
        assert codes == {"OK": 100}
    else:
        assert codes == {"PORTONE_UNAVAILABLE": 100}
    # the 100 requests waiting on PortOne hold no database connection (the reader's at most) …
    assert waiting and max(waiting) <= 2, checked_out
    # … so /healthz and another user's reads stay fast while they wait
    assert pct(health, 0.95) < 1000
    assert reads_waiting and pct(reads_waiting, 1.0) < 1000
    assert await ledger_invariants(clean_db) is not None
