"""Bootpay's side of the ledger: receipts, access tokens, fault settings, the clock.

The dicts are the working copy; every change is written through to the state file
(sandbox/persist.py) so that the next process starts where this one stopped. Errors are raised as
BootpayError(status, error_code, message) and rendered by rest.py as Bootpay's non-2xx
``{error_code, message}``.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..persist import StateFile
from ..shared import Faults, LedgerBase
from .config import BootpayConfig
from .webhooks import Dispatcher

if TYPE_CHECKING:  # pragma: no cover
    from .billing_store import BillingStore

KST = timezone(timedelta(hours=9))

# status → status_locale (BMCP server-verify.md; C.2 of the gateway notes)
STATUS_LOCALE = {0: "결제대기", 1: "결제완료", 2: "결제승인대기", 5: "가상계좌발급완료", 20: "결제취소완료"}
METHODS = {"card": "카드", "vbank": "가상계좌", "card_rebill": "카드자동"}


class BootpayError(Exception):
    def __init__(self, status: int, error_code: str, message: str, *, pg_error_code: str | None = None):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message
        self.pg_error_code = pg_error_code  # the PG's / card company's code, when it refused


@dataclass
class Receipt:
    receipt_id: str
    order_id: str
    order_name: str
    price: int
    tax_free: int
    method: str  # "card" | "vbank" | "card_rebill" (a billing-key charge)
    status: int
    requested_at: float
    seq: int
    purchased_at: float | None = None
    cancelled_at: float | None = None
    cancelled_price: int = 0
    cancelled_tax_free: int = 0
    separately_confirmed: bool = False
    metadata: dict = field(default_factory=dict)
    card: dict | None = None
    vbank: dict | None = None
    cancels: list[dict] = field(default_factory=list)  # {cancel_id, price, tax_free, …, refund, at}

    @property
    def remaining(self) -> int:
        return self.price - self.cancelled_price


def iso(ts: float | None) -> str | None:
    """Bootpay's timestamps: ISO 8601 in KST with the offset."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, KST).isoformat(timespec="seconds")


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


class Store(LedgerBase):
    def __init__(self, config: BootpayConfig | None = None):
        self.config = config or BootpayConfig()
        self.time_offset_s = 0.0
        self.webhooks = Dispatcher(self)
        self.billing: BillingStore | None = None
        self._reset_state()
        self.state = StateFile(self.config.state_path)
        self._restore(self.state.load())

    def _reset_state(self) -> None:
        self.receipts: dict[str, Receipt] = {}
        self.tokens: dict[str, dict] = {}  # access_token → {issued_at, expires_at}
        self.faults = Faults()
        self.rng = random.Random()
        self.stats: dict[str, int] = {}
        self._seq = 0
        from .billing_store import BillingStore  # it builds on Receipt and BootpayError (this module)

        if self.billing is not None:
            self.billing._closed = True  # its tick stops; the new one starts empty
        self.billing = BillingStore(self)

    def _restore(self, rows: dict[str, dict[str, Any]]) -> None:
        for data in rows.get("receipt", {}).values():
            receipt = Receipt(**data)
            self.receipts[receipt.receipt_id] = receipt
        self._seq = max((r.seq for r in self.receipts.values()), default=0)
        self.tokens.update(rows.get("token", {}))
        self.billing.restore(rows)
        meta = rows.get("meta", {})
        self.time_offset_s = float(meta.get("clock", 0.0))
        if "faults" in meta:
            self.set_faults(Faults(**meta["faults"]), persist=False)
        self.webhooks.restore(sorted(rows.get("webhook", {}).values(), key=lambda r: r["id"]))

    async def aclose(self) -> None:
        await self.billing.aclose()
        await super().aclose()

    def save(self, receipt: Receipt) -> None:
        self.state.write([("receipt", receipt.receipt_id, asdict(receipt))])

    # ------------------------------------------------------------------ tokens
    async def issue_token(self) -> tuple[str, int]:
        """(access_token, seconds it still lives). Within token_reuse_s of issuing, the same token."""
        cfg = self.config
        async with self.lock:
            now = self.now()
            live = {t: v for t, v in self.tokens.items() if v["expires_at"] > now}
            fresh = [t for t, v in live.items() if now - v["issued_at"] < cfg.token_reuse_s]
            if fresh:
                token = fresh[0]
            else:
                token = secrets.token_hex(32)
                live[token] = {"issued_at": now, "expires_at": now + cfg.token_ttl_s}
            self.tokens = live
            self.state.write([("token", t, v) for t, v in live.items()], deletes=[("token", None)])
            return token, int(live[token]["expires_at"] - now)

    def token_state(self, token: str) -> str:
        """"valid", "expired" or "unknown"."""
        entry = self.tokens.get(token)
        if entry is None:
            return "unknown"
        return "valid" if entry["expires_at"] > self.now() else "expired"

    def expire_tokens(self) -> None:
        now = self.now()
        for entry in self.tokens.values():
            entry["expires_at"] = min(entry["expires_at"], now)
        self.state.write([("token", t, v) for t, v in self.tokens.items()])

    # ------------------------------------------------------------------ receipts
    def get(self, receipt_id: str) -> Receipt:
        receipt = self.receipts.get(receipt_id)
        if receipt is None:
            raise BootpayError(404, "RECEIPT_NOT_FOUND", "결제 정보를 찾을 수 없습니다.")
        return receipt

    def _new_receipt_id(self, now: float) -> str:
        # Bootpay's receipt ids are 24 hex digits (a MongoDB ObjectId: 4 bytes of time first).
        while True:
            candidate = f"{int(now) & 0xFFFFFFFF:08x}" + secrets.token_hex(8)
            if candidate not in self.receipts:
                return candidate

    async def create(self, *, price: int, method: str, order_id: str | None, order_name: str | None,
                     tax_free: int, separately_confirmed: bool, metadata: dict, webhook: bool) -> Receipt:
        """What the buyer's payment window leaves behind: a paid card (or one awaiting the
        merchant's confirm), or an issued virtual account awaiting the deposit."""
        async with self.lock:
            now = self.now()
            self._seq += 1
            receipt_id = self._new_receipt_id(now)
            receipt = Receipt(
                receipt_id=receipt_id, order_id=order_id or f"order-{receipt_id}", order_name=order_name or "테스트 결제",
                price=price, tax_free=tax_free, method=method, status=0, requested_at=now, seq=self._seq,
                separately_confirmed=separately_confirmed, metadata=metadata,
            )
            tid = "sandbox" + secrets.token_hex(10)
            if method == "card":
                receipt.card = {"tid": tid, "card_approve_no": _digits(8), "card_no": "53275000****123*",
                                "card_quota": "00", "card_company_code": "11", "card_company": "BC",
                                "card_interest": "0", "card_type": "신용", "card_owner_type": "개인", "point": 0}
                if separately_confirmed:
                    receipt.status = 2
                else:
                    self._mark_paid(receipt, now)
            else:
                receipt.vbank = {"tid": tid, "bank_code": "004", "bank_name": "국민은행",
                                 "bank_username": self.config.company_name, "bank_account": _digits(14),
                                 "sender_name": None,
                                 "expired_at": iso(now + self.config.vbank_due_days * 86400)}
                receipt.status = 5
            self.receipts[receipt_id] = receipt
            self.save(receipt)
            if webhook and receipt.status in (1, 5):
                self.webhooks.emit(receipt, "PAYMENT_COMPLETED" if receipt.status == 1 else "PAYMENT_VIRTUAL_ACCOUNT_ISSUED")
            return receipt

    @staticmethod
    def _mark_paid(receipt: Receipt, now: float) -> None:
        receipt.status, receipt.purchased_at = 1, now

    async def deposit(self, receipt_id: str, *, webhook: bool = True) -> Receipt:
        async with self.lock:
            receipt = self.get(receipt_id)
            if receipt.method != "vbank" or receipt.status != 5:
                raise BootpayError(409, "RECEIPT_NOT_WAITING_DEPOSIT", "입금 대기 중인 가상계좌가 아닙니다.")
            now = self.now()
            if receipt.vbank and receipt.vbank.get("expired_at") and now > datetime.fromisoformat(receipt.vbank["expired_at"]).timestamp():
                raise BootpayError(409, "VBANK_EXPIRED", "입금 기한이 지난 가상계좌입니다.")
            self._mark_paid(receipt, now)
            receipt.vbank = {**(receipt.vbank or {}), "sender_name": "홍길동"}
            self.save(receipt)
            if webhook:
                self.webhooks.emit(receipt, "PAYMENT_COMPLETED")
            return receipt

    async def confirm(self, receipt_id: str) -> Receipt:
        async with self.lock:
            receipt = self.get(receipt_id)
            if receipt.status == 1:
                raise BootpayError(400, "RECEIPT_ALREADY_CONFIRMED", "이미 승인된 결제입니다.")
            if receipt.status != 2:
                raise BootpayError(400, "RECEIPT_NOT_CONFIRMABLE", "승인 대기(status 2) 상태의 결제가 아닙니다.")
            self._mark_paid(receipt, self.now())
            self.save(receipt)
            self.webhooks.emit(receipt, "PAYMENT_COMPLETED")
            return receipt

    async def cancel(self, receipt_id: str, *, price: int | None, tax_free: int | None, cancel_id: str | None,
                     username: str | None, message: str | None, refund: dict | None) -> Receipt:
        async with self.lock:
            receipt = self.get(receipt_id)
            if receipt.status not in (1, 20):
                raise BootpayError(400, "RECEIPT_NOT_CANCELLABLE", "결제완료 상태가 아니어서 취소할 수 없습니다.")
            if receipt.remaining == 0:
                raise BootpayError(400, "RECEIPT_ALREADY_CANCELLED", "이미 전액 취소된 결제입니다.")
            if cancel_id and any(c["cancel_id"] == cancel_id for c in receipt.cancels):
                raise BootpayError(409, "CANCEL_ID_DUPLICATED", f"이미 처리된 취소 요청입니다 (cancel_id {cancel_id}).")
            amount = receipt.remaining if price is None else price
            if amount <= 0:
                raise BootpayError(400, "INVALID_CANCEL_PRICE", "취소 금액은 0보다 커야 합니다.")
            if amount > receipt.remaining:
                raise BootpayError(400, "CANCEL_PRICE_EXCEEDED",
                                   f"취소 가능 금액({receipt.remaining}원)을 넘었습니다.")
            free = receipt.tax_free - receipt.cancelled_tax_free if price is None else (tax_free or 0)
            if free < 0 or free > receipt.tax_free - receipt.cancelled_tax_free or free > amount:
                raise BootpayError(400, "INVALID_CANCEL_TAX_FREE", "면세 취소 금액이 올바르지 않습니다.")
            if receipt.method == "vbank":
                if amount != receipt.remaining:
                    raise BootpayError(400, "PARTIAL_CANCEL_NOT_SUPPORTED", "가상계좌는 부분취소를 지원하지 않습니다.")
                missing = [k for k in ("bank_account", "bank_username", "bank_code") if not (refund or {}).get(k)]
                if missing:
                    raise BootpayError(400, "REFUND_ACCOUNT_REQUIRED",
                                       f"입금된 가상계좌를 취소하려면 환불 계좌가 필요합니다 ({', '.join(missing)}).")
            now = self.now()
            receipt.cancelled_price += amount
            receipt.cancelled_tax_free += free
            receipt.status, receipt.cancelled_at = 20, now
            receipt.cancels.append({"cancel_id": cancel_id, "price": amount, "tax_free": free, "username": username,
                                    "message": message, "refund": refund if receipt.method == "vbank" else None,
                                    "at": now})
            self.save(receipt)
            self.webhooks.emit(receipt, "PAYMENT_CANCELLED" if receipt.remaining == 0 else "PAYMENT_PARTIAL_CANCELLED")
            return receipt

    # ------------------------------------------------------------------ views
    def view(self, r: Receipt) -> dict:
        """GET /v2/receipt/{id} (BJS ReceiptResponseParameters; the fields this emulator fills)."""
        data: dict[str, Any] = {
            "receipt_id": r.receipt_id, "order_id": r.order_id, "price": r.price, "tax_free": r.tax_free,
            "cancelled_price": r.cancelled_price, "cancelled_tax_free": r.cancelled_tax_free,
            "order_name": r.order_name, "company_name": self.config.company_name,
            "gateway_url": "https://gw.bootpay.co.kr", "metadata": r.metadata, "sandbox": True,
            "pg": self.config.pg, "method": METHODS[r.method], "method_symbol": r.method,
            "method_origin": METHODS[r.method], "method_origin_symbol": r.method, "currency": "KRW",
            "requested_at": iso(r.requested_at), "purchased_at": iso(r.purchased_at),
            "cancelled_at": iso(r.cancelled_at), "status": r.status, "status_locale": STATUS_LOCALE[r.status],
        }
        if r.card is not None:
            data["card_data"] = dict(r.card)
        if r.vbank is not None:
            data["vbank_data"] = dict(r.vbank)
        return data


def get_store(request) -> Store:
    """The store behind a request, standalone or mounted (request.app is the innermost app)."""
    store = request.app.state.bootpay
    store.webhooks.resume()  # deliveries a previous process left unfinished, once a loop runs
    store.billing.kick()  # reservations waiting on the sandbox clock
    return store
