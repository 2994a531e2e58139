"""Optional periodic reconciliation inside ``serve`` (``POINTCHARGE_RECONCILE_EVERY`` seconds).

Safe with many instances: on PostgreSQL a session advisory lock lets one instance run at a time
(the others skip that round); and even without it, every fix goes through the idempotent sync,
so two reconcilers racing credit nothing twice (tests/services/test_reconcile.py shows it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from schema.app_services import Services
from services.db import Database
from services.files import FileService
from services.reconcile import Reconciler

log = logging.getLogger("pointcharge.reconcile.periodic")
LOCK_KEY = 0x706F696E74  # "point": one lock id for every pointcharge instance


async def reconcile_forever(services: Services, db: Database, every_s: float, window: timedelta) -> None:
    reconciler = Reconciler(db, services.charging, services.webhooks, extra_checks=services.reconcile_checks())
    while True:
        await asyncio.sleep(every_s)
        try:
            await reconcile_once(reconciler, db, window)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round is logged and retried next round
            log.exception("periodic reconcile failed")


async def reconcile_once(reconciler: Reconciler, db: Database, window: timedelta) -> bool:
    """Returns False when another instance holds the lock (round skipped)."""
    since = datetime.now(UTC) - window
    if db.engine.dialect.name != "postgresql":
        await _run(reconciler, since)
        return True
    async with db.engine.connect() as conn:
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})).scalar()
        await conn.commit()
        if not got:
            log.info("periodic reconcile skipped: another instance holds the lock")
            return False
        try:
            await _run(reconciler, since)
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            await conn.commit()
    return True


async def _run(reconciler: Reconciler, since: datetime) -> None:
    report = await reconciler.run(since=since, apply=True)
    fixed = sum(1 for d in report.differences if d.fixed)
    level = logging.WARNING if report.remaining else logging.INFO
    log.log(level, "periodic reconcile: %d checked, %d differences, %d fixed, %d remaining",
            report.checked_remote, len(report.differences), fixed, len(report.remaining))


async def clean_files_forever(files: FileService, every_s: float, older_than: timedelta) -> None:
    """Deletes unused uploads (services/files.py). Safe with many instances: each row is claimed by
    a conditional update before its object is deleted."""
    log_files = logging.getLogger("pointcharge.files.periodic")
    while True:
        await asyncio.sleep(every_s)
        try:
            removed = await files.cleanup(older_than)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed round is logged and retried next round
            log_files.exception("periodic file cleanup failed")
        else:
            if removed:
                log_files.info("periodic file cleanup: %d unused uploads removed", removed)
