"""Point charging: PortOne payments become points exactly once.

``sync_payment`` is the one idempotent function every path goes through — the GraphQL mutation
today; the webhook, the mobile redirect and reconciliation call it too. It takes what PortOne says
(never what a browser says), records it, binds the payment to its owner and credits the owner once.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services import ledger, payment_state as st
from services.db import RAW_INTEGRITY_ERRORS, Database, RawConnection, RawRollback
from services.errors import Code, DomainError
from services.faults import crash_point
from services.locks import lock_payment
from services.models import CancelRequest, Payment, PaymentEvent, PointTransaction, detached, new_id, utcnow
from services.portone.base import PaymentProvider, ProviderPayment

log = logging.getLogger("pointcharge.charging")

PAY_METHOD_LABELS = {
    "card": "신용카드",
    "vbank": "가상계좌",
    "trans": "실시간계좌이체",
    "phone": "휴대폰 소액결제",
    "kakaopay": "카카오페이",
    "naverpay": "네이버페이",
    "tosspay": "토스페이",
    "samsung": "삼성페이",
    "payco": "페이코",
}


@dataclass(frozen=True)
class ChargeConfig:
    packages: tuple[int, ...] | None  # None: any amount in [min_amount, max_amount]
    min_amount: int
    max_amount: int
    require_prepared_order: bool = False


class Outcome(StrEnum):
    CREDITED = "credited"
    ALREADY_CREDITED = "already_credited"
    PENDING = "pending"
    NOT_PAID = "not_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNCLAIMED = "unclaimed"
    FORBIDDEN = "forbidden"
    ALREADY_CLAIMED = "already_claimed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SyncResult:
    outcome: Outcome
    payment: Payment
    entry: PointTransaction | None = None  # the credit entry, when there is one


def _method_label(pay_method: str | None) -> str:
    return PAY_METHOD_LABELS.get(pay_method or "", pay_method or "결제")


def new_merchant_uid() -> str:
    # Sortable by time, unguessable, and within PortOne's merchant_uid limits.
    return f"pc_{int(time.time() * 1000):x}_{secrets.token_hex(6)}"


def _charge_key(payment_id: str) -> str:
    """The credit entry's unique key: one charge entry per payment, whatever path writes it."""
    return f"charge:{payment_id}"


def _charge_detail(remote: ProviderPayment) -> str:
    return f"{_method_label(remote.pay_method)} 충전"[:200]


def _snapshot(remote: ProviderPayment) -> str:
    return json.dumps(remote.raw, ensure_ascii=False, default=str)[:20_000]


def _lean_candidate(remote: ProviderPayment) -> bool:
    """What the lean path can credit: paid in full, in KRW, nothing cancelled, no virtual account."""
    return (
        remote.status == st.PAID
        and remote.currency == "KRW"
        and remote.amount > 0
        and remote.cancelled_amount == 0
        and remote.virtual_account is None
    )


# The lean path's statements (driver SQL: $n placeholders, see services.db.RawConnection).
_RECORDED = "SELECT 1 FROM payments WHERE imp_uid = $1 AND provider = $2"
# The payment row under this id, or our order under this merchant_uid: locked first (services/locks.py).
_LOCK_CANDIDATES = (
    "SELECT id, imp_uid, user_id, order_amount, status, credited_at, cancelled_amount, created_at"
    " FROM payments WHERE imp_uid = $1 OR (merchant_uid = $2 AND provider = $3) FOR UPDATE"
)
_PAYMENT_VALUES = (
    "imp_uid = $2, user_id = $3, amount = $4, cancelled_amount = 0, credited_amount = $4, currency = $5,"
    " pay_method = $6, pg_provider = $7, status = 'paid', snapshot = $8, credited_at = $9,"
    " paid_at = COALESCE(paid_at, $10), updated_at = $9"
)
_UPDATE_PAYMENT = f"UPDATE payments SET {_PAYMENT_VALUES} WHERE id = $1 AND credited_at IS NULL RETURNING id"
_INSERT_PAYMENT = (
    "INSERT INTO payments (id, imp_uid, user_id, amount, cancelled_amount, credited_amount, currency,"
    " pay_method, pg_provider, status, snapshot, credited_at, paid_at, updated_at, provider, merchant_uid,"
    " created_at) VALUES ($1, $2, $3, $4, 0, $4, $5, $6, $7, 'paid', $8, $9, $10, $9, $11, $12, $13)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_EVENT = (
    "INSERT INTO payment_events (id, payment_id, from_status, to_status, source, detail, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
_CREDIT_BALANCE = "UPDATE user_points SET amount = amount + $1, updated_at = $2 WHERE user_id = $3 RETURNING amount"
_INSERT_ENTRY = (
    "INSERT INTO point_transactions (id, user_id, payment_id, entry_key, status, amount, balance, imp_uid,"
    " detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)


class ChargeService:
    def __init__(
        self,
        db: Database,
        providers: PaymentProvider | list[PaymentProvider],
        config: ChargeConfig,
    ) -> None:
        self.db = db
        listed = providers if isinstance(providers, list) else [providers]
        # Several PortOne APIs may run side by side (a V1 → V2 migration): each payment row
        # remembers which one it came from.
        self.providers: dict[str, PaymentProvider] = {p.name: p for p in listed}
        self.default_provider = listed[0].name
        self.config = config

    @property
    def provider(self) -> PaymentProvider:
        return self.providers[self.default_provider]

    def provider_for(self, name: str | None) -> PaymentProvider:
        try:
            return self.providers[name or self.default_provider]
        except KeyError:
            raise DomainError(
                Code.BAD_USER_INPUT, "이 서버에서 사용하지 않는 PortOne API 버전입니다.", provider=name
            ) from None

    # --- prepared orders ---------------------------------------------------------------------

    def check_amount(self, amount: int) -> None:
        packages = self.config.packages
        if packages is not None:
            if amount not in packages:
                listed = ", ".join(f"{p:,}" for p in packages)
                raise DomainError(
                    Code.BAD_USER_INPUT, f"충전 금액은 다음 중 하나여야 합니다: {listed}원", field="amount"
                )
        elif not self.config.min_amount <= amount <= self.config.max_amount:
            raise DomainError(
                Code.BAD_USER_INPUT,
                f"충전 금액은 {self.config.min_amount:,}원 이상 {self.config.max_amount:,}원 이하여야 합니다.",
                field="amount",
            )

    async def prepare(self, user_id: str, amount: int, *, provider: str | None = None) -> Payment:
        self.check_amount(amount)
        portone = self.provider_for(provider)
        order = Payment(
            provider=portone.name,
            merchant_uid=new_merchant_uid(),
            user_id=user_id,
            order_amount=amount,
            status=st.PREPARED,
        )
        # The order exists before PortOne hears of it, so that a webhook arriving first (it can)
        # already finds its owner.
        async with self.db.transaction() as s:
            s.add(order)
            await s.flush()
            s.add(PaymentEvent(payment_id=order.id, to_status=st.PREPARED, source="prepare"))
        await portone.prepare(order.merchant_uid, amount)
        return order

    # --- claiming (the mutation) -------------------------------------------------------------

    async def claim(self, user_id: str, payment_key: str, *, provider: str | None = None) -> SyncResult:
        """A user says "I paid, here is the id". Raises the domain error for every non-credit."""
        portone = self.provider_for(provider)
        payment_key = payment_key.strip()
        if not payment_key or len(payment_key) > 100:
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        known = await self._known_credit(payment_key, portone.name)
        if known is not None:
            payment, entry = known
            if payment.user_id == user_id and entry is not None:
                # The same user retrying (double click, network retry): the original answer,
                # without asking PortOne again.
                return SyncResult(Outcome.ALREADY_CREDITED, payment, entry)
            if payment.user_id is not None and payment.user_id != user_id:
                raise self._ownership_error(payment)
        remote = await portone.get_payment(payment_key)
        # The duplicate check above is the one sync_payment would make again: skip it there.
        result = await self.sync_payment(remote, claimant=user_id, duplicate_check=False)
        return self._raise_unless_credited(result, remote)

    async def _known_credit(
        self, payment_key: str, provider: str
    ) -> tuple[Payment, PointTransaction | None] | None:
        # Most calls are for a payment we have never seen: one statement on the driver says so,
        # the ORM loads the rows only when there are some.
        async with self.db.raw() as raw:
            if not await raw.fetch(_RECORDED, payment_key, provider):
                return None
        async with self.db.session() as s:
            payment = (
                await s.execute(
                    select(Payment).where(Payment.imp_uid == payment_key, Payment.provider == provider)
                )
            ).scalar_one_or_none()
            if payment is None:
                return None
            entry = None
            if payment.credited_at is not None:
                entry = await self._credit_entry(s, payment.id)
            return payment, entry

    @staticmethod
    async def _credit_entry(s: AsyncSession, payment_id: str) -> PointTransaction | None:
        return (
            await s.execute(
                select(PointTransaction).where(PointTransaction.entry_key == _charge_key(payment_id))
            )
        ).scalar_one_or_none()

    @staticmethod
    def _ownership_error(payment: Payment) -> DomainError:
        if payment.order_amount is not None:
            return DomainError(Code.FORBIDDEN, "다른 사용자의 주문입니다.")
        return DomainError(Code.PAYMENT_ALREADY_CLAIMED)

    def _raise_unless_credited(self, result: SyncResult, remote: ProviderPayment) -> SyncResult:
        outcome = result.outcome
        if outcome in (Outcome.CREDITED, Outcome.ALREADY_CREDITED):
            return result
        if outcome is Outcome.PENDING:
            va = remote.virtual_account
            raise DomainError(
                Code.PAYMENT_PENDING,
                impUid=remote.payment_key,
                merchantUid=remote.merchant_uid,
                vbankName=va.bank_name if va else None,
                vbankNum=va.account_number if va else None,
                vbankHolder=va.holder if va else None,
                vbankDate=va.due_at.isoformat() if va and va.due_at else None,
                amount=remote.amount,
            )
        if outcome in (Outcome.FORBIDDEN, Outcome.ALREADY_CLAIMED):
            raise self._ownership_error(result.payment)
        if outcome is Outcome.AMOUNT_MISMATCH:
            raise DomainError(Code.AMOUNT_MISMATCH, impUid=remote.payment_key)
        if outcome is Outcome.CANCELLED and result.entry is not None:
            return result
        raise DomainError(Code.PAYMENT_NOT_PAID, status=remote.status)

    # --- the sync ----------------------------------------------------------------------------

    async def sync_payment(
        self,
        remote: ProviderPayment,
        *,
        claimant: str | None = None,
        source: str = "mutation",
        duplicate_check: bool = True,
    ) -> SyncResult:
        """Records what PortOne says and credits the owner once. Idempotent; safe to race.

        ``duplicate_check=False``: the caller (``claim``) has just read the row itself, and what it
        read leaves the fast path nothing to answer; a credit that landed since is found under the
        lock anyway."""
        if duplicate_check:
            unchanged = await self._unchanged_credit(remote, claimant)
            if unchanged is not None:
                return unchanged
        if _lean_candidate(remote):
            lean = await self._credit_lean(remote, claimant, source)
            if lean is not None:
                return lean
        for attempt in range(3):
            try:
                async with self.db.transaction() as s:
                    result = await self._apply(s, remote, claimant, source)
                    if result.outcome is Outcome.CREDITED:
                        crash_point("before_credit_commit")  # PortOne said paid; we have not committed
                break
            except IntegrityError:
                # Two first sightings of one payment raced on the unique keys; the loser retries
                # and finds the winner's row.
                if attempt == 2:
                    raise
        if result.outcome is Outcome.AMOUNT_MISMATCH:
            await self._refund_mismatch(remote)
        return result

    async def _unchanged_credit(self, remote: ProviderPayment, claimant: str | None) -> SyncResult | None:
        """The duplicate fast path: a payment already credited whose PortOne state has not moved
        needs no write. Read without a lock, so that a storm of duplicate webhooks, redirects and
        retries does not queue on the payment's row lock (each waiter holding a pooled connection:
        docs/RELIABILITY.md). Anything else — a change, a claim by someone else — takes the locked path."""
        known = await self._known_credit(remote.payment_key, remote.provider)
        if known is None:
            return None
        payment, entry = known
        if (
            entry is None
            or payment.user_id is None
            or (claimant is not None and claimant != payment.user_id)
            or payment.status != remote.status
            or payment.amount != remote.amount
            or payment.cancelled_amount != remote.cancelled_amount
            or payment.currency != remote.currency
        ):
            return None
        outcome = Outcome.CANCELLED if remote.status == st.CANCELLED else Outcome.ALREADY_CREDITED
        return SyncResult(outcome, payment, entry)

    async def sync_by_key(self, payment_key: str, *, source: str, provider: str | None = None) -> SyncResult:
        """Webhooks, redirects and reconciliation: fetch from PortOne (never trust the caller)."""
        remote = await self.provider_for(provider).get_payment(payment_key)
        return await self.sync_payment(remote, source=source)

    async def _credit_lean(self, remote: ProviderPayment, claimant: str | None, source: str) -> SyncResult | None:
        """The common first sighting — a payment we have not recorded, or our prepared order, now
        paid in full — credited in one transaction of five statements on the driver connection.

        It writes exactly the rows ``_apply`` writes for that case (the payment, its event, the
        balance, the ledger entry; tests/services/test_charging_lean.py compares them), takes the
        locks in the same order (payment row, then balance row), and hands over — rolled back,
        returning None — whenever anything is unusual or another sync got there first; the
        general path then decides. Exactly-once still rests on the unique keys and the
        ``credited_at IS NULL`` guard."""

        async def body(raw: RawConnection) -> SyncResult:
            # Only statements are awaited in here (on SQLite it runs in the driver's thread).
            result = await self._credit_lean_in(raw, remote, claimant, source)
            if result is None:
                raise RawRollback
            crash_point("before_credit_commit")
            return result

        try:
            result = await self.db.run_raw_transaction(body)
        except RAW_INTEGRITY_ERRORS:
            # A concurrent sync took a unique key first (rolled back): the general path sees its row.
            return None
        if result is not None:
            log.info("credited %s points to %s for %s", remote.amount, result.payment.user_id, remote.payment_key)
        return result

    async def _credit_lean_in(
        self, raw: RawConnection, remote: ProviderPayment, claimant: str | None, source: str
    ) -> SyncResult | None:
        key = remote.payment_key
        rows = await raw.fetch(_LOCK_CANDIDATES, key, remote.merchant_uid, remote.provider)
        now = utcnow()
        order_amount = None
        if not rows:
            # Nobody prepared it (the codecamp flow): the claimant owns it.
            if claimant is None or self.config.require_prepared_order:
                return None
            payment_id, owner, from_status, created_at = new_id(), claimant, st.PREPARED, now
        elif len(rows) == 1:
            payment_id, imp_uid, owner, order_amount, from_status, credited_at, cancelled, created = rows[0]
            # Our prepared order (its first attempt, or one that failed and is paid again).
            if (
                imp_uid == key
                or not (imp_uid is None or from_status in (st.PREPARED, st.FAILED))
                or owner is None
                or (claimant is not None and claimant != owner)
                or (order_amount is not None and order_amount != remote.amount)
                or credited_at is not None
                or cancelled != 0
            ):
                return None
            created_at = raw.read_time(created)
        else:
            return None

        stamp = raw.time(now)
        snapshot = _snapshot(remote)
        values = (
            payment_id, key, owner, remote.amount, remote.currency, remote.pay_method,
            remote.pg_provider, snapshot, stamp, raw.time(remote.paid_at),
        )  # fmt: skip
        if not rows:
            written = await raw.fetch(_INSERT_PAYMENT, *values, remote.provider, remote.merchant_uid, stamp)
        else:
            written = await raw.fetch(_UPDATE_PAYMENT, *values)
        if not written:
            return None  # a concurrent first sighting or credit won: the general path sees it
        await raw.fetch(
            _INSERT_EVENT, new_id(), payment_id, from_status, st.PAID, source, remote.fail_reason, stamp
        )
        balance = await raw.fetch(_CREDIT_BALANCE, remote.amount, stamp, owner)
        if not balance:
            return None  # no balance row: the general path reports it
        entry_id, entry_key, detail = new_id(), _charge_key(payment_id), _charge_detail(remote)
        await raw.fetch(
            _INSERT_ENTRY, entry_id, owner, payment_id, entry_key, ledger.CHARGE,
            remote.amount, balance[0][0], key, detail, stamp,
        )  # fmt: skip
        payment = detached(
            Payment,
            id=payment_id, provider=remote.provider, imp_uid=key, merchant_uid=remote.merchant_uid,
            user_id=owner, order_amount=order_amount, amount=remote.amount, cancelled_amount=0,
            credited_amount=remote.amount, currency=remote.currency, pay_method=remote.pay_method,
            pg_provider=remote.pg_provider, status=st.PAID, anomaly=None, snapshot=snapshot,
            credited_at=now, paid_at=remote.paid_at, created_at=created_at, updated_at=now,
        )  # fmt: skip
        entry = detached(
            PointTransaction,
            id=entry_id, user_id=owner, payment_id=payment_id, entry_key=entry_key, status=ledger.CHARGE,
            amount=remote.amount, balance=balance[0][0], imp_uid=key, detail=detail, created_at=now,
        )  # fmt: skip
        return SyncResult(Outcome.CREDITED, payment, entry)

    async def _apply(
        self, s: AsyncSession, remote: ProviderPayment, claimant: str | None, source: str
    ) -> SyncResult:
        payment = await self._upsert_and_lock(s, remote)

        forbidden = None
        if claimant is not None:
            if payment.user_id is None:
                if payment.order_amount is None and self.config.require_prepared_order:
                    raise DomainError(Code.FORBIDDEN, "사전 등록된 주문(preparePointCharge)만 충전할 수 있습니다.")
                payment.user_id = claimant
            elif payment.user_id != claimant:
                forbidden = Outcome.FORBIDDEN if payment.order_amount is not None else Outcome.ALREADY_CLAIMED

        self._record_remote(s, payment, remote, source)

        if forbidden is not None:
            return SyncResult(forbidden, payment)

        status = remote.status
        if status == st.PREPARED:  # V2: the payment window was opened, nothing more yet
            return SyncResult(Outcome.NOT_PAID, payment)
        if status == st.READY:
            return SyncResult(Outcome.PENDING, payment)
        if status == st.FAILED:
            return SyncResult(Outcome.NOT_PAID, payment)

        mismatch = remote.currency != "KRW" or (
            payment.order_amount is not None and remote.amount != payment.order_amount
        )
        if mismatch:
            if payment.credited_at is None:
                payment.anomaly = "amount_mismatch"
                if status in (st.PAID, st.PARTIALLY_CANCELLED):
                    return SyncResult(Outcome.AMOUNT_MISMATCH, payment)
                return SyncResult(Outcome.NOT_PAID, payment)

        if payment.user_id is None:
            return SyncResult(Outcome.UNCLAIMED, payment)

        entry: PointTransaction | None
        outcome: Outcome
        if payment.credited_at is None:
            if status == st.CANCELLED and payment.credited_amount == 0:
                # Cancelled before anyone credited it: nothing to give, nothing to take back.
                return SyncResult(Outcome.NOT_PAID, payment)
            entry = await self._credit(s, payment, remote)
            outcome = Outcome.CREDITED
        else:
            entry = await self._credit_entry(s, payment.id)
            outcome = Outcome.ALREADY_CREDITED

        await self._follow_cancellations(s, payment, remote)
        if status == st.CANCELLED and outcome is Outcome.ALREADY_CREDITED:
            outcome = Outcome.CANCELLED
        return SyncResult(outcome, payment, entry)

    async def _upsert_and_lock(self, s: AsyncSession, remote: ProviderPayment) -> Payment:
        key = remote.payment_key
        payment = await lock_payment(s, imp_uid=key)
        if payment is not None:
            return payment
        # First sighting. Our prepared order for this merchant_uid: attach the PortOne id to it (an
        # order whose earlier attempt failed may be paid again under the same merchant_uid with a
        # new imp_uid). UPDATE … RETURNING both locks the row and loads it.
        now = utcnow()
        payment = (
            await s.scalars(
                update(Payment)
                .where(
                    Payment.merchant_uid == remote.merchant_uid,
                    Payment.provider == remote.provider,
                    or_(Payment.imp_uid.is_(None), Payment.status.in_([st.PREPARED, st.FAILED])),
                )
                .values(imp_uid=key, updated_at=now)
                .returning(Payment),
                execution_options={"populate_existing": True},
            )
        ).one_or_none()
        if payment is not None:
            return payment
        # Nobody prepared it (the codecamp flow, or a payment made elsewhere): record it unowned.
        insert = pg_insert if s.bind.dialect.name == "postgresql" else sqlite_insert
        payment = (
            await s.scalars(
                insert(Payment)
                .values(
                    id=new_id(),
                    provider=remote.provider,
                    imp_uid=key,
                    merchant_uid=remote.merchant_uid,
                    status=st.PREPARED,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
                .returning(Payment),
                execution_options={"populate_existing": True},
            )
        ).one_or_none()
        if payment is not None:
            return payment
        # A concurrent first sighting won the race: wait for its row lock and take its row.
        payment = await lock_payment(s, imp_uid=key)
        if payment is None:
            log.error(
                "merchant_uid %s already belongs to another payment; %s not recorded",
                remote.merchant_uid,
                key,
            )
            raise DomainError(Code.CONFLICT, "같은 주문번호로 이미 다른 결제가 처리되었습니다.")
        return payment

    @staticmethod
    def _record_remote(s: AsyncSession, payment: Payment, remote: ProviderPayment, source: str) -> None:
        now = utcnow()
        if st.can_move(payment.status, remote.status):
            if payment.status != remote.status:
                s.add(
                    PaymentEvent(
                        payment_id=payment.id,
                        from_status=payment.status,
                        to_status=remote.status,
                        source=source,
                        detail=remote.fail_reason,
                        created_at=now,
                    )
                )
            payment.status = remote.status
        else:
            log.warning(
                "ignoring illegal transition %s -> %s for %s", payment.status, remote.status, remote.payment_key
            )
        payment.amount = remote.amount
        payment.currency = remote.currency
        payment.pay_method = remote.pay_method
        payment.pg_provider = remote.pg_provider
        if remote.paid_at and payment.paid_at is None:
            payment.paid_at = remote.paid_at
        if remote.virtual_account is not None:
            va = remote.virtual_account
            payment.vbank_name = va.bank_name
            payment.vbank_code = va.bank_code
            payment.vbank_num = va.account_number
            payment.vbank_holder = va.holder
            payment.vbank_due_at = va.due_at
        payment.snapshot = _snapshot(remote)
        payment.updated_at = now

    async def _credit(self, s: AsyncSession, payment: Payment, remote: ProviderPayment) -> PointTransaction:
        # Conditional on credited_at IS NULL: of two transactions racing past the checks above,
        # exactly one updates the row (PostgreSQL re-checks the predicate after the row lock).
        credited_at = utcnow()
        won = await s.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.credited_at.is_(None))
            .values(credited_at=credited_at, credited_amount=remote.amount)
        )
        if won.rowcount != 1:
            raise IntegrityError("credit raced", None, Exception("credited_at already set"))
        assert payment.user_id is not None
        entry = await ledger.append_entry(
            s,
            user_id=payment.user_id,
            amount=remote.amount,
            status=ledger.CHARGE,
            entry_key=_charge_key(payment.id),
            detail=_charge_detail(remote),
            payment_id=payment.id,
            imp_uid=remote.payment_key,
        )
        # Already in the row (the guard above wrote them): tell the ORM without writing them again.
        set_committed_value(payment, "credited_at", credited_at)
        set_committed_value(payment, "credited_amount", remote.amount)
        log.info("credited %s points to %s for %s", remote.amount, payment.user_id, remote.payment_key)
        return entry

    async def _follow_cancellations(self, s: AsyncSession, payment: Payment, remote: ProviderPayment) -> None:
        """Points follow cancellations made anywhere (our API, PortOne's console)."""
        already = payment.cancelled_amount
        if remote.cancelled_amount <= already or payment.credited_at is None:
            payment.cancelled_amount = max(already, remote.cancelled_amount)
            return
        delta = remote.cancelled_amount - already
        assert payment.user_id is not None
        # Our own cancel requests that this cancellation completes stop holding points now.
        resolved = await s.execute(
            update(CancelRequest)
            .where(
                CancelRequest.payment_id == payment.id,
                CancelRequest.status == "requested",
                CancelRequest.cancelled_after <= remote.cancelled_amount,
            )
            .values(status="succeeded", completed_at=utcnow())
        )
        ours = resolved.rowcount > 0
        # A cancel at PortOne has already refunded the money: the points go whatever the
        # balance. A negative balance (points spent, then cancelled in PortOne's console) is
        # recorded and flagged for an operator; spending is refused until it is settled.
        entry = await ledger.append_entry(
            s,
            user_id=payment.user_id,
            amount=-delta,
            status=ledger.CANCEL,
            entry_key=f"cancel:{payment.id}:{remote.cancelled_amount}",
            detail=f"{_method_label(remote.pay_method)} 결제 취소",
            payment_id=payment.id,
            imp_uid=remote.payment_key,
            allow_negative=True,
        )
        payment.cancelled_amount = remote.cancelled_amount
        payment.credited_amount -= delta
        if entry.balance < 0:
            payment.anomaly = "negative_balance"
            log.warning(
                "user %s balance is %s after a cancel of %s (%s): flagged for an operator",
                payment.user_id,
                entry.balance,
                remote.payment_key,
                "our request" if ours else "outside our API",
            )

    async def _refund_mismatch(self, remote: ProviderPayment) -> None:
        """The paid amount is not what the order said (tampered in the browser): give it back."""
        if remote.cancellable_amount <= 0:
            return
        try:
            cancelled = await self.provider_for(remote.provider).cancel(
                remote.payment_key,
                amount=remote.cancellable_amount,
                checksum=remote.cancellable_amount,
                reason="결제 금액 불일치(자동 취소)",
                request_id=f"mismatch-{remote.payment_key}",
            )
        except DomainError as exc:
            # Reconciliation finds payments with anomaly=amount_mismatch that are still paid.
            log.error("automatic refund of %s failed: %s", remote.payment_key, exc.message)
            return
        await self.sync_payment(cancelled, source="cancel")

    # --- reads -------------------------------------------------------------------------------

    async def get_orders(self, user_id: str, *, limit: int = 20) -> list[Payment]:
        async with self.db.session() as s:
            return list(
                (
                    await s.execute(
                        select(Payment)
                        .where(Payment.user_id == user_id)
                        .order_by(Payment.created_at.desc(), Payment.id.desc())
                        .limit(limit)
                    )
                ).scalars()
            )

