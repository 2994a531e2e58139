"""The one rule for a stored image address (an item's ``images``, a user's ``picture``).

Frontends put these straight into ``<img src>`` (and some into ``<a href>``), so only two forms are
stored:

- what ``uploadFile`` returns, a path relative to the file store, codecamp's
  ``<bucket>/<yyyy>/<m>/<d>/<random>.<ext>`` (``codecamp-file-storage/2026/12/6/a1b2c3.jpg``):
  letters, digits, ``-``, ``_``, ``.`` and ``/``; no leading ``/`` (``//host`` is a URL), no ``..``;
- an absolute ``https://`` URL with a host.

Anything else — ``javascript:``, ``data:``, ``http:``, ``//host/x``, a path escaping its store — is
``BAD_USER_INPUT`` with the field's name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.errors import Code, DomainError

MAX_FILE_URL = 1_000
_STORED_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_./-]*")
# RFC 3986's characters (unreserved, reserved, '%'), plus non-ASCII ones browsers percent-encode.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%\u0080-\U0010ffff]+")


def is_file_url(value: str) -> bool:
    if _STORED_PATH.fullmatch(value):
        return ".." not in value
    if not _URL_CHARS.fullmatch(value) or any(not ch.isprintable() or ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() == "https" and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced '[' in the host
        return False


def check_file_url(value: str, field: str, *, limit: int = MAX_FILE_URL) -> str:
    """``value`` stripped, or BAD_USER_INPUT naming ``field``. Callers drop empty values first."""
    value = value.strip()
    if not value or len(value) > limit or not is_file_url(value):
        raise DomainError(
            Code.BAD_USER_INPUT,
            "이미지 주소가 올바르지 않습니다. 업로드한 파일의 주소나 https:// 주소만 쓸 수 있습니다.",
            field=field,
        )
    return value


__all__ = ["MAX_FILE_URL", "check_file_url", "is_file_url"]
