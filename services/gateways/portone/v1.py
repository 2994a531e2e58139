"""PortOne V1 REST client (https://api.iamport.kr), on the app's shared ``httpx.AsyncClient``.

Costs: one request per verification in steady state. The access token is cached until shortly
before it expires and refreshed once for all concurrent callers; a 401 (token revoked or expired
early at PortOne) refreshes and retries once. Only idempotent reads are retried on transport errors
and 5xx; a cancel is never retried blindly (PortOne's ``checksum`` guards a manual retry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from services.errors import Code, DomainError
from services.gateways.refund_account import RefundAccount
from services.gateways.base import (
    GatewayRejected,
    GatewayUnavailable,
    CANCELLED,
    FAILED,
    PAID,
    PARTIALLY_CANCELLED,
    READY,
    GatewayPayment,
    retry_pause,
    VirtualAccount,
    usable_payment_key,
)

log = logging.getLogger("pointcharge.portone.v1")

# Refresh this long before PortOne's expiry so a token never dies in flight.
TOKEN_MARGIN_S = 120
READ_RETRIES = 2

def _money(value: Any) -> int:
    # The spec types amounts as "number"; KRW has no minor unit, so anything fractional is corrupt.
    if isinstance(value, bool) or value is None:
        raise ValueError("amount missing")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"non-integral amount {value!r}")


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def parse_v1_payment(data: dict[str, Any]) -> GatewayPayment:
    amount = _money(data["amount"])
    cancelled = _money(data.get("cancel_amount") or 0)
    status = data["status"]
    if status == "paid":
        normalised = PAID
    elif status == "cancelled":
        # V1 keeps "paid" for partial cancels on some PGs and "cancelled" for full ones; the
        # amounts are the truth.
        normalised = CANCELLED if cancelled >= amount else PARTIALLY_CANCELLED
    elif status == "ready":
        normalised = READY
    elif status == "failed":
        normalised = FAILED
    else:
        raise ValueError(f"unknown V1 status {status!r}")
    if normalised == PAID and 0 < cancelled < amount:
        normalised = PARTIALLY_CANCELLED
    vbank = None
    if data.get("vbank_num"):
        vbank = VirtualAccount(
            bank_name=data.get("vbank_name"),
            bank_code=data.get("vbank_code"),
            account_number=data.get("vbank_num"),
            holder=data.get("vbank_holder"),
            due_at=_ts(data.get("vbank_date")),
        )
    return GatewayPayment(
        provider="portone_v1",
        payment_key=data["imp_uid"],
        order_key=data["merchant_uid"],
        status=normalised,
        amount=amount,
        cancelled_amount=cancelled,
        currency=data.get("currency") or "KRW",
        pay_method=data.get("pay_method"),
        pg_provider=data.get("pg_provider"),
        paid_at=_ts(data.get("paid_at")),
        name=data.get("name"),
        fail_reason=data.get("fail_reason"),
        virtual_account=vbank,
        raw=data,
    )


class PortOneV1Client:
    name = "portone_v1"
    can_list = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        imp_key: str,
        imp_secret: str,
        timeout_s: float = 10.0,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._imp_key = imp_key
        self._imp_secret = imp_secret
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._token: str | None = None
        self._token_expires_at = 0.0  # our monotonic clock
        self._token_lock = asyncio.Lock()

    # --- token -------------------------------------------------------------------------------

    async def _get_token(self, *, stale: str | None = None) -> str:
        if self._token and self._token != stale and time.monotonic() < self._token_expires_at:
            return self._token
        async with self._token_lock:
            # Single flight: whoever waited on the lock finds the token the first caller fetched.
            if self._token and self._token != stale and time.monotonic() < self._token_expires_at:
                return self._token
            try:
                body = await self._send(
                    "POST",
                    "/users/getToken",
                    json={"imp_key": self._imp_key, "imp_secret": self._imp_secret},
                    token=None,
                    retries=READ_RETRIES,  # getToken is safe to repeat
                )
            except _Unauthorized as exc:
                log.error("portone rejected our imp_key/imp_secret: check the configuration")
                raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "invalid credentials") from exc
            try:
                token = body["access_token"]
                # PortOne gives its own clock ("now"); count the lifetime on ours.
                lifetime = int(body["expired_at"]) - int(body["now"])
            except (KeyError, TypeError, ValueError) as exc:
                raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed token response") from exc
            self._token = token
            self._token_expires_at = time.monotonic() + max(0, lifetime - TOKEN_MARGIN_S)
            return token

    # --- transport ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        json: dict[str, Any] | None = None,
        params: Any = None,
        retries: int = 0,
    ) -> Any:
        """One call with the envelope unwrapped; raises domain errors. 401 is re-raised as-is."""
        headers = {"Authorization": token} if token else {}
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method,
                    self.base_url + path,
                    json=json,
                    params=params,
                    headers=headers,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                if attempt < retries:
                    await retry_pause(attempt)
                    attempt += 1
                    continue
                log.warning("portone %s %s transport error: %s", method, path, type(exc).__name__)
                raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, type(exc).__name__) from exc
            if response.status_code >= 500 and attempt < retries:
                await retry_pause(attempt)
                attempt += 1
                continue
            return self._unwrap(method, path, response)

    @staticmethod
    def _unwrap(method: str, path: str, response: httpx.Response) -> Any:
        try:
            envelope = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("portone %s %s: malformed body (HTTP %s)", method, path, response.status_code)
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed response") from None
        if not isinstance(envelope, dict):
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed envelope")
        code = envelope.get("code")
        message = str(envelope.get("message") or "")
        if response.status_code == 401:
            raise _Unauthorized(message)
        if response.status_code == 404:
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        if response.status_code >= 500:
            log.warning("portone %s %s: HTTP %s", method, path, response.status_code)
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, f"HTTP {response.status_code}")
        if response.status_code >= 400 or code != 0:
            raise GatewayRejected(Code.PORTONE_UNAVAILABLE, response.status_code, message)
        return envelope.get("response")

    async def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        token = await self._get_token()
        retries = READ_RETRIES if idempotent else 0
        try:
            return await self._send(method, path, token=token, retries=retries, **kwargs)
        except _Unauthorized:
            # The token died before we expected (revoked, clock skew): refresh once and retry.
            # Retrying a cancel here is safe: a 401 means PortOne did not process it.
            token = await self._get_token(stale=token)
            try:
                return await self._send(method, path, token=token, retries=retries, **kwargs)
            except _Unauthorized as exc:
                raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "unauthorized after token refresh") from exc

    # --- API ---------------------------------------------------------------------------------

    async def check_credentials(self) -> None:
        """Readiness: a (cached) access token proves PortOne is reachable and our keys work."""
        await self._get_token()

    async def get_payment(self, payment_key: str) -> GatewayPayment:
        if not usable_payment_key(payment_key):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        data = await self._call("GET", f"/payments/{payment_key}", idempotent=True)
        if not isinstance(data, dict):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        return self._parse(data)

    async def prepare(self, order_key: str, amount: int) -> None:
        # Registering the same merchant_uid twice is an error at PortOne, so no blind retry; the
        # caller treats failure as "not registered" and our own amount check still protects us.
        await self._call(
            "POST", "/payments/prepare", idempotent=False, json={"merchant_uid": order_key, "amount": amount}
        )

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
        body: dict[str, Any] = {"imp_uid": payment_key, "amount": amount, "checksum": checksum, "reason": reason}
        if refund_account is not None:
            # Virtual-account refunds (v1.openapi.yml POST /payments/cancel): never logged.
            body.update(
                refund_holder=refund_account.holder,
                refund_bank=refund_account.bank_code,
                refund_account=refund_account.number,
            )
            if refund_account.tel:
                body["refund_tel"] = refund_account.tel
        data = await self._call("POST", "/payments/cancel", idempotent=False, json=body)
        if not isinstance(data, dict):
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed cancel response")
        return self._parse(data)

    async def list_payments(
        self, *, since: datetime | None, until: datetime | None, cursor: str | None = None, size: int = 100
    ) -> tuple[list[GatewayPayment], str | None]:
        """One page of ``GET /payments/status/all`` (by time range); the cursor is the next page."""
        params: dict[str, Any] = {"page": int(cursor or 1), "limit": size, "sorting": "started"}
        if since:
            params["from"] = int(since.timestamp())
        if until:
            params["to"] = int(until.timestamp())
        data = await self._call("GET", "/payments/status/all", idempotent=True, params=params)
        items = [self._parse(item) for item in (data or {}).get("list") or []]
        next_page = int((data or {}).get("next") or 0)
        return items, (str(next_page) if next_page else None)

    @staticmethod
    def _parse(data: dict[str, Any]) -> GatewayPayment:
        try:
            return parse_v1_payment(data)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("portone v1: unparseable payment: %s", exc)
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed payment") from exc


class _Unauthorized(Exception):
    pass
