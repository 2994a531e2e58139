"""Bootpay billing (정기결제) state: billing keys, reservations, and the receipts their charges make.
Lives beside the receipts (``store.billing``) and writes through to the same state file.

Facts emulated (billing-and-bootpay.md §C.5, §F; BPY README §4-4, §4-7, §4-8):
- a key is issued by the browser window (requestSubscription) or by REST card data; the browser
  only ever sees the issuing ``receipt_id`` (never the key): the server reads the key with
  ``GET /v2/subscribe/billing_key/{receipt_id}``;
- ``POST /v2/subscribe/payment`` makes one attempt per call (no retry, no schedule) and refuses an
  ``order_id`` that already paid ("같은 order_id로 중복 결제 불가"); a declined attempt leaves no
  receipt, so its order_id may be tried again **[inferred: the sources speak of 중복 결제]**;
- at most 10 waiting reservations per key; destroying a key keeps its reservations (they fail when
  they come due: the key is gone).
Reservations run on the sandbox clock (POST /_control/clock moves it; a one-second tick while any
waits; every billing request runs what is due first): Bootpay itself runs them at
``reserve_execute_at``; its reservation ``status`` numbers are not published, the emulator's are
RESERVE_STATUS below.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .billing_cards import DECLINE_CODE, DECLINE_REASON
from .store import BootpayError, Receipt, iso

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

log = logging.getLogger("sandbox.bootpay")
TICK_S = 1.0
MAX_RESERVATIONS = 10
KEY_STATUS = 11  # 빌링키 발급 완료 (BMCP llms.txt)
WAITING, PAID, FAILED, REVOKED = 0, 1, -2, -1
RESERVE_STATUS = {WAITING: "예약대기", PAID: "결제완료", FAILED: "결제실패", REVOKED: "예약취소"}


@dataclass
class BillingKey:
    billing_key: str
    receipt_id: str  # the issuing receipt: all the browser sees
    subscription_id: str
    order_name: str
    pg: str
    card_no: str  # masked
    card_company: str
    card_company_code: str
    requested_at: float
    published_at: float
    expire_at: float
    decline: bool = False
    user: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    destroyed_at: float | None = None


@dataclass
class Reservation:
    reserve_id: str
    billing_key: str
    order_id: str
    order_name: str
    price: int
    tax_free: int
    execute_at: float
    requested_at: float
    seq: int
    user: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    feedback_url: str | None = None
    content_type: str | None = None
    status: int = WAITING
    receipt_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    revoked_at: float | None = None
    fail_reason: str | None = None


class BillingStore:
    def __init__(self, store: "Store"):
        self.store = store
        self.keys: dict[str, BillingKey] = {}
        self.by_receipt: dict[str, str] = {}  # issuing receipt_id → billing_key
        self.reservations: dict[str, Reservation] = {}
        self._seq = 0
        self._ticker: asyncio.Task | None = None
        self._closed = False
        # Whether any reservation waits: kick() runs on every request, so it must not walk them.
        self._waiting = False

    def _refresh(self) -> None:
        self._waiting = any(r.status == WAITING for r in self.reservations.values())

    # ------------------------------------------------------------------ durability
    def restore(self, rows: dict[str, dict[str, Any]]) -> None:
        for data in rows.get("billing_key", {}).values():
            key = BillingKey(**data)
            self.keys[key.billing_key], self.by_receipt[key.receipt_id] = key, key.billing_key
        for data in rows.get("reserve", {}).values():
            r = Reservation(**data)
            self.reservations[r.reserve_id] = r
        self._seq = max((r.seq for r in self.reservations.values()), default=0)
        self._refresh()

    def _save_key(self, key: BillingKey) -> None:
        self.store.state.write([("billing_key", key.billing_key, asdict(key))])

    def _save_reservation(self, r: Reservation) -> None:
        self.store.state.write([("reserve", r.reserve_id, asdict(r))])

    def _new_id(self, taken: dict) -> str:
        now = self.store.now()
        while True:  # 24 hex digits like every Bootpay id (a MongoDB ObjectId)
            candidate = f"{int(now) & 0xFFFFFFFF:08x}" + secrets.token_hex(8)
            if candidate not in taken and candidate not in self.store.receipts:
                return candidate

    # ------------------------------------------------------------------ keys
    def issue(self, *, subscription_id: str, order_name: str, pg: str | None, card_no: str, decline: bool,
              user: dict, metadata: dict) -> BillingKey:
        now = self.store.now()
        key = BillingKey(
            billing_key=self._new_id(self.keys), receipt_id=self._new_id(self.by_receipt),
            subscription_id=subscription_id, order_name=order_name, pg=pg or self.store.config.pg,
            card_no=card_no, card_company="신한", card_company_code="04", requested_at=now, published_at=now,
            expire_at=now + 5 * 365 * 86400, decline=decline, user=user, metadata=metadata,
        )
        self.keys[key.billing_key], self.by_receipt[key.receipt_id] = key, key.billing_key
        self._save_key(key)
        return key

    def key(self, billing_key: str) -> BillingKey:
        key = self.keys.get(billing_key)
        if key is None or key.destroyed_at is not None:
            raise BootpayError(404, "BILLING_KEY_NOT_FOUND", "빌링키 정보를 찾을 수 없습니다.")
        return key

    def key_of_receipt(self, receipt_id: str) -> BillingKey:
        return self.key(self.by_receipt.get(receipt_id, ""))

    def destroy(self, billing_key: str) -> BillingKey:
        key = self.key(billing_key)
        key.destroyed_at = self.store.now()
        self._save_key(key)  # its reservations stay (BPY README §4-7)
        return key

    def key_view(self, key: BillingKey) -> dict:
        """SubscriptionBillingResponseParameters (BJS): never a full card number."""
        return {
            "receipt_id": key.receipt_id, "billing_key": key.billing_key, "subscription_id": key.subscription_id,
            "order_name": key.order_name, "gateway_url": "https://gw.bootpay.co.kr", "metadata": key.metadata,
            "pg": key.pg, "method": "카드자동", "method_symbol": "card_rebill", "method_origin": "카드자동",
            "method_origin_symbol": "card_rebill", "sandbox": True,
            "billing_data": {"card_no": key.card_no, "card_company": key.card_company,
                             "card_company_code": key.card_company_code, "card_type": "신용"},
            "requested_at": iso(key.requested_at), "published_at": iso(key.published_at),
            "billing_expire_at": iso(key.expire_at), "status": KEY_STATUS, "status_locale": "빌링키발급완료",
        }

    # ------------------------------------------------------------------ charges
    def order_paid(self, order_id: str) -> bool:
        return any(r.order_id == order_id and r.status in (1, 20) for r in self.store.receipts.values())

    async def charge(self, billing_key: str, *, order_id: str, order_name: str, price: int, tax_free: int,
                     metadata: dict, feedback_url: str | None, content_type: str | None) -> Receipt:
        """One attempt (the caller holds the store lock): a paid receipt, or a BootpayError."""
        key = self.key(billing_key)
        if self.order_paid(order_id):
            raise BootpayError(400, "ORDER_ID_DUPLICATED", f"이미 결제 완료된 주문번호(order_id)입니다: {order_id}")
        if key.decline:
            # What a card company's refusal looks like: Bootpay's stage code, the PG's code and reason.
            raise BootpayError(400, "SUBSCRIBE_PAYMENT_FAILED", DECLINE_REASON, pg_error_code=DECLINE_CODE)
        store = self.store
        now = store.now()
        store._seq += 1
        receipt = Receipt(
            receipt_id=store._new_receipt_id(now), order_id=order_id, order_name=order_name, price=price,
            tax_free=tax_free, method="card_rebill", status=1, requested_at=now, purchased_at=now, seq=store._seq,
            metadata=metadata,
            card={"tid": "sandbox" + secrets.token_hex(10), "card_approve_no": f"{secrets.randbelow(10**8):08d}",
                  "card_no": key.card_no, "card_quota": "00", "card_company_code": key.card_company_code,
                  "card_company": key.card_company, "card_interest": "0", "card_type": "신용",
                  "card_owner_type": "개인", "point": 0},
        )
        store.receipts[receipt.receipt_id] = receipt
        store.save(receipt)
        store.webhooks.emit(receipt, "PAYMENT_COMPLETED", url=feedback_url, content_type=content_type)
        return receipt

    # ------------------------------------------------------------------ reservations
    def reserve(self, billing_key: str, *, execute_at: float, **details: Any) -> Reservation:
        self.key(billing_key)
        if execute_at <= self.store.now():
            raise BootpayError(400, "INVALID_RESERVE_EXECUTE_AT", "reserve_execute_at은 현재 시각 이후여야 합니다.")
        waiting = [r for r in self.reservations.values() if r.billing_key == billing_key and r.status == WAITING]
        if len(waiting) >= MAX_RESERVATIONS:
            raise BootpayError(400, "RESERVE_LIMIT_EXCEEDED",
                               f"빌링키 하나에 예약결제는 최대 {MAX_RESERVATIONS}건까지 등록할 수 있습니다.")
        if self.order_paid(details["order_id"]) or any(
                r.order_id == details["order_id"] and r.status in (WAITING, PAID) for r in self.reservations.values()):
            raise BootpayError(400, "ORDER_ID_DUPLICATED", f"이미 사용된 주문번호(order_id)입니다: {details['order_id']}")
        self._seq += 1
        r = Reservation(reserve_id=self._new_id(self.reservations), billing_key=billing_key, execute_at=execute_at,
                        requested_at=self.store.now(), seq=self._seq, **details)
        self.reservations[r.reserve_id] = r
        self._save_reservation(r)
        self._waiting = True
        self.kick()
        return r

    def reservation(self, reserve_id: str) -> Reservation:
        r = self.reservations.get(reserve_id)
        if r is None:
            raise BootpayError(404, "RESERVE_NOT_FOUND", "예약결제 정보를 찾을 수 없습니다.")
        return r

    def revoke(self, reserve_id: str) -> Reservation:
        r = self.reservation(reserve_id)
        if r.status != WAITING:
            raise BootpayError(400, "RESERVE_NOT_CANCELLABLE", "대기 중인 예약결제만 취소할 수 있습니다.")
        r.status, r.revoked_at = REVOKED, self.store.now()
        self._save_reservation(r)
        self._refresh()
        return r

    def reservation_view(self, r: Reservation) -> dict:
        return {
            "reserve_id": r.reserve_id, "receipt_id": r.receipt_id, "billing_key": r.billing_key,
            "order_id": r.order_id, "price": r.price, "tax_free": r.tax_free, "order_name": r.order_name,
            "user": r.user, "feedback_url": r.feedback_url, "metadata": r.metadata, "content_type": r.content_type,
            "version": 2, "extra": {}, "reserve_requested_at": iso(r.requested_at),
            "reserve_execute_at": iso(r.execute_at), "reserve_started_at": iso(r.started_at),
            "reserve_finished_at": iso(r.finished_at), "reserve_revoked_at": iso(r.revoked_at),
            "status": r.status, "status_locale": RESERVE_STATUS[r.status], "fail_reason": r.fail_reason,
        }

    # ------------------------------------------------------------------ the clock
    def _due(self) -> list[Reservation]:
        now = self.store.now()
        return sorted((r for r in self.reservations.values() if r.status == WAITING and r.execute_at <= now),
                      key=lambda r: (r.execute_at, r.seq))

    async def run_due(self) -> int:
        """Charge every reservation whose time has come, oldest first; returns how many ran."""
        if not self._waiting or not self._due():
            return 0
        async with self.store.lock:
            ran = 0
            for r in self._due():
                r.started_at = self.store.now()
                try:
                    receipt = await self.charge(r.billing_key, order_id=r.order_id, order_name=r.order_name,
                                                price=r.price, tax_free=r.tax_free, metadata=r.metadata,
                                                feedback_url=r.feedback_url, content_type=r.content_type)
                    r.status, r.receipt_id = PAID, receipt.receipt_id
                except BootpayError as exc:
                    r.status, r.fail_reason = FAILED, exc.message
                r.finished_at = self.store.now()
                self._save_reservation(r)
                ran += 1
            self._refresh()
            return ran

    def kick(self) -> None:
        """On every request: keep a one-second tick going while a reservation waits."""
        if self._closed or not self._waiting:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._ticker is None or self._ticker.done() or self._ticker.get_loop() is not loop:
            self._ticker = loop.create_task(self._tick())

    async def _tick(self) -> None:
        while not self._closed and self._waiting:
            await asyncio.sleep(TICK_S)
            try:
                await self.run_due()
            except Exception:  # a tick must never die silently halfway: log and let the next one retry
                log.exception("sandbox: running due Bootpay reservations failed")

    async def aclose(self) -> None:
        self._closed = True
        task = self._ticker
        if task is not None and not task.done():
            task.cancel()
            if task.get_loop() is asyncio.get_running_loop():
                await asyncio.gather(task, return_exceptions=True)
