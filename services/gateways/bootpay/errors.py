"""How Bootpay fails, in the gateway-neutral errors (services/gateways/base.py): every SDK's test
is "``error_code`` in the body"; the HTTP status is non-2xx."""

from __future__ import annotations

import json

import httpx

from services.errors import Code
from services.gateways.base import GatewayRejected, GatewayUnavailable


class BootpayUnavailable(GatewayUnavailable):
    """No answer, a 5xx, keys Bootpay refuses, or an answer we cannot read: the outcome is unknown."""

    def __init__(self, detail: str) -> None:
        super().__init__(Code.BOOTPAY_UNAVAILABLE, detail)


class BootpayRejected(GatewayRejected):
    """Bootpay answered a non-2xx ``{error_code, message}`` for a reason other than not-found."""

    def __init__(self, status: int, error_code: str, message: str, pg_error_code: str | None = None) -> None:
        super().__init__(Code.BOOTPAY_UNAVAILABLE, status, message)
        self.error_code = error_code
        # Set when the PG or the card company refused (a declined billing charge): why, in its words.
        self.pg_error_code = pg_error_code


class Unauthorized(Exception):
    """A 401: internal to the client, which renews a token once or reports bad keys."""


def error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error_code") or ""), str(body.get("message") or "")


def pg_error_of(body: object) -> str | None:
    """``pg_error_code`` of an error body: the PG's or card company's own code, when it refused."""
    code = body.get("pg_error_code") if isinstance(body, dict) else None
    return str(code) if code not in (None, "") else None


def pg_error_of_response(response: httpx.Response) -> str | None:
    try:
        return pg_error_of(response.json())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def not_found(status: int, error_code: str) -> bool:
    return status == 404 or error_code.upper().endswith("NOT_FOUND")


def duplicate(error_code: str) -> bool:
    return "DUPLICAT" in error_code.upper()
