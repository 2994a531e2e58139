"""PortOne V1 billing (정기결제) state: billing keys by customer_uid, payment schedules, and which
payments a key made. Lives beside the main Store (``store.billing_v1``) and writes through to the
same state file, so keys and schedules survive a restart like payments do.

Charges are ordinary V1 payments made through ``Store.create_payment`` (so GET /payments/{imp_uid},
the listings, cancels and webhooks all see them); this module only remembers, per imp_uid, the
customer_uid, its ``customer_uid_usage`` and the key's card, and lays them over the payment's view.

Schedules run on the sandbox clock: whenever a request reaches the sandbox (``kick``), when
POST /_control/clock moves time, and on a one-second tick while any schedule waits. A due schedule
is charged once (``payment.scheduled``) and reported by a V1 webhook ``paid`` or ``failed`` to its
notice_url or the console URL (docs/v1-webhook.md: scheduled attempts are the one failure V1 reports).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from . import billing_v1_cards as cards

if TYPE_CHECKING:  # pragma: no cover
    from .store import Payment, Store

log = logging.getLogger("sandbox")
TICK_S = 1.0
CHECKOUT_CARD = "5361810000001234"  # the card a buyer "enters" in the sandbox checkout


@dataclass
class Customer:
    customer_uid: str
    pg_provider: str
    pg_id: str
    card_number: str | None  # masked
    inserted: int
    updated: int
    decline: bool = False  # sandbox: every charge with this key is declined
    customer_id: str | None = None
    customer_name: str | None = None
    customer_tel: str | None = None
    customer_email: str | None = None
    customer_addr: str | None = None
    customer_postcode: str | None = None


@dataclass
class Schedule:
    customer_uid: str
    merchant_uid: str
    schedule_at: int
    amount: int
    seq: int
    currency: str = "KRW"
    name: str | None = None
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_tel: str | None = None
    buyer_addr: str | None = None
    buyer_postcode: str | None = None
    custom_data: str | None = None
    notice_url: str | None = None
    customer_id: str | None = None
    pg_provider: str | None = None
    pg_id: str | None = None
    schedule_status: str = "scheduled"  # scheduled | executed | revoked
    executed_at: int = 0
    revoked_at: int = 0
    imp_uid: str | None = None
    fail_reason: str | None = None


BUYER_FIELDS = ("buyer_name", "buyer_email", "buyer_tel", "buyer_addr", "buyer_postcode")


class BillingV1Store:
    def __init__(self, store: "Store"):
        self.store = store
        self.customers: dict[str, Customer] = {}
        self.schedules: dict[str, Schedule] = {}  # by merchant_uid
        self.links: dict[str, dict[str, Any]] = {}  # imp_uid -> fields laid over the payment view
        self._seq = 0
        self._ticker: asyncio.Task | None = None
        self._run: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # The earliest schedule_at still waiting (None: nothing waits). kick() runs on every request
        # to the sandbox, so it must not walk the schedules.
        self._next_at: int | None = None

    # ------------------------------------------------------------------ durability
    def clear(self) -> None:
        """Store._reset_state: forget keys, schedules and links (the state file is cleared there)."""
        if self._run is not None:
            self._run.cancel()
        self.customers, self.schedules, self.links, self._seq, self._next_at = {}, {}, {}, 0, None

    def restore(self, rows: dict[str, dict[str, Any]]) -> None:
        for data in rows.get("v1_customer", {}).values():
            self.customers[data["customer_uid"]] = Customer(**data)
        for data in rows.get("v1_schedule", {}).values():
            self.schedules[data["merchant_uid"]] = Schedule(**data)
        self.links.update(rows.get("v1_billing_payment", {}))
        self._seq = max((s.seq for s in self.schedules.values()), default=0)
        self._refresh()

    def _refresh(self) -> None:
        self._next_at = min((s.schedule_at for s in self.schedules.values() if s.schedule_status == "scheduled"),
                            default=None)

    def _save_customer(self, customer: Customer) -> None:
        self.store.state.write([("v1_customer", customer.customer_uid, asdict(customer))])

    def _save_schedules(self, *schedules: Schedule) -> None:
        self.store.state.write([("v1_schedule", s.merchant_uid, asdict(s)) for s in schedules])

    # ------------------------------------------------------------------ views
    def customer_view(self, c: Customer) -> dict:
        """CustomerAnnotation (v1.openapi.yml), absent values null."""
        return {
            "customer_uid": c.customer_uid, "pg_provider": c.pg_provider, "pg_id": c.pg_id,
            "customer_id": c.customer_id, **cards.card_fields(c.card_number),
            "customer_name": c.customer_name, "customer_tel": c.customer_tel, "customer_email": c.customer_email,
            "customer_addr": c.customer_addr, "customer_postcode": c.customer_postcode,
            "inserted": c.inserted, "updated": c.updated,
        }

    def schedule_view(self, s: Schedule) -> dict:
        """ScheduleResultAnnotation; payment_status follows the payment (a refund makes it cancelled)."""
        payment_status = None
        if s.schedule_status == "executed":
            payment = self.store.get_v1(s.imp_uid) if s.imp_uid else None
            payment_status = payment.status if payment is not None else "failed"
        view = {k: getattr(s, k) for k in (
            "customer_uid", "merchant_uid", "imp_uid", "pg_provider", "pg_id", "customer_id", "schedule_at",
            "executed_at", "revoked_at", "amount", "currency", "name", *BUYER_FIELDS, "custom_data",
            "schedule_status", "fail_reason")}
        return {**view, "payment_status": payment_status, "promotion_id": None}

    def overlay(self, p: "Payment", view: dict) -> dict:
        """Store.v1_view hook: a payment made with (or issuing) a key shows its customer_uid."""
        link = self.links.get(p.imp_uid) if p.imp_uid else None
        if link is not None:
            view.update(link)
        return view

    def _link(self, payment: "Payment", customer: Customer | None, customer_uid: str | None, usage: str | None,
              channel: str) -> None:
        link: dict[str, Any] = {"customer_uid": customer_uid, "customer_uid_usage": usage, "channel": channel}
        if customer is not None:
            link.update(cards.card_fields(customer.card_number), pg_id=customer.pg_id)
        self.links[payment.imp_uid] = link
        self.store.state.write([("v1_billing_payment", payment.imp_uid, link)])

    # ------------------------------------------------------------------ keys
    def customer(self, customer_uid: str) -> Customer | None:
        return self.customers.get(customer_uid)

    def issue(self, customer_uid: str, *, masked: str | None, decline: bool, pg: str | None = None,
              info: dict[str, Any] | None = None) -> Customer:
        """Bind customer_uid to a new key. Reusing a customer_uid rebinds it to the newest card
        (non-auth.md "danger": the old key is not revoked at the PG; here it is simply gone)."""
        now = int(self.store.now())
        provider, _, mid = (pg or self.store.config.pg).partition(".")
        old = self.customers.get(customer_uid)
        customer = Customer(customer_uid=customer_uid, pg_provider=provider, pg_id=mid or cards.BILLING_PG_ID,
                            card_number=masked, inserted=old.inserted if old else now, updated=now, decline=decline)
        for key, value in (info or {}).items():
            if key in {f.name for f in fields(Customer)} and value is not None:
                setattr(customer, key, value)
        self.customers[customer_uid] = customer
        self._save_customer(customer)
        return customer

    def delete(self, customer_uid: str) -> Customer | None:
        """Schedules stay: PortOne tells merchants to revoke them first; left alone they fail."""
        customer = self.customers.pop(customer_uid, None)
        if customer is not None:
            self.store.state.write(deletes=[("v1_customer", customer_uid)])
        return customer

    def payments_of(self, customer_uid: str) -> list["Payment"]:
        found = [self.store.get_v1(imp) for imp, link in self.links.items() if link["customer_uid"] == customer_uid]
        return [p for p in found if p is not None]

    # ------------------------------------------------------------------ charges
    def merchant_uid_taken(self, merchant_uid: str) -> bool:
        """A merchant_uid already paid (or cancelled), or held by a live schedule."""
        if any(p.status in ("paid", "cancelled") for p in self.store.v1_by_merchant_uid(merchant_uid)):
            return True
        s = self.schedules.get(merchant_uid)
        return s is not None and s.schedule_status != "revoked"

    async def charge(self, customer: Customer, *, merchant_uid: str, amount: int, usage: str | None,
                     webhook: bool = True, channel: str = "api", **details: Any) -> "Payment":
        """One card approval with the key; a declining key leaves a failed payment (no webhook)."""
        for field in BUYER_FIELDS[:3]:  # the key's holder stands in for a missing buyer
            details[field] = details.get(field) or getattr(customer, "customer_" + field[6:])
        details.pop("buyer_addr", None), details.pop("buyer_postcode", None)
        payment = await self.store.create_payment(
            amount=amount, merchant_uid=merchant_uid, version="v1", pay_method="card", pg=customer.pg_provider,
            outcome="failed" if customer.decline else "paid",
            fail_reason=cards.DECLINE_REASON if customer.decline else None, webhook=webhook, **details)
        self._link(payment, customer, customer.customer_uid, usage, channel)
        return payment

    async def issue_record(self, customer: Customer, *, merchant_uid: str | None, ok: bool, channel: str,
                           fail_reason: str | None = None, **details: Any) -> "Payment":
        """The 0-won payment record a window issuance leaves (its imp_uid is what the SDK answers
        with). Store.create_payment takes positive amounts only, hence built here."""
        from .store import Payment  # local import: store imports this module

        store = self.store
        async with store.lock:
            now = store.now()
            store._seq += 1
            p = Payment(version="v1", amount=0, status="ready", pay_method="card", pg_provider=customer.pg_provider,
                        seq=store._seq, imp_uid=store._new_imp_uid(), started_at=now, updated_at=now,
                        status_changed_at=now, **details)
            p.merchant_uid = merchant_uid or f"issue_{int(now * 1000)}_{p.seq}"
            if ok:
                p.pg_tid = store._new_pg_tid()
                store._mark_paid(p, now)
            else:
                p.status, p.failed_at, p.fail_reason = "failed", now, fail_reason
            store._put(p)
            store._save(p)
        self._link(p, customer, customer.customer_uid, "issue", channel)
        return p

    # ------------------------------------------------------------------ schedules
    def add_schedules(self, customer: Customer, items: list[dict[str, Any]]) -> list[Schedule]:
        """Caller validated the items (all or nothing)."""
        added = []
        for item in items:
            self._seq += 1
            s = Schedule(customer_uid=customer.customer_uid, seq=self._seq, customer_id=customer.customer_id,
                         pg_provider=customer.pg_provider, pg_id=customer.pg_id, **item)
            for field in BUYER_FIELDS:
                if getattr(s, field) is None:
                    setattr(s, field, getattr(customer, "customer_" + field[6:]))
            self.schedules[s.merchant_uid] = s
            added.append(s)
        self._save_schedules(*added)
        self._refresh()
        self.kick()
        return added

    def revoke(self, schedules: list[Schedule]) -> None:
        now = int(self.store.now())
        for s in schedules:
            s.schedule_status, s.revoked_at = "revoked", now
        self._save_schedules(*schedules)
        self._refresh()

    def _is_due(self) -> bool:
        return self._next_at is not None and self._next_at <= self.store.now()

    def _due(self) -> list[Schedule]:
        now = self.store.now()
        due = [s for s in self.schedules.values() if s.schedule_status == "scheduled" and s.schedule_at <= now]
        return sorted(due, key=lambda s: (s.schedule_at, s.seq))

    def _run_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def run_due(self) -> int:
        """Charge every schedule whose time has come, oldest first; returns how many ran."""
        ran = 0
        if not self._is_due():
            return ran
        async with self._run_lock():
            try:
                for s in self._due():
                    if s.schedule_status == "scheduled":
                        await self._execute(s)
                        ran += 1
            finally:
                self._refresh()
        return ran

    async def _execute(self, s: Schedule) -> None:
        s.schedule_status, s.executed_at = "executed", int(self.store.now())
        details = {"name": s.name, "notice_url": s.notice_url, "custom_data": s.custom_data,
                   **{f: getattr(s, f) for f in BUYER_FIELDS}}
        customer = self.customers.get(s.customer_uid)
        if customer is None:  # the key was deleted while the schedule waited
            details.pop("buyer_addr"), details.pop("buyer_postcode")
            payment = await self.store.create_payment(
                amount=s.amount, merchant_uid=s.merchant_uid, version="v1", outcome="failed",
                fail_reason=cards.UNKNOWN_CUSTOMER, webhook=False, **details)
            self._link(payment, None, s.customer_uid, "payment.scheduled", "api")
        else:
            payment = await self.charge(customer, merchant_uid=s.merchant_uid, amount=s.amount,
                                        usage="payment.scheduled", webhook=False, **details)
        s.imp_uid, s.fail_reason = payment.imp_uid, payment.fail_reason
        self._save_schedules(s)
        # V1 reports a scheduled attempt either way (docs/v1-webhook.md); webhooks.py maps the event.
        self.store.webhooks.emit(payment, "paid" if payment.status == "paid" else "schedule_failed", None)

    # ------------------------------------------------------------------ the clock
    def kick(self) -> None:
        """On every request (get_store): run what is due now and keep a tick going while schedules wait."""
        if self._closed or self._next_at is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._ticker is None or self._ticker.done() or self._ticker.get_loop() is not loop:
            self._ticker = loop.create_task(self._tick())
        if self._is_due() and (self._run is None or self._run.done()):
            self._run = loop.create_task(self._run_logged())

    async def _run_logged(self) -> None:
        try:
            await self.run_due()
        except Exception:  # a tick must never die silently halfway: log and let the next one retry
            log.exception("sandbox: running due V1 payment schedules failed")

    async def _tick(self) -> None:
        while not self._closed and self._next_at is not None:
            await asyncio.sleep(TICK_S)
            if self._is_due():
                await self._run_logged()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._ticker, self._run) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        current = asyncio.get_running_loop()
        await asyncio.gather(*(t for t in tasks if t.get_loop() is current), return_exceptions=True)
