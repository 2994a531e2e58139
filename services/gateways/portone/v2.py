"""PortOne V2 (https://api.portone.io) through the official ``portone-server-sdk``.

Implements the same ``Gateway`` interface as the V1 client, so sync, cancel and
reconciliation do not care which API a payment came from. The SDK builds its own httpx client per
``PaymentClient``; we build one ``PaymentClient`` for the process and point its transport at the
app's shared ``httpx.AsyncClient`` (one connection pool), through a thin adapter that also adds the
``Idempotency-Key`` header the SDK has no parameter for.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
from datetime import datetime
from typing import Any

import httpx
from portone_server_sdk import PaymentClient
from portone_server_sdk import errors as sdk_errors
from portone_server_sdk._portone_error import PortOneError
from portone_server_sdk.payment import (
    CancelledPayment,
    CancelPaymentBodyRefundAccount,
    FailedPayment,
    PaidPayment,
    PartialCancelledPayment,
    PayPendingPayment,
    ReadyPayment,
    VirtualAccountIssuedPayment,
)

from services.errors import Code, DomainError
from services.gateways.refund_account import RefundAccount
from services.gateways.base import (
    CANCELLED,
    FAILED,
    PAID,
    PARTIALLY_CANCELLED,
    READY,
    GatewayRejected,
    GatewayUnavailable,
    GatewayPayment,
    retry_pause,
    VirtualAccount,
    usable_payment_key,
)

log = logging.getLogger("pointcharge.portone.v2")

# "Not started yet" (the payment window opened, nothing paid): a normalised status of its own so
# it can never move a payment anywhere.
NOT_STARTED = "prepared"
READ_RETRIES = 2
_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("portone_idem", default=None)


class _SharedTransport:
    """Quacks like the ``httpx.AsyncClient`` the SDK expects (it only calls ``request``)."""

    def __init__(self, http: httpx.AsyncClient, timeout: httpx.Timeout) -> None:
        self._http = http
        self._timeout = timeout

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        key = _idempotency_key.get()
        if key is not None:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Idempotency-Key": key}
        kwargs.setdefault("timeout", self._timeout)
        return await self._http.request(method, url, **kwargs)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _status(payment: Any) -> str:
    if isinstance(payment, PaidPayment):
        return PAID
    if isinstance(payment, PartialCancelledPayment):
        return PARTIALLY_CANCELLED
    if isinstance(payment, CancelledPayment):
        return CANCELLED
    if isinstance(payment, (VirtualAccountIssuedPayment, PayPendingPayment)):
        return READY
    if isinstance(payment, FailedPayment):
        return FAILED
    if isinstance(payment, ReadyPayment):
        return NOT_STARTED
    raise ValueError(f"unsupported V2 payment shape: {type(payment).__name__}")


_METHODS = {
    "PaymentMethodCard": "card",
    "PaymentMethodVirtualAccount": "vbank",
    "PaymentMethodTransfer": "trans",
    "PaymentMethodMobile": "phone",
    "PaymentMethodEasyPay": "easypay",
    "PaymentMethodConvenienceStore": "cvs",
    "PaymentMethodGiftCertificate": "giftcard",
}


def parse_v2_payment(payment: Any) -> GatewayPayment:
    status = _status(payment)
    method = getattr(payment, "method", None)
    vbank = None
    if method is not None and type(method).__name__ == "PaymentMethodVirtualAccount":
        vbank = VirtualAccount(
            bank_name=getattr(method, "bank", None),
            bank_code=getattr(method, "bank", None),
            account_number=method.account_number,
            holder=getattr(method, "remittee_name", None),
            due_at=_parse_time(getattr(method, "expired_at", None)),
        )
    amount = payment.amount
    total = int(amount.total)
    cancelled = int(getattr(amount, "cancelled", 0) or 0)
    # What the buyer paid of the total (a promotion the merchant funds pays the rest): only a paid
    # payment says it (amount.paid is 0 until then).
    paid = int(getattr(amount, "paid", total) or 0) if status in (PAID, PARTIALLY_CANCELLED, CANCELLED) else total
    channel = getattr(payment, "channel", None)
    raw = dataclasses.asdict(payment) if dataclasses.is_dataclass(payment) else {}
    return GatewayPayment(
        provider="portone_v2",
        payment_key=payment.id,
        order_key=payment.id,  # V2 has one merchant-chosen id
        status=status,
        amount=total,
        cancelled_amount=cancelled,
        currency=str(payment.currency),
        pay_method=_METHODS.get(type(method).__name__) if method is not None else None,
        pg_provider=str(getattr(channel, "pg_provider", "") or "") or None,
        paid_at=_parse_time(getattr(payment, "paid_at", None)),
        name=getattr(payment, "order_name", None),
        fail_reason=getattr(getattr(payment, "failure", None), "reason", None),
        virtual_account=vbank,
        unpaid_amount=max(0, total - paid),
        raw=raw,
    )


class PortOneV2Client:
    name = "portone_v2"
    can_list = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        secret: str,
        store_id: str | None,
        timeout_s: float = 10.0,
    ) -> None:
        self.store_id = store_id
        self._sdk = PaymentClient(secret=secret, base_url=base_url.rstrip("/"), store_id=None)
        # One pool for the whole app instead of the SDK's own client (see module docstring), also
        # for the billing-key and schedule clients (v2_billing.py).
        transport = _SharedTransport(http, httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)))
        for sdk in (self._sdk, self._sdk.billing_key, self._sdk.payment_schedule):
            sdk._async_client = transport  # type: ignore[assignment]

    async def _call(self, what: str, coro_factory: Any, *, retries: int) -> Any:
        attempt = 0
        while True:
            try:
                return await coro_factory()
            except sdk_errors.PaymentNotFoundError:
                raise DomainError(Code.PAYMENT_NOT_FOUND) from None
            except (sdk_errors.UnauthorizedError, sdk_errors.ForbiddenError) as exc:
                log.error("portone v2 %s: credentials rejected (%s)", what, type(exc).__name__)
                raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "unauthorized") from exc
            except PortOneError as exc:
                if isinstance(exc, sdk_errors.UnknownError) and attempt < retries:
                    pass  # a 5xx or an error shape the SDK does not know: retry reads
                elif isinstance(exc, sdk_errors.UnknownError):
                    raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "unknown error") from exc
                else:
                    raise GatewayRejected(Code.PORTONE_UNAVAILABLE, 400, str(getattr(exc, "message", None) or type(exc).__name__)) from exc
            except (httpx.TransportError, ValueError) as exc:
                # ValueError: a body the SDK could not deserialize (malformed JSON, unknown shape).
                if attempt >= retries:
                    log.warning("portone v2 %s: %s", what, type(exc).__name__)
                    raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, type(exc).__name__) from exc
            await retry_pause(attempt)
            attempt += 1

    async def get_payment(self, payment_key: str) -> GatewayPayment:
        if not usable_payment_key(payment_key):
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        payment = await self._call(
            "get_payment", lambda: self._sdk.get_payment_async(payment_id=payment_key), retries=READ_RETRIES
        )
        try:
            return parse_v2_payment(payment)
        except (AttributeError, TypeError, ValueError) as exc:
            log.warning("portone v2: unparseable payment %s: %s", payment_key, exc)
            raise GatewayUnavailable(Code.PORTONE_UNAVAILABLE, "malformed payment") from exc

    async def prepare(self, order_key: str, amount: int) -> None:
        await self._call(
            "pre_register",
            lambda: self._sdk.pre_register_payment_async(
                payment_id=order_key, total_amount=amount, currency="KRW"
            ),
            retries=0,
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
        refund = None
        if refund_account is not None:
            refund = CancelPaymentBodyRefundAccount(
                bank=refund_account.v2_bank,
                number=refund_account.number,
                holder_name=refund_account.holder,
                holder_phone_number=refund_account.tel,
            )

        async def call() -> Any:
            # The key names our cancel request: PortOne answers a repeat with the first result
            # instead of refunding again, so this call (unlike V1's) is safe to retry.
            token = _idempotency_key.set(f"pointcharge-cancel-{request_id}")
            try:
                return await self._sdk.cancel_payment_async(
                    payment_id=payment_key,
                    amount=amount,
                    reason=reason,
                    current_cancellable_amount=checksum,
                    refund_account=refund,
                )
            finally:
                _idempotency_key.reset(token)

        await self._call("cancel", call, retries=READ_RETRIES)
        return await self.get_payment(payment_key)

    async def list_payments(
        self, *, since: datetime | None, until: datetime | None, cursor: str | None = None, size: int = 100
    ) -> tuple[list[GatewayPayment], str | None]:
        response = await self._call(
            "list",
            lambda: self._sdk.get_all_payments_by_cursor_async(
                from_=since.isoformat() if since else None,
                until=until.isoformat() if until else None,
                cursor=cursor,
                size=size,
            ),
            retries=READ_RETRIES,
        )
        items = []
        for item in getattr(response, "items", []) or []:
            payment = getattr(item, "payment", item)
            try:
                items.append(parse_v2_payment(payment))
            except (AttributeError, TypeError, ValueError):
                log.warning("portone v2 listing: skipped an unparseable payment")
        next_cursor = getattr(response, "cursor", None)
        return items, (next_cursor if items else None)


