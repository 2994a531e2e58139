"""The migrations build the schema the models declare (alembic autogenerate finds nothing to do),
on whichever database the suite runs on, and the last one reverses cleanly."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from api.migrate import alembic_config


async def _differences(url: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
    finally:
        await engine.dispose()


async def test_head_matches_the_models_after_a_downgrade_and_upgrade_of_0008(clean_db: str) -> None:
    cfg = alembic_config(clean_db)
    # given the database at head, taken back before 0008 (the key renames) and up again
    await asyncio.to_thread(command.downgrade, cfg, "0007")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    # then autogenerate finds no difference between it and the models
    assert await _differences(clean_db) == []
