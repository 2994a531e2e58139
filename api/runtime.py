"""The services outside the web server (CLI commands, the periodic reconciler)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from schema.app_services import Services
from services.db import Database
from services.settings import Settings


@asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[tuple[Services, Database]]:
    from api.app import build_services, open_database, portone_http

    db = open_database(settings)
    http = portone_http(settings)
    try:
        yield build_services(settings, db, http), db
    finally:
        await http.aclose()
        await db.dispose()
