"""Reading the ledger: pages as existing frontends ask for them, and a keyset cursor for large histories.

Both hit the (user_id[, status], created_at, id) indexes; page 1 and every cursor page cost the same
whatever the size of the table.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.sql import Select

from services.db import Database
from services.errors import Code, DomainError
from services.models import Payment, PointTransaction

PAGE_SIZE = 10
MAX_PAGE = 10_000
MAX_FIRST = 100  # the largest cursor page
MAX_SEARCH = 100


def _like_pattern(search: str) -> str:
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filtered(user_id: str, status: str | None, search: str | None) -> Select:
    query = select(PointTransaction).where(PointTransaction.user_id == user_id)
    if status is not None:
        query = query.where(PointTransaction.status == status)
    if search:
        # NUL bytes: PostgreSQL refuses them in text (an unmasked 500 before) and SQLite's driver
        # cuts the string there (a search for "\x00" matched everything). Other control characters
        # match nothing anyway.
        search = "".join(ch for ch in search if ch >= " ").strip()[:MAX_SEARCH]
        if search:
            pattern = _like_pattern(search)
            query = query.where(
                or_(
                    func.lower(PointTransaction.payment_key).like(pattern, escape="\\"),
                    func.lower(PointTransaction.detail).like(pattern, escape="\\"),
                )
            )
    return query


@dataclass(frozen=True)
class CursorPage:
    items: list[PointTransaction]
    next_cursor: str | None


def encode_cursor(entry: PointTransaction) -> str:
    raw = f"{entry.created_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, entry_id = raw.partition("|")
        parsed = datetime.fromisoformat(created)
        if not entry_id or parsed.tzinfo is None:
            raise ValueError
        return parsed, entry_id
    except (ValueError, UnicodeDecodeError):
        raise DomainError(Code.BAD_USER_INPUT, "커서 값이 올바르지 않습니다.", field="after") from None


class HistoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def payments(self, payment_ids: Sequence[str]) -> list[Payment | None]:
        """The payments entries point at (the gateway a charge came through), in one query (a
        DataLoader's batch: a page of entries asks once)."""
        return await self.db.rows_by(Payment.id, payment_ids)

    async def page(
        self, user_id: str, *, status: str | None = None, search: str | None = None, page: int | None = 1
    ) -> list[PointTransaction]:
        page = 1 if page is None else page
        if not 1 <= page <= MAX_PAGE:
            raise DomainError(Code.BAD_USER_INPUT, "page는 1 이상이어야 합니다.", field="page")
        query = (
            _filtered(user_id, status, search)
            .order_by(PointTransaction.created_at.desc(), PointTransaction.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        async with self.db.session() as s:
            return list((await s.execute(query)).scalars())

    async def count(self, user_id: str, *, status: str | None = None, search: str | None = None) -> int:
        query = select(func.count()).select_from(_filtered(user_id, status, search).subquery())
        async with self.db.session() as s:
            return int((await s.execute(query)).scalar_one())

    async def after(
        self, user_id: str, *, first: int = PAGE_SIZE, after: str | None = None, status: str | None = None
    ) -> CursorPage:
        if not 1 <= first <= MAX_FIRST:
            raise DomainError(Code.BAD_USER_INPUT, f"first는 1 이상 {MAX_FIRST} 이하여야 합니다.", field="first")
        query = _filtered(user_id, status, None)
        if after:
            created, entry_id = decode_cursor(after)
            query = query.where(
                tuple_(PointTransaction.created_at, PointTransaction.id) < tuple_(created, entry_id)
            )
        query = query.order_by(PointTransaction.created_at.desc(), PointTransaction.id.desc()).limit(first + 1)
        async with self.db.session() as s:
            rows = list((await s.execute(query)).scalars())
        has_more = len(rows) > first
        rows = rows[:first]
        return CursorPage(rows, encode_cursor(rows[-1]) if has_more and rows else None)


__all__ = ["CursorPage", "HistoryService", "PAGE_SIZE"]
