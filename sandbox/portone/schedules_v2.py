"""PortOne V2 payment schedules in the emulator (v2.openapi.yml: createPaymentSchedule,
getPaymentSchedule, getPaymentSchedules, revokePaymentSchedules; docs/v2-billing-schedule.md).

A schedule is a billing-key charge PortOne makes for the merchant at `timeToPay`, on the sandbox
clock (POST /_control/clock moves it; the clock endpoint and a background runner both call
`run_due`). A run marks the schedule STARTED (written through first, so a process stopped mid-run
is recovered at the next start), charges the key like POST /payments/{id}/billing-key and ends
SUCCEEDED or FAILED, sending `Transaction.Paid` / `Transaction.Failed` for the schedule's paymentId.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .billing_v2 import PENDING_SCHEDULE, V2Error

if TYPE_CHECKING:  # pragma: no cover
    from .billing_v2 import BillingV2

log = logging.getLogger("sandbox")

STATUSES = ("SCHEDULED", "STARTED", "SUCCEEDED", "FAILED", "REVOKED", "PENDING")
SORT_BY = ("CREATED_AT", "TIME_TO_PAY", "COMPLETED_AT", "STATUS_TIMESTAMP")
NINETY_DAYS_S = 90 * 86400
TICK_S = 1.0  # how soon the runner notices a clock moved without /_control/clock (a restored file)


@dataclass
class Schedule:
    id: str
    payment_id: str
    billing_key: str
    payment: dict  # the normalised BillingKeyPaymentInput (billing_v2_input.parse_payment)
    time_to_pay: float
    created_at: float
    status: str = "SCHEDULED"
    started_at: float = 0.0
    completed_at: float = 0.0
    revoked_at: float = 0.0


def create(bv2: "BillingV2", payment_id: str, inp: dict, time_to_pay: float) -> Schedule:
    key = bv2.usable_key(inp["billingKey"])
    now = bv2.store.now()
    if time_to_pay < now:
        raise V2Error(400, "INVALID_REQUEST", "결제 예정 시점(timeToPay)이 현재보다 과거입니다.")
    existing = bv2.store.get(payment_id)
    if existing is not None and (existing.version != "v2" or existing.status not in ("ready", "failed")
                                 or existing.vbank_issued):
        raise V2Error(409, "ALREADY_PAID_OR_WAITING", "결제가 이미 완료되었거나 대기중입니다.")
    if any(s.payment_id == payment_id and s.status in PENDING_SCHEDULE for s in bv2.schedules.values()):
        raise V2Error(409, "PAYMENT_SCHEDULE_ALREADY_EXISTS", "이 결제 건 아이디로 예약된 결제가 이미 존재합니다.")
    schedule = Schedule(id=str(uuid.uuid4()), payment_id=payment_id, billing_key=key.billing_key,
                        payment=inp, time_to_pay=time_to_pay, created_at=now)
    bv2.schedules[schedule.id] = schedule
    bv2.save_schedules(schedule)
    bv2.maybe_waiting = True
    bv2.resume()
    return schedule


def revoke(bv2: "BillingV2", billing_key: str | None, ids: list[str] | None) -> list[Schedule]:
    """All or nothing, as the spec says: one schedule that cannot be revoked fails the request."""
    if billing_key is None and not ids:
        raise V2Error(400, "INVALID_REQUEST", "billingKey, scheduleIds 중 하나 이상은 필수로 입력해야 합니다.")
    if billing_key is not None:
        bv2.usable_key(billing_key)
    if ids:
        chosen = []
        for sid in ids:
            schedule = bv2.schedules.get(sid)
            if schedule is None:
                raise V2Error(404, "PAYMENT_SCHEDULE_NOT_FOUND", f"결제 예약건이 존재하지 않습니다. ({sid})")
            if billing_key is not None and schedule.billing_key != billing_key:
                raise V2Error(400, "INVALID_REQUEST", f"결제 예약건 {sid}은(는) 입력된 빌링키로 예약되지 않았습니다.")
            chosen.append(schedule)
    else:
        chosen = [s for s in bv2.schedules.values() if s.billing_key == billing_key and s.status == "SCHEDULED"]
    for schedule in chosen:
        if schedule.status == "REVOKED":
            raise V2Error(409, "PAYMENT_SCHEDULE_ALREADY_REVOKED", f"이미 취소된 결제 예약건입니다. ({schedule.id})")
        if schedule.status != "SCHEDULED":
            raise V2Error(409, "PAYMENT_SCHEDULE_ALREADY_PROCESSED", f"이미 처리된 결제 예약건입니다. ({schedule.id})")
    now = bv2.store.now()
    for schedule in chosen:
        schedule.status, schedule.revoked_at = "REVOKED", now
    bv2.save_schedules(*chosen)
    return chosen


def listing(bv2: "BillingV2", flt: dict, sort: dict, frm: float, until: float) -> list[Schedule]:
    statuses = flt.get("status")
    if statuses is not None and (not isinstance(statuses, list) or any(s not in STATUSES for s in statuses)):
        raise V2Error(400, "INVALID_REQUEST", f"filter.status items must be among {', '.join(STATUSES)}")
    by, order = sort.get("by") or "TIME_TO_PAY", sort.get("order") or "DESC"
    if by not in SORT_BY or order not in ("ASC", "DESC"):
        raise V2Error(400, "INVALID_REQUEST", "invalid sort.by or sort.order")
    billing_key = flt.get("billingKey")
    items = [
        s for s in bv2.schedules.values()
        if frm <= s.time_to_pay <= until
        and (billing_key is None or s.billing_key == billing_key)
        and (statuses is None or s.status in statuses)
        and flt.get("isForTest") is not False  # every sandbox schedule is a test one
    ]

    def stamp(s: Schedule) -> float:
        if by == "CREATED_AT":
            return s.created_at
        if by == "COMPLETED_AT":
            return s.completed_at
        if by == "STATUS_TIMESTAMP":
            return s.revoked_at if s.status == "REVOKED" else (s.completed_at or s.time_to_pay)
        return s.time_to_pay

    items.sort(key=lambda s: (stamp(s), s.created_at, s.id), reverse=order == "DESC")
    return items


def view(bv2: "BillingV2", s: Schedule) -> dict:
    """`ScheduledPaymentSchedule`, `StartedPaymentSchedule`, … (the union on `status`)."""
    from .store import iso

    p = s.payment
    body: dict[str, Any] = {
        "status": s.status, "id": s.id, "merchantId": bv2.merchant_id(), "storeId": bv2.store.config.store_id,
        "paymentId": s.payment_id, "billingKey": s.billing_key, "orderName": p["orderName"],
        "isCulturalExpense": False, "isEscrow": False, "customer": dict(p["customer"]),
        "customData": p["customData"] or "", "totalAmount": p["total"], "taxFreeAmount": p["taxFree"],
        "vatAmount": p["vat"], "currency": p["currency"], "noticeUrls": list(p["noticeUrls"]),
        "products": list(p["products"]), "createdAt": iso(s.created_at), "timeToPay": iso(s.time_to_pay),
    }
    if p.get("installmentMonth") is not None:
        body["installmentMonth"] = p["installmentMonth"]
    if s.status in ("STARTED", "SUCCEEDED", "FAILED", "PENDING"):
        body["startedAt"] = iso(s.started_at)
    if s.status in ("SUCCEEDED", "FAILED", "PENDING"):
        body["completedAt"] = iso(s.completed_at)
    if s.status == "REVOKED":
        body["revokedAt"] = iso(s.revoked_at)
    return body


# ---------------------------------------------------------------------- running
async def run_due(bv2: "BillingV2") -> list[Schedule]:
    """Charge every SCHEDULED schedule whose timeToPay has come, oldest first."""
    from .store import SandboxError

    now = bv2.store.now()
    due = sorted((s for s in bv2.schedules.values() if s.status == "SCHEDULED" and s.time_to_pay <= now),
                 key=lambda s: (s.time_to_pay, s.created_at))
    for schedule in due:  # claimed before the first await: a second runner never picks them again
        schedule.status, schedule.started_at = "STARTED", now
    if due:
        bv2.save_schedules(*due)
    for schedule in due:
        key = bv2.keys[schedule.billing_key]
        try:
            payment = await bv2.charge(schedule.payment_id, schedule.payment, key, schedule_id=schedule.id)
            succeeded = payment.status == "paid"
        except SandboxError as exc:  # e.g. the paymentId was paid by hand after it was scheduled
            log.warning("sandbox: payment schedule %s could not run: %s", schedule.id, exc.message)
            succeeded = False
        schedule.status = "SUCCEEDED" if succeeded else "FAILED"
        schedule.completed_at = bv2.store.now()
        bv2.save_schedules(schedule)
    return due


async def tick(bv2: "BillingV2") -> None:
    """Run schedules as they fall due while any wait; stops when none is left or the store was reset."""
    while bv2.store.billing_v2 is bv2:
        waiting = [s.time_to_pay for s in bv2.schedules.values() if s.status == "SCHEDULED"]
        if not waiting:
            bv2.maybe_waiting = False
            return
        wait = min(waiting) - bv2.store.now()
        if wait > 0:
            await asyncio.sleep(min(wait, TICK_S))
            continue
        try:
            await run_due(bv2)
        except Exception:  # the runner must outlive one bad schedule
            log.exception("sandbox: payment schedule run failed")
            await asyncio.sleep(TICK_S)


def recover_started(bv2: "BillingV2") -> None:
    """At start: a schedule left STARTED by a stopped process ends as its payment ended, or runs again."""
    for schedule in bv2.schedules.values():
        if schedule.status != "STARTED":
            continue
        payment = bv2.store.get_v2(schedule.payment_id)
        extra = bv2.payment_extras.get(schedule.payment_id, {})
        if payment is not None and extra.get("scheduleId") == schedule.id and payment.status in ("paid", "failed"):
            schedule.status = "SUCCEEDED" if payment.status == "paid" else "FAILED"
            schedule.completed_at = payment.paid_at or payment.failed_at
        else:
            schedule.status = "SCHEDULED"
        bv2.save_schedules(schedule)
