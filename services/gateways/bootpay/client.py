"""Bootpay REST API v2 client (https://api.bootpay.co.kr/v2) on the app's shared ``httpx.AsyncClient``.

Credentials, as the official SDK (``bootpay-backend`` 2.9) takes them:
- ``client_key`` + ``secret_key``: ``Authorization: Basic base64(ck:sk)`` on every call, no token
  call. Preferred when both are set.
- ``application_id`` + ``private_key`` (legacy): ``POST /request/token`` → a Bearer token that lives
  30 minutes. Cached until shortly before it expires, fetched once for all concurrent callers, and
  fetched again once when a call is answered 401 (revoked, or expired early).

Costs: one request per verification in steady state. Reads are retried on transport errors and
5xx. A cancel is retried too: its ``cancel_id`` (our cancel request's id) makes Bootpay refuse a
repeat, and a refused repeat is answered with the receipt as it now is. Bootpay has no checksum
like PortOne's: ``cancel_id`` is what keeps a retried cancel from refunding twice. A confirm is
never retried blindly; a refused one (already confirmed by a concurrent claim) is answered with
the receipt too, and the caller decides from its status.

Errors: transport failures, 5xx, bad keys and unreadable answers → unavailable
(``BOOTPAY_UNAVAILABLE``); not found → ``PAYMENT_NOT_FOUND``; any other non-2xx
``{error_code, message}`` → rejected (kept for the caller: ``error_code``, ``gateway_message``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from datetime import datetime
from typing import Any

import httpx

from services.errors import Code, DomainError
from services.gateways.base import GatewayPayment, retry_pause, usable_payment_key
from services.gateways.bootpay.errors import (
    BootpayRejected,
    BootpayUnavailable,
    Unauthorized,
    duplicate,
    error_of,
    not_found,
    pg_error_of,
    pg_error_of_response,
)
from services.gateways.bootpay.receipt import NAME, parse_receipt
from services.gateways.refund_account import RefundAccount

log = logging.getLogger("pointcharge.bootpay")

# Sent by the official SDK on every call (bootpay_backend.rest_client); Bootpay may answer by version.
API_VERSION = "5.1.0"
SDK_VERSION = "2.9.0"
SDK_TYPE = "302"  # Python
# Renew this long before Bootpay's expiry so that a token never dies in flight.
TOKEN_MARGIN_S = 120
READ_RETRIES = 2

class BootpayClient:
    name = NAME
    can_list = False  # Bootpay has no listing API: reconciliation walks our own open payments
    # No pre-registration: only a receipt for an order we prepared is credited (services/charging.py).
    orders_required = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        application_id: str | None = None,
        private_key: str | None = None,
        client_key: str | None = None,
        secret_key: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not ((client_key and secret_key) or (application_id and private_key)):
            raise ValueError("Bootpay needs client_key + secret_key, or application_id + private_key")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._basic: str | None = None
        if client_key and secret_key:
            self._basic = "Basic " + base64.b64encode(f"{client_key}:{secret_key}".encode()).decode()
        self._application_id = application_id
        self._private_key = private_key
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._token: str | None = None
        self._token_expires_at = 0.0  # our monotonic clock
        self._token_lock = asyncio.Lock()

    @property
    def credential_style(self) -> str:
        return "basic" if self._basic else "token"

    # --- token (legacy credentials only) -----------------------------------------------------

    async def _authorization(self, *, stale: str | None = None) -> str:
        if self._basic is not None:
            return self._basic
        token = await self._get_token(stale=stale)
        return "Bearer " + token

    def _token_fresh(self, stale: str | None) -> bool:
        return bool(self._token) and self._token != stale and time.monotonic() < self._token_expires_at

    async def _get_token(self, *, stale: str | None = None) -> str:
        if self._token_fresh(stale):
            return self._token  # type: ignore[return-value]
        async with self._token_lock:
            # Single flight: whoever waited on the lock finds the token the first caller fetched.
            if self._token_fresh(stale):
                return self._token  # type: ignore[return-value]
            try:
                body = await self._send(
                    "POST",
                    "/request/token",
                    authorization=None,
                    json={"application_id": self._application_id, "private_key": self._private_key},
                    retries=READ_RETRIES,  # asking for a token is safe to repeat
                )
            except (Unauthorized, BootpayRejected) as exc:
                log.error("bootpay refused our application_id/private_key: check the configuration")
                raise BootpayUnavailable("invalid credentials") from exc
            try:
                token = body["access_token"]
                lifetime = int(body["expire_in"])
                if not isinstance(token, str) or not token:
                    raise ValueError("empty token")
            except (KeyError, TypeError, ValueError) as exc:
                raise BootpayUnavailable("malformed token response") from exc
            self._token = token
            # Counted on our clock: Bootpay says how long the token still lives (less than 30
            # minutes when it hands back one it issued earlier).
            self._token_expires_at = time.monotonic() + max(0, lifetime - TOKEN_MARGIN_S)
            return token

    # --- transport ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        retries: int = 0,
    ) -> Any:
        headers = {
            "Accept": "application/json",
            "BOOTPAY-API-VERSION": API_VERSION,
            "BOOTPAY-SDK-VERSION": SDK_VERSION,
            "BOOTPAY-SDK-TYPE": SDK_TYPE,
        }
        if authorization:
            headers["Authorization"] = authorization
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method, self.base_url + path, json=json, params=params, headers=headers, timeout=self._timeout
                )
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                if attempt < retries:
                    await retry_pause(attempt)
                    attempt += 1
                    continue
                log.warning("bootpay %s %s transport error: %s", method, path, type(exc).__name__)
                raise BootpayUnavailable(type(exc).__name__) from exc
            if response.status_code >= 500 and attempt < retries:
                await retry_pause(attempt)
                attempt += 1
                continue
            return self._unwrap(method, path, response)

    @staticmethod
    def _unwrap(method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 500:
            log.warning("bootpay %s %s: HTTP %s", method, path, status)
            raise BootpayUnavailable(f"HTTP {status}")
        if status == 401:
            raise Unauthorized(error_of(response)[0])
        if status >= 300:
            error_code, message = error_of(response)
            if not_found(status, error_code):
                raise DomainError(Code.PAYMENT_NOT_FOUND)
            raise BootpayRejected(status, error_code, message or f"HTTP {status}", pg_error_of_response(response))
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("bootpay %s %s: malformed body (HTTP %s)", method, path, status)
            raise BootpayUnavailable("malformed response") from None
        if not isinstance(body, dict):
            raise BootpayUnavailable("malformed response")
        if "error_code" in body:  # every SDK's failure test, whatever the HTTP status said
            error_code, message = str(body.get("error_code") or ""), str(body.get("message") or "")
            if not_found(status, error_code):
                raise DomainError(Code.PAYMENT_NOT_FOUND)
            raise BootpayRejected(status, error_code, message, pg_error_of(body))
        return body

    async def _call(self, method: str, path: str, *, retries: int, **kwargs: Any) -> dict[str, Any]:
        authorization = await self._authorization()
        try:
            return await self._send(method, path, authorization=authorization, retries=retries, **kwargs)
        except Unauthorized as exc:
            if self._basic is not None:
                log.error("bootpay refused our client_key/secret_key: check the configuration")
                raise BootpayUnavailable("invalid credentials") from exc
            # The token died before we expected: renew once and retry. A 401 means Bootpay did
            # not process the call, so repeating a cancel or a confirm here is safe.
            authorization = await self._authorization(stale=authorization.removeprefix("Bearer "))
            try:
                return await self._send(method, path, authorization=authorization, retries=retries, **kwargs)
            except Unauthorized as again:
                raise BootpayUnavailable("unauthorized after token renewal") from again

    @staticmethod
    def _parse(data: dict[str, Any]) -> GatewayPayment:
        try:
            return parse_receipt(data)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("bootpay: unparseable receipt: %s", exc)
            raise BootpayUnavailable("malformed receipt") from exc

    # --- API ---------------------------------------------------------------------------------

    async def check_credentials(self) -> None:
        """Readiness: a (cached) token proves Bootpay is reachable and the keys work. Basic
        credentials have no call to prove them with short of a lookup: nothing to do."""
        if self._basic is None:
            await self._get_token()

    async def get_payment(self, payment_key: str) -> GatewayPayment:
        if not usable_payment_key(payment_key):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        data = await self._call(
            "GET", f"/receipt/{payment_key}", params={"lookup_user_data": "false"}, retries=READ_RETRIES
        )
        return self._parse(data)

    async def prepare(self, order_key: str, amount: int) -> None:
        """Bootpay has no pre-registration: the order_id and price reach it from the browser, and
        our own check of the receipt against the order is what protects the amount."""

    async def confirm(self, payment_key: str) -> GatewayPayment:
        """``POST /confirm`` of a ``separately_confirmed`` payment (status 2 → 1): only once the
        caller has checked its amount and owner. A refusal (a concurrent claim confirmed it first,
        or it lapsed) is answered with the receipt as it now is."""
        if not usable_payment_key(payment_key):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        try:
            data = await self._call("POST", "/confirm", json={"receipt_id": payment_key}, retries=0)
        except BootpayRejected as exc:
            log.info("bootpay confirm of %s refused (%s): re-reading the receipt", payment_key, exc.error_code)
            return await self.get_payment(payment_key)
        return self._parse(data)

    async def cancel(
        self,
        payment_key: str,
        *,
        amount: int,
        checksum: int,
        reason: str,
        request_id: str,
        refund_account: RefundAccount | None = None,
    ) -> GatewayPayment:
        if not usable_payment_key(payment_key):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        body: dict[str, Any] = {
            "receipt_id": payment_key,
            "cancel_price": amount,
            "cancel_id": request_id,
            "cancel_username": "pointcharge",
            "cancel_message": reason,
        }
        if refund_account is not None:
            # A deposited virtual account goes back by bank transfer: never logged, never stored.
            body["refund"] = {
                "bank_account": refund_account.number,
                "bank_username": refund_account.holder,
                "bank_code": refund_account.bank_code,
            }
        try:
            data = await self._call("POST", "/cancel", json=body, retries=READ_RETRIES)
        except BootpayRejected as exc:
            if not duplicate(exc.error_code):
                raise
            # This cancel_id was processed before (a retry after a lost answer): it is done.
            return await self.get_payment(payment_key)
        return self._parse(data)

    async def list_payments(
        self, *, since: datetime | None, until: datetime | None, cursor: str | None = None, size: int = 100
    ) -> tuple[list[GatewayPayment], str | None]:
        raise NotImplementedError("Bootpay has no payment listing API (can_list is False)")
