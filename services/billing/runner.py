"""The billing runner: charges every subscription cycle due as of a time, then returns
(``pointcharge billing run [--at]`` for cron and tests, and a periodic task in ``serve``).

Safe with any number of runners on one PostgreSQL database: subscriptions are claimed in pages by a
conditional update (``FOR UPDATE SKIP LOCKED``, subscription_claims.py) and every write after that
is fenced on the claim, while each attempt's charge is exactly-once on its own (CardChargeService).
Bounded against the gateways: ``concurrency`` workers charge at a time, fed from a queue of at most
twice as many claimed rows, so 10,000 due rows are never loaded at once (memory stays flat) and no
claimed row waits longer than a few charges (its lease is far longer).

The job list is pluggable: ``BillingRunner(jobs=[...])`` runs each ``Job`` in turn (subscriptions
first; auto top-up adds its own) and logs one line with everyone's counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from services.billing import subscription_claims as claims
from services.billing.cycles import CycleCharger
from services.db import Database
from services.models import utcnow

log = logging.getLogger("pointcharge.billing.runner")

# A job runs whatever is due at ``at`` (at most ``limit`` items, None: all) and returns its counts.
Job = Callable[[datetime, "int | None"], Awaitable[Mapping[str, int]]]


class SubscriptionJob:
    """Runs due subscription cycles; its counts: claimed, paid, declined, suspended, unknown…"""

    name = "subscriptions"

    def __init__(self, db: Database, cycles: CycleCharger, *, concurrency: int, lease_s: float) -> None:
        self.db = db
        self.cycles = cycles
        self.concurrency = max(1, concurrency)
        self.lease_s = lease_s

    async def __call__(self, at: datetime, limit: int | None = None) -> Mapping[str, int]:
        started = utcnow()
        token = claims.new_token()
        counts: Counter[str] = Counter()
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=2 * self.concurrency)

        async def worker() -> None:
            while (subscription_id := await queue.get()) is not None:
                outcome = await self.cycles.charge_claimed(subscription_id, token, at)
                counts[outcome.kind] += 1

        workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            while limit is None or counts["claimed"] < limit:
                page = self.concurrency if limit is None else min(self.concurrency, limit - counts["claimed"])
                ids = await claims.claim_due(
                    self.db, at=at, started=started, lease_s=self.lease_s, limit=page, token=token
                )
                if not ids:
                    break
                counts["claimed"] += len(ids)
                for subscription_id in ids:
                    await queue.put(subscription_id)  # waits while the workers are busy: bounded
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        return counts


class BillingRunner:
    def __init__(self, jobs: Sequence[tuple[str, Job]]) -> None:
        self.jobs = list(jobs)

    def add_job(self, name: str, job: Job) -> None:
        self.jobs.append((name, job))

    async def run(self, at: datetime | None = None, limit: int | None = None) -> dict[str, dict[str, int]]:
        """Runs every job once for what is due at ``at`` (default: now); returns each job's counts."""
        at = at or utcnow()
        began = time.monotonic()
        report: dict[str, dict[str, int]] = {}
        for name, job in self.jobs:
            try:
                report[name] = dict(await job(at, limit))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one job's failure does not stop the others
                log.exception("billing run: job %s failed", name)
                report[name] = {"error": 1}
        summary = "; ".join(
            f"{name}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due")
            for name, counts in report.items()
        )
        log.info("billing run at %s: %s (%.1f s)", at.isoformat(timespec="seconds"), summary, time.monotonic() - began)
        return report


async def run_forever(runner: BillingRunner, every_s: float) -> None:
    """``serve``'s periodic task: a run every ``every_s`` seconds. Many instances may run it at once
    (the claims keep each cycle to one of them)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await runner.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round is logged and retried next round
            log.exception("periodic billing run failed")
