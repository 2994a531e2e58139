"""Logging: every line through structlog — JSON in production, readable console lines in sandbox.

Our modules (and uvicorn, httpx, alembic…) log with the standard library; one root handler renders
their records with structlog's ``ProcessorFormatter``, so each line carries what is bound in the
request's context (``request_id``, ``graphql_operation``, ``user_id``, ``imp_uid``…; see
``api.middleware.RequestId``) and goes through ``redact`` before it is written.

``configure_logging`` is idempotent: the app factory and the CLI both call it; a second call
replaces the handler it installed instead of adding another.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Compared after lower-casing and dropping everything but letters and digits, so that
# ``accessToken``, ``access_token`` and ``Access-Token`` are one key.
_SECRET_KEYS = frozenset(
    {
        "password", "passwd", "pwd", "newpassword", "oldpassword", "passwordhash",
        "token", "accesstoken", "refreshtoken", "idtoken", "bearer",
        "authorization", "proxyauthorization", "cookie", "setcookie",
        "secret", "jwtsecret", "impsecret", "impkey", "apikey", "apisecret", "clientsecret",
        "webhooksecret", "secretkey", "privatekey",
        "cardnumber", "cardno", "cardnum", "cvc", "cvv", "cardexpiry", "expiry",
    }
)
_SECRET_SUFFIXES = ("password", "token", "secret", "cardnumber")

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
# A masked card number as PGs return it: 536181******1234.
_MASKED_CARD = re.compile(r"(?<![\w*])\d{4,6}[*xX•]{3,9}\d{2,4}(?![\w*])")
# name=value pairs (cookies, Set-Cookie in a header dump, query strings) whose name says secret.
_ASSIGNMENT = re.compile(
    r"(?i)\b([\w-]*(?:token|secret|password|passwd|session|authorization)[\w-]*)=([^;,&\s'\"]+)"
)
# A full card number: 13 to 19 digits (optionally grouped), Luhn-valid.
_PAN = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")


# Every pattern above needs one of these to match: most values (ids, amounts, statuses) skip the
# five substitutions (docs/PERFORMANCE.md: redaction was a tenth of a charge's CPU). A card number
# needs 13 digits: a shorter run (an amount, a date, a hex request id) is not a reason to scrub.
# Tested one by one: as one alternation the regex engine tries every branch at every position
# (25 µs for an access line's text; apart, 7 µs). ``\d[\d -]{12}`` is a cheaper superset of
# ``\d(?:[ -]?\d){12}``: anything the latter matches, it matches.
_MASK_SHAPE = re.compile(r"\d[*xX•]")
_LONG_DIGITS = re.compile(r"\d[\d -]{12}")


def _suspect(text: str) -> bool:
    return (
        "eyJ" in text
        or "=" in text
        or "bearer" in text.lower()
        or _MASK_SHAPE.search(text) is not None
        or _LONG_DIGITS.search(text) is not None
    )


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


@functools.lru_cache(maxsize=4096)
def _is_secret_name(key: str) -> bool:
    normal = _normal(key)
    return normal in _SECRET_KEYS or normal.endswith(_SECRET_SUFFIXES)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and _is_secret_name(key)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _pan(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return REDACTED if _luhn(digits) else match.group(0)


def scrub(text: str) -> str:
    """Removes what looks like a secret from free text (messages, tracebacks)."""
    if not text or not _suspect(text):
        return text
    return _scrub_all(text)


def _scrub_all(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _MASKED_CARD.sub(REDACTED, text)
    return _PAN.sub(_pan, text)


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth > 5:
        return value
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v not in (None, "") else _redact_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    return value


_UNTOUCHED = frozenset({"timestamp", "level", "logger", "_record", "_from_structlog"})


def _plain(event_dict: EventDict) -> bool:
    """Most lines (an access line, a credit) have no secret-named key, no nested value and no
    text that could hold a secret. One check of all their text at once decides that, instead of
    one per value: no pattern of ``_suspect`` looks around or spans a newline, so whatever matches
    inside one value matches in the joined text (a match the joining made up only sends the line
    through the full pass)."""
    texts = []
    for key, value in event_dict.items():
        if key in _UNTOUCHED:
            continue
        if is_secret_key(key) and value not in (None, ""):
            return False
        if isinstance(value, str):
            texts.append(value)
        elif not isinstance(value, (int, float, bool, type(None))):
            return False
    return not _suspect("\n".join(texts))


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Secrets never reach a log line: by key (password, token, secret, card number…) and by
    shape in any text (JWTs, bearer tokens, card numbers)."""
    if _plain(event_dict):
        return event_dict
    return _redact_each(event_dict)


def _redact_each(event_dict: EventDict) -> EventDict:
    for key, value in list(event_dict.items()):
        if key in _UNTOUCHED:
            continue
        if is_secret_key(key) and value not in (None, ""):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


def _drop_color_message(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    # uvicorn passes a copy of its message with ANSI colours as an ``extra``: noise in a log line.
    event_dict.pop("color_message", None)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def make_formatter(*, json: bool) -> logging.Formatter:
    """The formatter for any handler that should write our log lines (tests attach their own)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text first, so that ``redact`` sees them too.
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler configure_logging installed, so that a second call replaces it."""


# Chatty libraries: their INFO lines (one per HTTP request…) add nothing to ours.
# alembic.runtime.plugins: seven "setup plugin" lines per start, about autogenerate, which the
# service never runs.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
}


def _alembic_noise(record: logging.LogRecord) -> bool:
    """Drop the two lines alembic writes whenever it opens a migration context (at every start, to
    read the revision); keep the real ones ("Running upgrade 0004 -> 0005, …")."""
    return not str(record.msg).startswith(("Context impl ", "Will assume "))


def configure_logging(*, json: bool, level: str | int = "info", stream: TextIO | None = None) -> None:
    numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _OurHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(json=json))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, numeric))
    migration = logging.getLogger("alembic.runtime.migration")
    if _alembic_noise not in migration.filters:
        migration.addFilter(_alembic_noise)
    # uvicorn's loggers go to the root handler too (``log_config=None`` keeps uvicorn from
    # installing its own); its access log is replaced by the one RequestId writes.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def wants_json(settings: Any) -> bool:
    fmt = (getattr(settings, "log_format", None) or "").lower()
    if fmt in ("json", "console"):
        return fmt == "json"
    return bool(settings.is_production)
