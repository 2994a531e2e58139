"""The services outside the web server (CLI commands, the periodic reconciler)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from schema.app_services import Services
from services.db import Database
from services.settings import Settings


@asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[tuple[Services, Database]]:
    from api.app import build_services

    db = Database.from_url(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.portone_timeout_s, connect=5.0))
    try:
        yield build_services(settings, db, http), db
    finally:
        await http.aclose()
        await db.dispose()
