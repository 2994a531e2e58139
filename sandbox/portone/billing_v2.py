"""PortOne V2 billing keys in the emulator: the keys, what a charge with one leaves behind, and the
`BillingKey.*` webhooks (v2.openapi.yml: issueBillingKey, getBillingKeyInfo, deleteBillingKey,
payWithBillingKey; docs/v2-webhook.md).

`store.billing_v2` (a `BillingV2`) owns the keys, the payment schedules (whose rules live in
schedules_v2.py) and, per paymentId, what a key-paid payment shows beyond a plain V2 payment
(`billingKey`, `scheduleId`, the customer id, the PG's decline code). Every change is written through
to the state file under its own kinds, so keys and schedules survive a restart like payments do.
Request bodies are read in billing_v2_input.py, the routes are billing_v2_api.py.

A key issued with `decline` (the control API's `decline: true`, or the checkout's 한도초과 button)
stands for a card that registers fine but is refused on every charge: PortOne's help pages warn
that issuing proves only that the card exists.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .http import BadRequest, as_str

if TYPE_CHECKING:  # pragma: no cover
    from .schedules_v2 import Schedule
    from .store import Payment, Store


# ISO 8583 response codes the card networks use, as a PG passes them on: 51 = over the limit /
# insufficient funds, 54 = expired card.
DECLINE_PG_CODE, DECLINE_MESSAGE = "51", "한도초과"
EXPIRED_PG_CODE, EXPIRED_MESSAGE = "54", "유효기간이 만료된 카드입니다."
PENDING_SCHEDULE = ("SCHEDULED", "STARTED")
KEY_KIND, SCHEDULE_KIND, PAYMENT_KIND = "billing_key_v2", "payment_schedule_v2", "billing_payment_v2"


class V2Error(Exception):
    """A V2 business error: HTTP status, the spec's `type`, a message and extra fields (pgCode…)."""

    def __init__(self, status: int, type_: str, message: str, **extra: str):
        super().__init__(message)
        self.status, self.type, self.message, self.extra = status, type_, message, extra

    def body(self) -> dict:
        return {"type": self.type, "message": self.message, **self.extra}


@dataclass
class BillingKey:
    billing_key: str
    customer: dict  # a V2 `Customer` object
    card_number: str  # masked, as PortOne shows it
    requested_at: float
    issued_at: float
    status: str = "ISSUED"  # ISSUED | DELETED
    deleted_at: float = 0.0
    custom_data: str | None = None
    issue_id: str | None = None
    issue_name: str | None = None
    notice_url: str | None = None
    decline: bool = False


class BillingV2:
    def __init__(self, store: "Store"):
        self.store = store
        self.keys: dict[str, BillingKey] = {}
        self.schedules: dict[str, "Schedule"] = {}
        self.payment_extras: dict[str, dict] = {}  # paymentId -> fields a key-paid payment adds
        self._ticker: asyncio.Task | None = None
        self.maybe_waiting = True  # False once a scan found no SCHEDULED schedule: get_store stays O(1)

    # ------------------------------------------------------------------ durability
    def restore(self, rows: dict[str, dict[str, Any]]) -> None:
        from .schedules_v2 import Schedule, recover_started

        self.keys = {k: BillingKey(**data) for k, data in rows.get(KEY_KIND, {}).items()}
        self.schedules = {k: Schedule(**data) for k, data in rows.get(SCHEDULE_KIND, {}).items()}
        self.payment_extras = dict(rows.get(PAYMENT_KIND, {}))
        recover_started(self)

    def save_key(self, key: BillingKey) -> None:
        self.store.state.write([(KEY_KIND, key.billing_key, asdict(key))])

    def save_schedules(self, *schedules: "Schedule") -> None:
        self.store.state.write([(SCHEDULE_KIND, s.id, asdict(s)) for s in schedules])

    # ------------------------------------------------------------------ checks shared by the routes
    def check_store(self, store_id: Any) -> None:
        if as_str(store_id, "storeId") not in (None, self.store.config.store_id):
            raise V2Error(403, "FORBIDDEN", "요청이 거절되었습니다. (storeId 불일치)")

    def check_channel(self, channel_key: Any) -> None:
        if as_str(channel_key, "channelKey") not in (None, self.store.config.channel_key):
            raise V2Error(404, "CHANNEL_NOT_FOUND", "요청된 채널이 존재하지 않습니다.")

    def usable_key(self, billing_key: str) -> BillingKey:
        key = self.keys.get(billing_key)
        if key is None:
            raise V2Error(404, "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다.")
        if key.status == "DELETED":
            raise V2Error(409, "BILLING_KEY_ALREADY_DELETED", "빌링키가 이미 삭제되었습니다.")
        return key

    # ------------------------------------------------------------------ keys
    def issue(self, *, customer: dict, card_number: str = "", custom_data: str | None = None,
              issue_id: str | None = None, issue_name: str | None = None, notice_url: str | None = None,
              decline: bool = False, webhook: bool = True) -> BillingKey:
        from .store import _CARD

        now = self.store.now()
        key = BillingKey(billing_key=f"billing-key-{uuid.uuid4()}", customer=customer,
                         card_number=card_number or _CARD["card_number"], requested_at=now, issued_at=now,
                         custom_data=custom_data, issue_id=issue_id, issue_name=issue_name,
                         notice_url=notice_url, decline=decline)
        self.keys[key.billing_key] = key
        self.save_key(key)
        if webhook:
            self.emit_key_event(key, "BillingKey.Issued")
        return key

    def delete(self, billing_key: str, *, webhook: bool = True) -> BillingKey:
        key = self.usable_key(billing_key)
        if any(s.billing_key == billing_key and s.status in PENDING_SCHEDULE for s in self.schedules.values()):
            raise V2Error(409, "PAYMENT_SCHEDULE_ALREADY_EXISTS",
                          "결제 예약건이 존재하는 빌링키는 삭제할 수 없습니다. 예약을 먼저 취소해주세요.")
        key.status, key.deleted_at = "DELETED", self.store.now()
        self.save_key(key)
        if webhook:
            self.emit_key_event(key, "BillingKey.Deleted")
        return key

    # ------------------------------------------------------------------ charging
    async def charge(self, payment_id: str, inp: dict, key: BillingKey, schedule_id: str | None = None) -> "Payment":
        """Charge `key` now under `payment_id`: a PAID payment, or a FAILED one when the card declines.
        Raises SandboxError("already_paid") when the paymentId is already paid."""
        customer = inp["customer"]
        payment = await self.store.create_payment(
            amount=inp["total"], payment_id=payment_id, version="v2",
            outcome="failed" if key.decline else "paid", fail_reason=DECLINE_MESSAGE if key.decline else None,
            name=inp["orderName"], buyer_name=customer.get("name"), buyer_email=customer.get("email"),
            buyer_tel=customer.get("phoneNumber"), notice_url=(inp["noticeUrls"] or [None])[0],
            custom_data=inp["customData"], webhook=False,
        )
        extra: dict[str, Any] = {"billingKey": key.billing_key}
        if schedule_id is not None:
            extra["scheduleId"] = schedule_id
        if customer.get("id"):
            extra["customerId"] = customer["id"]
        if payment.status == "failed" and key.decline:
            extra["pgCode"] = DECLINE_PG_CODE
        self.payment_extras[payment_id] = extra
        self.store.state.write([(PAYMENT_KIND, payment_id, extra)])
        if not inp["skipWebhook"]:
            self.store.webhooks.emit(payment, "paid" if payment.status == "paid" else "failed", None)
        return payment

    # ------------------------------------------------------------------ views
    def decorate(self, payment: "Payment", body: dict) -> None:
        """Add to a V2 payment view what a billing-key payment shows (PaidPayment.billingKey…)."""
        extra = self.payment_extras.get(payment.payment_id or "")
        if not extra:
            return
        body["billingKey"] = extra["billingKey"]
        if "scheduleId" in extra:
            body["scheduleId"] = extra["scheduleId"]
        if "customerId" in extra:
            body["customer"]["id"] = extra["customerId"]
        if "failure" in body and "pgCode" in extra:
            body["failure"]["pgCode"] = extra["pgCode"]
        key = self.keys.get(extra["billingKey"])
        card = body.get("method", {}).get("card")
        if key is not None and card is not None:  # the card the key stands for, not the checkout's
            card["number"], card["bin"] = key.card_number, key.card_number[:6]

    def merchant_id(self) -> str:
        return "merchant-" + self.store.config.store_id.removeprefix("store-")

    def channel(self) -> dict:
        cfg = self.store.config
        return {"type": "TEST", "id": "channel-id-" + cfg.channel_key.removeprefix("channel-key-"),
                "key": cfg.channel_key, "name": "sandbox", "pgProvider": cfg.pg.upper(), "pgMerchantId": "INIpayTest"}

    def key_view(self, key: BillingKey) -> dict:
        """`IssuedBillingKeyInfo` / `DeletedBillingKeyInfo`."""
        from .store import _CARD, iso

        body: dict[str, Any] = {
            "status": key.status, "billingKey": key.billing_key, "merchantId": self.merchant_id(),
            "storeId": self.store.config.store_id,
            "methods": [{"type": "BillingKeyPaymentMethodCard", "card": {
                "publisher": _CARD["card_code"], "issuer": _CARD["card_code"], "brand": _CARD["brand"],
                "type": "CREDIT", "ownerType": "PERSONAL", "bin": key.card_number[:6], "name": _CARD["card_name"],
                "number": key.card_number}}],
            "channels": [self.channel()], "customer": dict(key.customer),
            "requestedAt": iso(key.requested_at), "issuedAt": iso(key.issued_at),
        }
        for name, value in (("customData", key.custom_data), ("issueId", key.issue_id), ("issueName", key.issue_name)):
            if value is not None:
                body[name] = value
        if key.status == "DELETED":
            body["deletedAt"] = iso(key.deleted_at)
        return body

    # ------------------------------------------------------------------ webhooks and the schedule runner
    def emit_key_event(self, key: BillingKey, wtype: str) -> None:
        """`BillingKey.Issued` / `BillingKey.Deleted`: {type, timestamp, data{storeId, billingKey}},
        signed and retried like the Transaction.* webhooks (the dispatcher sends any V2 record)."""
        from .store import iso

        cfg, store = self.store.config, self.store
        body = json.dumps({"type": wtype, "timestamp": iso(store.now()),
                           "data": {"storeId": cfg.store_id, "billingKey": key.billing_key}},
                          ensure_ascii=False, separators=(",", ":"))
        faults, rng = store.faults, store.rng
        copies = 2 if faults.webhook_duplicate and rng.random() < faults.webhook_duplicate else 1
        dropped = bool(faults.webhook_drop_rate) and rng.random() < faults.webhook_drop_rate
        msg_id = "msg_" + uuid.uuid4().hex
        for copy in range(copies):
            record = {
                "id": len(store.webhooks.log) + 1, "version": "v2", "event": wtype, "imp_uid": None,
                "merchant_uid": None, "payment_id": None, "billing_key": key.billing_key,
                "url": key.notice_url or cfg.v2_webhook_url, "content_type": "application/json", "body": body,
                "webhook_id": msg_id, "headers": {}, "attempts": [], "response_status": None,
                "status": "pending", "duplicate": copy > 0, "created_at": store.now(),
            }
            store.webhooks._queue(record, dropped=dropped)

    def resume(self) -> None:
        """Start the runner of due schedules if any wait (needs a running loop; cheap otherwise)."""
        if not self.maybe_waiting or (self._ticker is not None and not self._ticker.done()):
            return
        if not any(s.status == "SCHEDULED" for s in self.schedules.values()):
            self.maybe_waiting = False
            return
        from .schedules_v2 import tick

        self._ticker = asyncio.get_running_loop().create_task(tick(self))

    def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()


async def issue_billing_key_v2(store: "Store", body: dict) -> dict:
    """The "v2" branch of POST /_control/billing-keys: a key as the browser checkout would issue it,
    under `customer_id`; `decline: true` makes every charge with it fail (한도초과)."""
    unknown = set(body) - {"version", "customer_id", "decline"}
    if unknown:
        raise BadRequest(f"unknown fields for v2: {', '.join(sorted(unknown))}")
    customer_id = as_str(body.get("customer_id"), "customer_id")
    decline = body.get("decline", False)
    if not isinstance(decline, bool):
        raise BadRequest("decline must be a boolean")
    key = store.billing_v2.issue(customer={"id": customer_id} if customer_id else {}, decline=decline)
    return {"version": "v2", "billing_key": key.billing_key, "customer_id": customer_id, "decline": decline,
            "billing_key_info": store.billing_v2.key_view(key)}
