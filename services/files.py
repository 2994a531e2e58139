"""Uploaded images (``uploadFile``): checked, stripped of metadata, stored, and removed again when
nothing uses them.

A file's ``url`` is codecamp's ``<bucket>/<yyyy>/<m>/<d>/<random>.<ext>``, relative to the public
base (``POINTCHARGE_STORAGE_PUBLIC_BASE``); its object key in the store is the part after
``<bucket>/``. An upload is unused until an item (``images``) or a user picture of its uploader
names it (``mark_used``, in the item's or user's own transaction); ``cleanup`` deletes unused
uploads older than a day. The claim (``deleted_at``) comes before the object's deletion and
``mark_used`` skips claimed rows, so the two never both win.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.errors import Code, DomainError
from services.images import CONTENT_TYPES, clean_image
from services.models import FileUpload, utcnow
from services.storage import Storage

KEY = re.compile(r"\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]{32}\.(?:" + "|".join(CONTENT_TYPES) + ")")
# A stored url, alone or at the end of an absolute address built from it (publicBase + url).
_URL_TAIL = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*/" + KEY.pattern + r")$")
CLEANUP_BATCH = 200


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class FileConfig:
    public_base: str
    max_bytes: int


class FileService:
    def __init__(self, db: Database, storage: Storage, config: FileConfig) -> None:
        self.db = db
        self.storage = storage
        self.config = config

    async def upload(self, user_id: str, file: Readable) -> FileUpload:
        limit = self.config.max_bytes
        data = await file.read(limit + 1)  # never more than the limit and one byte in memory
        if len(data) > limit:
            raise DomainError(Code.FILE_TOO_LARGE, f"파일은 {limit:,}바이트 이하여야 합니다.", maxBytes=limit)
        if not data:
            raise DomainError(Code.UNSUPPORTED_FILE_TYPE)
        image = await asyncio.to_thread(clean_image, data)
        now = utcnow()
        key = f"{now.year}/{now.month}/{now.day}/{uuid.uuid4().hex}.{image.ext}"
        row = FileUpload(
            user_id=user_id,
            url=f"{self.storage.bucket}/{key}",
            storage_key=key,
            size=len(image.data),
            content_type=image.content_type,
            created_at=now,
            updated_at=now,
        )
        # The row first: an object never exists without the row that lets cleanup find it.
        async with self.db.transaction() as s:
            s.add(row)
        try:
            await self.storage.put(key, image.data, image.content_type)
        except BaseException:
            async with self.db.transaction() as s:
                await s.execute(update(FileUpload).where(FileUpload.id == row.id).values(deleted_at=utcnow()))
            raise
        return row

    def key_of(self, bucket: str, key: str) -> str | None:
        """The storage key a ``/files/<bucket>/<key>`` request may read; None for anything else
        (another bucket, a name we never generate, ``..``)."""
        return key if bucket == self.storage.bucket and KEY.fullmatch(key) else None

    async def cleanup(self, older_than: timedelta) -> int:
        """Deletes unused uploads older than ``older_than``; returns how many."""
        cutoff = utcnow() - older_than
        removed = 0
        while True:
            async with self.db.transaction() as s:
                ids = list(
                    (
                        await s.execute(
                            select(FileUpload.id)
                            .where(_unused(), FileUpload.created_at < cutoff)
                            .limit(CLEANUP_BATCH)
                        )
                    ).scalars()
                )
                if not ids:
                    return removed
                # Conditional: a row marked used (or claimed by another instance) since the select stays.
                keys = list(
                    (
                        await s.execute(
                            update(FileUpload)
                            .where(FileUpload.id.in_(ids), _unused())
                            .values(deleted_at=utcnow())
                            .returning(FileUpload.storage_key)
                        )
                    ).scalars()
                )
            for key in keys:
                await self.storage.delete(key)
            removed += len(keys)


def _unused():  # type: ignore[no-untyped-def]
    return (FileUpload.is_used.is_(False)) & (FileUpload.deleted_at.is_(None))


async def mark_used(s: AsyncSession, user_id: str, urls: Iterable[str | None]) -> None:
    """Marks the uploads of ``user_id`` that ``urls`` name as used (relative urls, or absolute
    addresses ending in one). Others' uploads and unknown addresses are left alone."""
    found = {m.group(1) for u in urls if u and (m := _URL_TAIL.search(u))}
    if not found:
        return
    await s.execute(
        update(FileUpload)
        .where(FileUpload.user_id == user_id, FileUpload.url.in_(sorted(found)), _unused())
        .values(is_used=True, updated_at=utcnow())
    )


__all__ = ["FileConfig", "FileService", "mark_used"]
