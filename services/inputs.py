"""What every market write does to a client's text, ids and page numbers (items, questions)."""

from __future__ import annotations

import re

from services.errors import Code, DomainError

PAGE_SIZE = 10
MAX_PAGE = 10_000
_ID = re.compile(r"[0-9a-f]{32}")


def bad_input(message: str, field_name: str) -> DomainError:
    return DomainError(Code.BAD_USER_INPUT, message, field=field_name)


def clean(value: str, *, multiline: bool = False) -> str:
    # NUL and other control characters: PostgreSQL refuses NUL in text (a 500), nothing needs them.
    keep = "\n\t" if multiline else ""
    return "".join(ch for ch in value if ch >= " " or ch in keep).strip()


def text_field(
    value: str, field_name: str, label: str, limit: int, *, required: bool = False, multiline: bool = False
) -> str:
    cleaned = clean(value, multiline=multiline)
    if required and not cleaned:
        raise bad_input(f"{label}을(를) 입력해 주세요.", field_name)
    if len(cleaned) > limit:
        raise bad_input(f"{label}은(는) {limit:,}자 이하여야 합니다.", field_name)
    return cleaned


def id_or_not_found(raw: str, message: str) -> str:
    """A malformed id names nothing: NOT_FOUND, without asking the database."""
    value = str(raw).strip()
    if not _ID.fullmatch(value):
        raise DomainError(Code.NOT_FOUND, message)
    return value


def page_offset(page: int | None) -> int:
    page = 1 if page is None else page
    if not 1 <= page <= MAX_PAGE:
        raise bad_input("page는 1 이상이어야 합니다.", "page")
    return (page - 1) * PAGE_SIZE


__all__ = ["PAGE_SIZE", "bad_input", "clean", "id_or_not_found", "page_offset", "text_field"]
