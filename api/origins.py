"""Which browser origins the API trusts: for CORS with credentials, and as the mobile redirect's
``return_to`` (where ``/payments/complete`` sends the browser back).

Sandbox mode trusts any port on the loopback names (``localhost``, ``127.0.0.1``, ``[::1]``): a
Vite dev server (5173), its preview (4173) and create-react-app (3000) all work with no setting.
Production trusts only ``POINTCHARGE_CORS_ORIGINS`` and ``POINTCHARGE_FRONTEND_URL``'s origin.
``return_to`` is compared as an exact origin, never as a prefix or a pattern over a URL, so it
cannot become an open redirect (``https://shop.example.com.evil.example``, ``//evil``,
``https://shop.example.com@evil.example`` are all refused)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from services.settings import Settings

# Starlette's CORSMiddleware fullmatches this against the Origin header.
LOOPBACK_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"
_LOOPBACK = re.compile(LOOPBACK_ORIGIN_REGEX)


def cors_origin_regex(settings: Settings) -> str | None:
    return None if settings.is_production else LOOPBACK_ORIGIN_REGEX


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, lower-cased; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def trusted_return_origin(settings: Settings, value: str | None) -> str | None:
    """``value`` as an origin the browser may be sent back to, or None when it is not trusted.
    ``value`` must be a bare origin (no path, query or fragment): the result path is ours."""
    if not value or len(value) > 200:
        return None
    origin = origin_of(value)
    if origin is None or value.strip().rstrip("/").lower() != origin:
        return None
    trusted = {o for o in (origin_of(c) for c in settings.cors_origins) if o}
    if settings.frontend_url and (front := origin_of(settings.frontend_url)):
        trusted.add(front)
    if origin in trusted or (not settings.is_production and _LOOPBACK.fullmatch(origin)):
        return origin
    return None
