"""State of the PortOne emulator: payments, tokens, prepared amounts, faults, stats.

One store serves both API versions, because a merchant may run V1 and V2 side by side and a
reconciliation job must see the same money either way. All mutations go through one asyncio
lock so that concurrent API processes hitting one standalone sandbox see a consistent ledger
(e.g. two racing cancels can never refund more than was paid).

The dicts below are the working copy; every change is also written through to the state file
(sandbox/persist.py, ``config.state_path``) and read back at start, so a restart forgets nothing
PortOne would remember. Request counters (``stats``) are the one thing kept in memory only.

Public interface used by the browser checkout (sandbox/portone/checkout.py) and the control API:
    store = get_store(request)              # or request.app.state.sandbox
    payment = await store.create_payment(amount=1000, merchant_uid="order-1", ...)
    store.v1_view(payment) / store.v2_view(payment)
"""

from __future__ import annotations

import json
import math
import random
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import shared
from .config import SandboxConfig
from ..persist import StateFile
from .billing_v1_store import BillingV1Store
from .webhooks import WebhookDispatcher

V1_STATUSES = ("ready", "paid", "cancelled", "failed")
PAY_METHODS = ("card", "vbank", "trans")
OUTCOMES = ("paid", "failed", "ready", "pending")
VERSIONS = ("v1", "v2")

# PortOne documents the search window of GET /payments/status as at most 90 days.
NINETY_DAYS_S = 90 * 24 * 3600
# GET /users/getToken: a token asked for within its last minute is extended by 5 minutes
# (v1.openapi.yml, /users/getToken description: "기존 만료시간 전 1분이내 요청 시 5분 연장 됨").
TOKEN_EXTEND_WINDOW_S = 60
TOKEN_EXTEND_BY_S = 300

# Fixed, obviously fake instrument details (test-mode PG values).
_CARD = {"card_code": "366", "card_name": "신한카드", "card_number": "536181******1234", "brand": "LOCAL"}
_VBANK = {"vbank_code": "004", "vbank_name": "KB국민은행", "v2_bank": "KOOKMIN"}
_TRANS_BANK = {"bank_code": "088", "bank_name": "신한은행", "v2_bank": "SHINHAN"}
VBANK_HOLDER = "(주)포인트차지"
RECEIPT_BASE = "https://sandbox.invalid/receipts"  # RFC 2606: never resolves to a real host


class SandboxError(Exception):
    """A business failure; the HTTP layer maps `kind` to each API version's envelope."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Cancellation:
    id: str
    pg_tid: str
    amount: int
    reason: str
    cancelled_at: float
    requested_at: float
    trigger: str  # "API" | "CONSOLE" (V2 vocabulary)
    receipt_url: str
    refund_holder: str | None = None
    refund_bank: str | None = None
    refund_account: str | None = None
    refund_tel: str | None = None


# Refund-account banks PortOne takes: V1 ``refund_bank`` is the KFTC bank code, V2
# ``refundAccount.bank`` the ``Bank`` enum of v2.openapi.yml (banks only; securities firms left out).
V1_REFUND_BANKS = frozenset({
    "002", "003", "004", "007", "011", "012", "020", "023", "027", "031", "032", "034", "035", "037",
    "039", "045", "048", "050", "064", "071", "081", "088", "089", "090", "092",
})
V2_REFUND_BANKS = frozenset({
    "BANK_OF_KOREA", "KDB", "IBK", "KOOKMIN", "SUHYUP", "KEXIM", "NONGHYUP", "LOCAL_NONGHYUP", "WOORI",
    "STANDARD_CHARTERED", "CITI", "DAEGU", "BUSAN", "KWANGJU", "JEJU", "JEONBUK", "KYONGNAM", "KFCC",
    "SHINHYUP", "SAVINGS_BANK", "MORGAN_STANLEY", "HSBC", "DEUTSCHE", "JPMC", "MIZUHO", "MUFG",
    "BANK_OF_AMERICA", "BNP_PARIBAS", "ICBC", "BANK_OF_CHINA", "NFCF", "UOB", "BOCOM", "CCB", "POST",
    "HANA", "SHINHAN", "K_BANK", "KAKAO", "TOSS",
})


@dataclass
class Payment:
    version: str  # "v1" | "v2"
    amount: int
    status: str  # V1 vocabulary: ready | paid | cancelled | failed, plus "pending" (V2 PAY_PENDING)
    pay_method: str
    pg_provider: str
    seq: int  # creation order; the V2 cursor and stable sort key
    imp_uid: str | None = None
    merchant_uid: str | None = None
    payment_id: str | None = None
    transaction_id: str | None = None
    pg_tid: str | None = None
    name: str | None = None
    buyer_email: str | None = None
    buyer_name: str | None = None
    buyer_tel: str | None = None
    custom_data: str | None = None  # PortOne stores it as a JSON string
    notice_url: str | None = None
    currency: str = "KRW"
    started_at: float = 0.0
    paid_at: float = 0.0
    failed_at: float = 0.0
    cancelled_at: float = 0.0
    updated_at: float = 0.0
    status_changed_at: float = 0.0
    fail_reason: str | None = None
    cancel_amount: int = 0
    cancel_reason: str | None = None
    cancel_history: list[Cancellation] = field(default_factory=list)
    vbank_num: str | None = None
    vbank_date: int = 0
    vbank_issued_at: int = 0
    apply_num: str | None = None
    # V2 only: the part of `amount` (amount.total) a promotion paid, not the buyer — a card
    # company's or PortOne's promotion, points, a coupon (PaymentAmount.discount); amount.paid is
    # total − discount.
    discount: int = 0

    @property
    def key(self) -> str:
        return self.imp_uid if self.version == "v1" else self.payment_id  # type: ignore[return-value]

    @property
    def cancellable_amount(self) -> int:
        return self.amount - self.cancel_amount

    @classmethod
    def from_row(cls, data: dict) -> "Payment":
        history = [Cancellation(**c) for c in data.pop("cancel_history", [])]
        return cls(**data, cancel_history=history)

    @property
    def vbank_issued(self) -> bool:
        return self.pay_method == "vbank" and self.vbank_num is not None

    @property
    def v2_status(self) -> str:
        if self.status == "ready":
            return "VIRTUAL_ACCOUNT_ISSUED" if self.vbank_issued else "READY"
        if self.status == "pending":
            return "PAY_PENDING"
        if self.status == "failed":
            return "FAILED"
        if self.status == "cancelled":
            return "CANCELLED"
        return "PARTIAL_CANCELLED" if self.cancel_amount > 0 else "PAID"


@dataclass
class Faults(shared.Faults):
    webhook_duplicate: float = 0.0  # the chance a webhook goes out twice (receivers must be idempotent)


def iso(ts: float) -> str:
    """RFC 3339 with milliseconds and Z, as PortOne V2 prints date-times."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> float:
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _custom_data_to_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Store(shared.LedgerBase):
    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.time_offset_s = 0.0  # POST /_control/clock moves the sandbox clock forward
        self.webhooks = WebhookDispatcher(self)
        self.billing_v1 = BillingV1Store(self)  # V1 billing keys and schedules (billing_v1_store.py)
        self._reset_state()
        self.state = StateFile(self.config.state_path)
        self._restore(self.state.load())

    # ------------------------------------------------------------------ lifecycle
    def _reset_state(self) -> None:
        self.payments: dict[str, Payment] = {}  # key: imp_uid (v1) or paymentId (v2)
        # V1 payments by merchant_uid, in insertion order (one order may hold several attempts).
        # Kept in step by _put: scanning every payment per lookup grew the cost of each billing
        # charge with the ledger (3.7 ms per lookup at 20,000 payments).
        self._v1_by_merchant_uid: dict[str | None, list[Payment]] = {}
        self.prepared: dict[str, dict] = {}  # V1 POST /payments/prepare by merchant_uid
        self.pre_registered: dict[str, dict] = {}  # V2 pre-register by paymentId
        self.tokens: dict[str, float] = {}  # access_token -> expires_at
        self.idempotency: dict[str, dict] = {}
        self.faults = Faults()
        self.rng = random.Random()
        self.stats: dict[str, int] = {}
        self._seq = 0
        self.billing_v1.clear()
        from .billing_v2 import BillingV2  # V2 billing keys and schedules (local: it builds on this module)
        self.billing_v2 = BillingV2(self)

    async def aclose(self) -> None:
        await self.billing_v1.aclose()
        self.billing_v2.aclose()
        await super().aclose()

    # ------------------------------------------------------------------ durability
    def _restore(self, rows: dict[str, dict[str, Any]]) -> None:
        for data in rows.get("payment", {}).values():
            self._put(Payment.from_row(data))
        self._seq = max((p.seq for p in self.payments.values()), default=0)
        self.prepared.update(rows.get("prepared", {}))
        self.pre_registered.update(rows.get("pre_registered", {}))
        self.tokens.update(rows.get("token", {}))
        for key, cached in rows.get("idempotency", {}).items():
            if "payment" in cached:
                payment = self.payments[cached["payment"]]
                cached = {**cached, "payment": payment,
                          "cancellation": next(c for c in payment.cancel_history if c.id == cached["cancellation"])}
            elif "error" in cached:
                cached = {**cached, "error": tuple(cached["error"])}
            self.idempotency[key] = cached
        meta = rows.get("meta", {})
        self.time_offset_s = float(meta.get("clock", 0.0))
        if "faults" in meta:
            self.set_faults(Faults(**meta["faults"]), persist=False)
        self.webhooks.restore(sorted(rows.get("webhook", {}).values(), key=lambda r: r["id"]))
        self.billing_v1.restore(rows)
        self.billing_v2.restore(rows)

    def _save(self, *payments: Payment, idempotency: tuple[str, dict] | None = None) -> None:
        puts: list[tuple[str, str, Any]] = [("payment", p.key, asdict(p)) for p in payments]
        if idempotency is not None:
            key, cached = idempotency
            if "payment" in cached:
                cached = {**cached, "payment": cached["payment"].key, "cancellation": cached["cancellation"].id}
            puts.append(("idempotency", key, cached))
        self.state.write(puts)

    def install_secret(self, name: str) -> str:
        """A random secret generated once per state file (per install), e.g. the sandbox-mode
        API's JWT key; a fresh one per process when the state is in memory."""
        return self.state.secret(name)

    # ------------------------------------------------------------------ ids
    def _new_imp_uid(self) -> str:
        while True:
            candidate = "imp_" + "".join(secrets.choice("0123456789") for _ in range(12))
            if candidate not in self.payments:
                return candidate

    @staticmethod
    def _new_pg_tid() -> str:
        return "StdpayCARDINIpayTest" + secrets.token_hex(8)

    # ------------------------------------------------------------------ lookups
    def get(self, key: str) -> Payment | None:
        """By imp_uid or V2 paymentId (the control API accepts either)."""
        return self.payments.get(key)

    def get_v1(self, imp_uid: str) -> Payment | None:
        p = self.payments.get(imp_uid)
        return p if p is not None and p.version == "v1" else None

    def get_v2(self, payment_id: str) -> Payment | None:
        p = self.payments.get(payment_id)
        return p if p is not None and p.version == "v2" else None

    def v1_by_merchant_uid(self, merchant_uid: str) -> list[Payment]:
        return list(self._v1_by_merchant_uid.get(merchant_uid, ()))

    def _put(self, payment: Payment) -> None:
        """The one way a payment enters the ledger, so the merchant_uid index cannot drift."""
        replaced = self.payments.get(payment.key)
        self.payments[payment.key] = payment
        if replaced is not None and replaced.version == "v1":
            self._v1_by_merchant_uid[replaced.merchant_uid].remove(replaced)
        if payment.version == "v1":
            # Append keeps the dict's insertion order, which the old full scan returned. V1 keys are
            # fresh imp_uids, so a V1 payment is never replaced in place.
            self._v1_by_merchant_uid.setdefault(payment.merchant_uid, []).append(payment)

    def v1_payments(self) -> list[Payment]:
        return [p for p in self.payments.values() if p.version == "v1"]

    def v2_payments(self) -> list[Payment]:
        return [p for p in self.payments.values() if p.version == "v2"]

    # ------------------------------------------------------------------ creation
    async def create_payment(
        self,
        *,
        amount: int,
        merchant_uid: str | None = None,
        payment_id: str | None = None,
        pay_method: str = "card",
        outcome: str = "paid",
        name: str | None = None,
        buyer_email: str | None = None,
        buyer_name: str | None = None,
        buyer_tel: str | None = None,
        notice_url: str | None = None,
        webhook: bool = True,
        version: str = "v1",
        pg: str | None = None,
        custom_data: Any = None,
        fail_reason: str | None = None,
        vbank_due: int | None = None,
        discount: int = 0,
    ) -> Payment:
        """Simulate a buyer finishing (or abandoning) the PG payment window.

        `vbank_due` (UNIX seconds) is the virtual account's deposit deadline, as IMP.request_pay
        takes it; by default now + config.vbank_due_days.

        Raises SandboxError("invalid", ...) for unusable input and
        SandboxError("already_paid", ...) when a V2 paymentId is already paid.
        A prepared/pre-registered amount that differs from `amount` does not raise: like
        PortOne, the attempt is recorded as a failed payment.
        """
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise SandboxError("invalid", "amount must be a positive integer (KRW)")
        if version not in VERSIONS:
            raise SandboxError("invalid", f"version must be one of {VERSIONS}")
        if pay_method not in PAY_METHODS:
            raise SandboxError("invalid", f"pay_method must be one of {PAY_METHODS}")
        if outcome not in OUTCOMES:
            raise SandboxError("invalid", f"outcome must be one of {OUTCOMES}")
        if outcome == "pending" and version != "v2":
            raise SandboxError("invalid", "outcome 'pending' (PAY_PENDING) exists only in V2")
        if merchant_uid is not None and len(merchant_uid) > 40:
            raise SandboxError("invalid", "merchant_uid is at most 40 characters")
        if vbank_due is not None and (isinstance(vbank_due, bool) or not isinstance(vbank_due, int)):
            raise SandboxError("invalid", "vbank_due must be a UNIX timestamp (seconds)")
        if isinstance(discount, bool) or not isinstance(discount, int) or not 0 <= discount < amount:
            raise SandboxError("invalid", "discount must be an integer from 0 to less than amount (KRW)")
        if discount and version != "v2":
            raise SandboxError("invalid", "discount (amount.discount) exists only in V2")

        events: list[tuple[Payment, str, str | None]] = []
        async with self.lock:
            now = self.now()
            self._seq += 1
            payment = Payment(
                version=version,
                amount=amount,
                status="ready",
                pay_method=pay_method,
                pg_provider=pg or self.config.pg,
                seq=self._seq,
                name=name,
                buyer_email=buyer_email,
                buyer_name=buyer_name,
                buyer_tel=buyer_tel,
                custom_data=_custom_data_to_str(custom_data),
                notice_url=notice_url,
                discount=discount,
                started_at=now,
                updated_at=now,
                status_changed_at=now,
            )
            mismatch: str | None = None
            if version == "v1":
                payment.imp_uid = self._new_imp_uid()
                payment.merchant_uid = merchant_uid or f"merchant_{int(now * 1000)}_{self._seq}"
                prepared = self.prepared.get(payment.merchant_uid)
                if prepared is not None and prepared["amount"] != amount:
                    mismatch = (
                        f"사전 등록된 결제금액({prepared['amount']}원)과 결제요청 금액({amount}원)이 일치하지 않습니다."
                    )
                elif any(p.status in ("paid", "cancelled") for p in self.v1_by_merchant_uid(payment.merchant_uid)):
                    mismatch = "이미 결제가 완료된 주문번호(merchant_uid)입니다."
            else:
                payment.payment_id = payment_id or f"payment-{uuid.uuid4()}"
                existing = self.payments.get(payment.payment_id)
                if existing is not None:
                    if existing.version != "v2":
                        raise SandboxError("invalid", "that id already belongs to a V1 payment")
                    if existing.status not in ("ready", "failed"):
                        raise SandboxError("already_paid", "결제가 이미 완료되었습니다.")
                    # A new attempt on the same paymentId replaces the old transaction.
                    payment.seq = existing.seq
                    payment.started_at = existing.started_at
                payment.transaction_id = str(uuid.uuid4())
                reg = self.pre_registered.get(payment.payment_id)
                if reg is not None and reg.get("totalAmount") is not None and reg["totalAmount"] != amount:
                    mismatch = (
                        f"사전 등록된 결제금액({reg['totalAmount']}원)과 결제요청 금액({amount}원)이 일치하지 않습니다."
                    )

            if mismatch is not None:
                outcome, fail_reason = "failed", mismatch

            if outcome != "failed":
                payment.pg_tid = self._new_pg_tid()
            if pay_method == "vbank" and outcome in ("ready", "paid"):
                payment.vbank_num = "".join(secrets.choice("0123456789") for _ in range(14))
                payment.vbank_issued_at = int(now)
                payment.vbank_date = vbank_due if vbank_due is not None else int(now) + self.config.vbank_due_days * 86400

            if outcome == "paid":
                self._mark_paid(payment, now)
                events.append((payment, "paid", None))
            elif outcome == "failed":
                payment.status = "failed"
                payment.failed_at = now
                payment.fail_reason = fail_reason or "[sandbox] 결제에 실패하였습니다."
                events.append((payment, "failed", None))
            elif outcome == "pending":
                payment.status = "pending"
            else:
                payment.status = "ready"
                if payment.vbank_issued:
                    events.append((payment, "vbank_issued", None))
                else:
                    events.append((payment, "ready", None))
            self._put(payment)
            self._save(payment)
        if webhook:
            for p, event, cancellation_id in events:
                self.webhooks.emit(p, event, cancellation_id)
        return payment

    def _mark_paid(self, payment: Payment, now: float) -> None:
        payment.status = "paid"
        payment.paid_at = now
        payment.updated_at = now
        payment.status_changed_at = now
        if payment.pay_method == "card":
            payment.apply_num = "".join(secrets.choice("0123456789") for _ in range(8))

    # ------------------------------------------------------------------ deposit
    async def deposit(self, key: str, *, webhook: bool = True) -> Payment:
        """The buyer paid into the issued virtual account."""
        async with self.lock:
            payment = self.get(key)
            if payment is None:
                raise SandboxError("not_found", "존재하지 않는 결제정보입니다.")
            if not payment.vbank_issued or payment.status != "ready":
                raise SandboxError("invalid", "입금 대기 중인 가상계좌 결제건이 아닙니다.")
            now = self.now()
            if now > payment.vbank_date:
                # The bank refuses deposits into an account past its deadline.
                raise SandboxError("invalid", "가상계좌 입금기한이 지났습니다.")
            self._mark_paid(payment, now)
            self._save(payment)
        if webhook:
            self.webhooks.emit(payment, "paid", None)
        return payment

    async def approve_late(self, key: str, *, webhook: bool = True) -> Payment:
        """A card attempt reported failed (a PG timeout, say) that the PG approved after all:
        PortOne's record turns paid later, and the buyer's money was taken."""
        async with self.lock:
            payment = self.get(key)
            if payment is None:
                raise SandboxError("not_found", "존재하지 않는 결제정보입니다.")
            if payment.status != "failed" or payment.pay_method == "vbank":
                raise SandboxError("invalid", "실패한 카드 결제건만 나중에 승인될 수 있습니다.")
            payment.fail_reason = None
            payment.failed_at = 0
            self._mark_paid(payment, self.now())
            self._save(payment)
        if webhook:
            self.webhooks.emit(payment, "paid", None)
        return payment

    # ------------------------------------------------------------------ cancel
    async def cancel(
        self,
        payment: Payment,
        *,
        amount: int | None,
        reason: str | None,
        checksum: int | None = None,
        trigger: str = "API",
        refund_holder: str | None = None,
        refund_bank: str | None = None,
        refund_account: str | None = None,
        refund_tel: str | None = None,
        require_refund_account: bool = False,
        webhook: bool = False,
        idempotency_key: str | None = None,
        idempotency_fingerprint: str | None = None,
    ) -> tuple[Payment, Cancellation]:
        """Refund `amount` (None or 0 = the whole cancellable balance).

        `checksum` is PortOne's "current cancellable amount" guard (V1 `checksum`, V2
        `currentCancellableAmount`): when given and different from the ledger, nothing happens.
        With an idempotency key the first outcome (success or business error) is remembered
        and replayed, so a retried request never refunds twice.
        """
        async with self.lock:
            if idempotency_key is not None:
                cached = self.idempotency.get(idempotency_key)
                if cached is not None:
                    if cached["fingerprint"] != idempotency_fingerprint:
                        raise SandboxError(
                            "idempotency_mismatch",
                            "Idempotency-Key was already used with a different request.",
                        )
                    if "error" in cached:
                        raise SandboxError(*cached["error"])
                    return cached["payment"], cached["cancellation"]
            try:
                result = self._cancel_locked(
                    payment,
                    amount=amount,
                    reason=reason,
                    checksum=checksum,
                    trigger=trigger,
                    refund_holder=refund_holder,
                    refund_bank=refund_bank,
                    refund_account=refund_account,
                    refund_tel=refund_tel,
                    require_refund_account=require_refund_account,
                )
            except SandboxError as exc:
                if idempotency_key is not None:
                    cached = {"fingerprint": idempotency_fingerprint, "error": (exc.kind, exc.message)}
                    self.idempotency[idempotency_key] = cached
                    self.state.write([("idempotency", idempotency_key, cached)])
                raise
            remembered = None
            if idempotency_key is not None:
                remembered = (idempotency_key, {
                    "fingerprint": idempotency_fingerprint,
                    "payment": result[0],
                    "cancellation": result[1],
                })
                self.idempotency[idempotency_key] = remembered[1]
            self._save(result[0], idempotency=remembered)
        if webhook:
            self.webhooks.emit(result[0], "cancelled", result[1].id)
        return result

    def _cancel_locked(
        self,
        payment: Payment,
        *,
        amount: int | None,
        reason: str | None,
        checksum: int | None,
        trigger: str,
        refund_holder: str | None,
        refund_bank: str | None,
        refund_account: str | None,
        refund_tel: str | None,
        require_refund_account: bool,
    ) -> tuple[Payment, Cancellation]:
        if payment.status == "cancelled":
            raise SandboxError("already_cancelled", "이미 전액취소된 주문입니다.")
        if payment.status != "paid":
            raise SandboxError("not_paid", "결제완료 상태가 아닌 결제건은 취소할 수 없습니다.")
        cancellable = payment.cancellable_amount
        if checksum is not None and checksum != cancellable:
            raise SandboxError(
                "checksum_mismatch",
                f"취소 가능 잔액 검증에 실패하였습니다. (요청 checksum: {checksum}원, 취소 가능 잔액: {cancellable}원)",
            )
        if amount is not None and amount < 0:
            raise SandboxError("invalid_amount", "취소 요청금액은 0보다 커야 합니다.")
        to_cancel = cancellable if not amount else amount
        if to_cancel > cancellable:
            raise SandboxError(
                "exceeds",
                f"취소 가능 잔액({cancellable}원)보다 취소요청금액({to_cancel}원)이 큽니다.",
            )
        if require_refund_account and payment.pay_method == "vbank":
            if not (refund_holder and refund_bank and refund_account):
                raise SandboxError(
                    "refund_account_required",
                    "가상계좌 환불에는 환불계좌 정보(refund_holder, refund_bank, refund_account)가 필요합니다.",
                )
            # V1 codes are the KFTC ones; some PGs write them without the leading zero ("88").
            bank = refund_bank.zfill(3) if payment.version == "v1" and refund_bank.isdigit() else refund_bank
            if bank not in (V1_REFUND_BANKS if payment.version == "v1" else V2_REFUND_BANKS):
                raise SandboxError("refund_account_invalid", "환불계좌 은행코드가 올바르지 않습니다.")
            if not refund_account.replace("-", "").isdigit():
                raise SandboxError("refund_account_invalid", "환불계좌 계좌번호가 올바르지 않습니다.")
        now = self.now()
        cancellation = Cancellation(
            id=str(uuid.uuid4()),
            pg_tid=self._new_pg_tid(),
            amount=to_cancel,
            reason=reason or "",
            cancelled_at=now,
            requested_at=now,
            trigger=trigger,
            receipt_url="",
            refund_holder=refund_holder,
            refund_bank=refund_bank,
            refund_account=refund_account,
            refund_tel=refund_tel,
        )
        cancellation.receipt_url = f"{RECEIPT_BASE}/cancel/{cancellation.id}"
        payment.cancel_history.append(cancellation)
        payment.cancel_amount += to_cancel
        payment.cancel_reason = cancellation.reason
        payment.updated_at = now
        payment.status_changed_at = now
        # V1 keeps a partially refunded payment "paid" (cancel_amount tells the refunded part);
        # only a full refund turns it "cancelled" and sets cancelled_at.
        if payment.cancel_amount == payment.amount:
            payment.status = "cancelled"
            payment.cancelled_at = now
        return payment, cancellation

    # ------------------------------------------------------------------ V1 prepare
    async def prepare(self, merchant_uid: str, amount: int, currency: str | None) -> dict:
        async with self.lock:
            if merchant_uid in self.prepared:
                raise SandboxError("duplicate", "이미 등록된 merchant_uid입니다.")
            entry = {"merchant_uid": merchant_uid, "amount": amount, "currency": currency}
            self.prepared[merchant_uid] = entry
            self.state.write([("prepared", merchant_uid, entry)])
            return dict(entry)

    async def update_prepare(self, merchant_uid: str, amount: int, currency: str | None) -> dict:
        async with self.lock:
            entry = self.prepared.get(merchant_uid)
            if entry is None:
                raise SandboxError("not_found", "사전등록된 결제정보가 존재하지 않습니다.")
            entry["amount"] = amount
            entry["currency"] = currency
            self.state.write([("prepared", merchant_uid, entry)])
            return dict(entry)

    def get_prepared(self, merchant_uid: str) -> dict | None:
        entry = self.prepared.get(merchant_uid)
        return dict(entry) if entry is not None else None

    # ------------------------------------------------------------------ V2 pre-register
    async def pre_register(self, payment_id: str, body: dict) -> None:
        async with self.lock:
            existing = self.get_v2(payment_id)
            if existing is not None and existing.status not in ("ready", "failed"):
                raise SandboxError("already_paid", "결제가 이미 완료되었습니다.")
            self.pre_registered[payment_id] = {
                "totalAmount": body.get("totalAmount"),
                "taxFreeAmount": body.get("taxFreeAmount"),
                "currency": body.get("currency"),
            }
            self.state.write([("pre_registered", payment_id, self.pre_registered[payment_id])])

    # ------------------------------------------------------------------ V1 tokens
    async def issue_token(self) -> tuple[str, int, int]:
        """Returns (access_token, expired_at, now) with PortOne's reuse/extension rules."""
        async with self.lock:
            now = self.now()
            before = dict(self.tokens)
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
            if self.tokens:
                token, expires = max(self.tokens.items(), key=lambda kv: kv[1])
                if expires - now <= TOKEN_EXTEND_WINDOW_S:
                    expires += TOKEN_EXTEND_BY_S
                    self.tokens[token] = expires
            else:
                token = secrets.token_hex(20)
                expires = math.floor(now) + self.config.token_ttl_s
                self.tokens[token] = expires
            if self.tokens != before:
                self.state.write([("token", t, exp) for t, exp in self.tokens.items()], deletes=[("token", None)])
            return token, int(expires), int(now)

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and expires > self.now()

    def expire_tokens(self) -> None:
        self.tokens.clear()
        self.state.write(deletes=[("token", None)])

    # ------------------------------------------------------------------ views
    def v1_view(self, p: Payment) -> dict:
        """A payment exactly as V1 `PaymentAnnotation` (absent values null, as PortOne sends)."""
        is_card = p.pay_method == "card"
        is_trans = p.pay_method == "trans"
        has_vbank = p.vbank_num is not None
        receipt = f"{RECEIPT_BASE}/{p.imp_uid}" if p.status in ("paid", "cancelled") else ""
        return self.billing_v1.overlay(p, {
            "imp_uid": p.imp_uid,
            "merchant_uid": p.merchant_uid,
            "pay_method": p.pay_method,
            "channel": "pc",
            "pg_provider": p.pg_provider,
            "emb_pg_provider": None,
            "pg_tid": p.pg_tid,
            "pg_id": "INIpayTest",
            "escrow": False,
            "apply_num": p.apply_num,
            "bank_code": _TRANS_BANK["bank_code"] if is_trans else None,
            "bank_name": _TRANS_BANK["bank_name"] if is_trans else None,
            "card_code": _CARD["card_code"] if is_card else None,
            "card_name": _CARD["card_name"] if is_card else None,
            "card_issuer_code": _CARD["card_code"] if is_card else None,
            "card_issuer_name": _CARD["card_name"] if is_card else None,
            "card_publisher_code": _CARD["card_code"] if is_card else None,
            "card_publisher_name": _CARD["card_name"] if is_card else None,
            "card_quota": 0,
            "card_number": _CARD["card_number"] if is_card else None,
            "card_type": 0 if is_card else None,
            "vbank_code": _VBANK["vbank_code"] if has_vbank else None,
            "vbank_name": _VBANK["vbank_name"] if has_vbank else None,
            "vbank_num": p.vbank_num,
            "vbank_holder": VBANK_HOLDER if has_vbank else None,
            "vbank_date": p.vbank_date,
            "vbank_issued_at": p.vbank_issued_at,
            "name": p.name,
            "amount": p.amount,
            "cancel_amount": p.cancel_amount,
            "currency": p.currency,
            "buyer_name": p.buyer_name,
            "buyer_email": p.buyer_email,
            "buyer_tel": p.buyer_tel,
            "buyer_addr": None,
            "buyer_postcode": None,
            "custom_data": p.custom_data,
            "user_agent": "sandbox",
            "status": p.status,
            "started_at": int(p.started_at),
            "paid_at": int(p.paid_at),
            "failed_at": int(p.failed_at),
            "cancelled_at": int(p.cancelled_at),
            "fail_reason": p.fail_reason,
            "cancel_reason": p.cancel_reason,
            "receipt_url": receipt,
            "cancel_history": [
                {
                    "pg_tid": c.pg_tid,
                    "amount": c.amount,
                    "cancelled_at": int(c.cancelled_at),
                    "reason": c.reason,
                    "cancellation_id": c.id,
                    "receipt_url": c.receipt_url,
                }
                for c in p.cancel_history
            ],
            "cancel_receipt_urls": [c.receipt_url for c in p.cancel_history],
            "cash_receipt_issued": False,
            "customer_uid": None,
            "customer_uid_usage": None,
            "promotion": None,
        })

    def v2_view(self, p: Payment) -> dict:
        """A payment as V2 `GET /payments/{paymentId}` returns it.

        V2 omits absent optional fields instead of sending null (the official SDK rejects
        nulls). `origin` is not in the bundled OpenAPI file but portone-server-sdk >= 0.21
        requires it, so it is always present.
        """
        status = p.v2_status
        vat = round(p.amount / 11)
        paid_amount = p.amount - p.discount if p.status in ("paid", "cancelled") else 0
        body: dict[str, Any] = {
            "status": status,
            "id": p.payment_id,
            "transactionId": p.transaction_id,
            "merchantId": "merchant-" + self.config.store_id.removeprefix("store-"),
            "storeId": self.config.store_id,
            "channel": {
                "type": "TEST",
                "id": "channel-id-" + self.config.channel_key.removeprefix("channel-key-"),
                "key": self.config.channel_key,
                "name": "sandbox",
                "pgProvider": p.pg_provider.upper(),
                "pgMerchantId": "INIpayTest",
            },
            "version": "V2",
            "requestedAt": iso(p.started_at),
            "updatedAt": iso(p.updated_at),
            "statusChangedAt": iso(p.status_changed_at),
            "orderName": p.name or "",
            "amount": {
                "total": p.amount,
                "taxFree": 0,
                "vat": vat,
                "supply": p.amount - vat,
                "discount": p.discount,
                "paid": paid_amount,
                "cancelled": p.cancel_amount,
                "cancelledTaxFree": 0,
            },
            "currency": p.currency,
            "customer": {
                k: v
                for k, v in (("name", p.buyer_name), ("email", p.buyer_email), ("phoneNumber", p.buyer_tel))
                if v is not None
            },
            "origin": {"platformType": "PC", "ipAddress": "127.0.0.1", "userAgent": "sandbox"},
        }
        method = self._v2_method(p)
        if method is not None:
            body["method"] = method
        if p.custom_data is not None:
            body["customData"] = p.custom_data
        if p.pg_tid is not None and status != "READY":
            body["pgTxId"] = p.pg_tid
        if status in ("PAID", "PARTIAL_CANCELLED", "CANCELLED"):
            body["paidAt"] = iso(p.paid_at)
            body["receiptUrl"] = f"{RECEIPT_BASE}/{p.payment_id}"
        if status == "PAID":
            body["disputes"] = []
        if status in ("PARTIAL_CANCELLED", "CANCELLED"):
            body["cancellations"] = [self.v2_cancellation_view(c) for c in p.cancel_history]
            body["cancelledAt"] = iso(p.cancel_history[-1].cancelled_at)
        if status == "FAILED":
            body["failedAt"] = iso(p.failed_at)
            body["failure"] = {"reason": p.fail_reason or "", "pgCode": "SANDBOX", "pgMessage": p.fail_reason or ""}
        self.billing_v2.decorate(p, body)
        return body

    def v2_cancellation_view(self, c: Cancellation) -> dict:
        return {
            "status": "SUCCEEDED",
            "id": c.id,
            "pgCancellationId": c.pg_tid,
            "totalAmount": c.amount,
            "taxFreeAmount": 0,
            "vatAmount": round(c.amount / 11),
            "reason": c.reason,
            "cancelledAt": iso(c.cancelled_at),
            "requestedAt": iso(c.requested_at),
            "receiptUrl": c.receipt_url,
            "trigger": c.trigger,
        }

    @staticmethod
    def _v2_method(p: Payment) -> dict | None:
        if p.status == "failed" and p.pay_method != "vbank":
            return None
        if p.pay_method == "card":
            method: dict[str, Any] = {
                "type": "PaymentMethodCard",
                "card": {
                    "publisher": _CARD["card_code"],
                    "issuer": _CARD["card_code"],
                    "brand": _CARD["brand"],
                    "type": "CREDIT",
                    "ownerType": "PERSONAL",
                    "name": _CARD["card_name"],
                    "number": _CARD["card_number"],
                },
                "installment": {"month": 0, "isInterestFree": False},
            }
            if p.apply_num:
                method["approvalNumber"] = p.apply_num
            return method
        if p.pay_method == "trans":
            return {"type": "PaymentMethodTransfer", "bank": _TRANS_BANK["v2_bank"]}
        if p.vbank_num is None:
            return None
        return {
            "type": "PaymentMethodVirtualAccount",
            "bank": _VBANK["v2_bank"],
            "accountNumber": p.vbank_num,
            "accountType": "NORMAL",
            "remitteeName": VBANK_HOLDER,
            "expiredAt": iso(p.vbank_date),
            "issuedAt": iso(p.vbank_issued_at),
        }

    def prepare_view(self, entry: dict) -> dict:
        return {"merchant_uid": entry["merchant_uid"], "amount": entry["amount"], "currency": entry["currency"]}


def get_store(request) -> Store:
    """The sandbox store behind a request, whether the sandbox runs standalone or mounted.

    Starlette sets scope["app"] to the innermost Starlette app while routing, so a mounted
    sandbox's request.app is the sandbox itself; the fallback covers handlers reached through
    another app (e.g. the mounting app's state if it chose to publish the store there).
    """
    state = getattr(request.app, "state", None)
    store = getattr(state, "sandbox", None)
    if store is None:
        raise RuntimeError("no sandbox store on this app (is the request routed through create_app()?)")
    store.webhooks.resume()  # deliveries a previous process left unfinished, once a loop runs
    store.billing_v1.kick()  # V1 payment schedules whose time has come
    store.billing_v2.resume()  # and the runner of V2 payment schedules, when some wait
    return store
