"""Point charging: payment attempts a gateway reports become points exactly once.

``ChargeService.sync_payment`` is the one idempotent function every path goes through — the
GraphQL mutation (``claim``), the webhook, the mobile redirect, reconciliation and cancels. It takes
what the gateway says (never what a browser says) and credits the owner once. Where the parts live:

- services/orders.py        orders (preparePointCharge) and the order list
- services/credit.py        the crediting rules: ownership, amount check, credit key, outcomes
- services/credit_lean.py   the common first sighting, five statements on the driver
- services/sync.py          the general path: record, bind, credit, follow cancellations
- this module               the entry points (claim, sync_payment, sync_by_key) and who takes which path

Policy (docs/PAYMENTS.md): every attempt a gateway reports paid is credited once to its order's
owner — a second attempt on one order too.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from services import auth, credit, credit_lean, orders, payment_state as st, sync
from services.credit import Outcome, SyncResult
from services.db import RAW_INTEGRITY_ERRORS, Database, RawConnection, RawRollback
from services.errors import Code, DomainError
from services.faults import crash_point
from services.models import Payment, PointTransaction
from services.orders import ChargeConfig, OrderView, new_order_key
from services.gateways.base import Gateway, GatewayPayment
from services.single_flight import SingleFlight

__all__ = ["ChargeConfig", "ChargeService", "Outcome", "SyncResult", "new_order_key"]

log = logging.getLogger("pointcharge.charging")

# A payment held for our confirm (Bootpay separately_confirmed) that we refuse is never captured.
NOT_CHARGED = "결제를 승인하지 않았으므로 청구되지 않습니다."
NOT_CONFIRMED = f"결제 금액이 주문 금액과 다릅니다. {NOT_CHARGED}"

# The mutation's first statement: is the caller's login alive ($1, $2: services.auth's check), and
# has this payment been recorded ($3, $4)? One pooled connection and one round trip for both,
# on every charge, before the gateway is asked anything.
_LIVE_AND_RECORDED = (
    f"SELECT {auth.LOGIN_ALIVE_EXISTS},"
    " EXISTS (SELECT 1 FROM payments WHERE payment_key = $3 AND provider = $4)"
)


class ChargeService:
    def __init__(
        self,
        db: Database,
        providers: Gateway | list[Gateway],
        config: ChargeConfig,
    ) -> None:
        self.db = db
        listed = providers if isinstance(providers, list) else [providers]
        # Several gateways may run side by side (PortOne V1 and V2 during a migration, say): each
        # payment row remembers which one it came from, and its id is unique only within that one.
        self.providers: dict[str, Gateway] = {p.name: p for p in listed}
        self.default_provider = listed[0].name
        self.config = config
        self._confirms: SingleFlight[GatewayPayment] = SingleFlight()

    @property
    def provider(self) -> Gateway:
        return self.providers[self.default_provider]

    def provider_for(self, name: str | None) -> Gateway:
        try:
            return self.providers[name or self.default_provider]
        except KeyError:
            if name is not None and not name.startswith("portone"):
                raise DomainError(Code.GATEWAY_DISABLED, gateway=name) from None
            raise DomainError(
                Code.BAD_USER_INPUT, "이 서버에서 사용하지 않는 PortOne API 버전입니다.", provider=name
            ) from None

    # --- orders ------------------------------------------------------------------------------

    def check_amount(self, amount: int) -> None:
        orders.check_amount(self.config, amount)

    async def prepare(self, user_id: str, amount: int, *, provider: str | None = None) -> OrderView:
        self.check_amount(amount)
        return await orders.create_order(self.db, self.provider_for(provider), user_id, amount)

    async def get_orders(self, user_id: str, *, limit: int = 20) -> list[Payment | OrderView]:
        return await orders.list_orders(self.db, user_id, limit=limit)

    # --- claiming (the mutation) -------------------------------------------------------------

    async def claim(
        self,
        user_id: str,
        payment_key: str,
        *,
        provider: str | None = None,
        login: tuple[str, str] | None = None,
    ) -> SyncResult:
        """A user says "I paid, here is the id". Raises the domain error for every non-credit.

        ``login``: the caller's login to check for revocation (services.auth.login_to_check) in
        the same statement as the duplicate pre-check; a revoked one is refused before anything is
        read or the gateway is asked. Only a malformed id is answered before it (nothing is read)."""
        gateway = self.provider_for(provider)
        payment_key = payment_key.strip()
        if not payment_key or len(payment_key) > 100:
            raise DomainError(Code.PAYMENT_NOT_FOUND)
        known = await self._known_credit(payment_key, gateway.name, login=login)
        if known is not None:
            payment, entry = known
            if payment.user_id == user_id and entry is not None:
                # The same user retrying (double click, network retry): the original answer,
                # without asking the gateway again.
                return SyncResult(Outcome.ALREADY_CREDITED, payment, entry)
            if payment.user_id is not None and payment.user_id != user_id:
                raise credit.ownership_error(payment.order_amount)
        remote = await gateway.get_payment(payment_key)
        # The duplicate check above is the one sync_payment would make again: skip it there.
        result = await self.sync_payment(remote, claimant=user_id, duplicate_check=False)
        if result.outcome is Outcome.AUTHORIZED:
            remote, result = await self.confirm_authorized(remote, claimant=user_id, source="mutation")
        return self._raise_unless_credited(result, remote)

    async def confirm_authorized(
        self, remote: GatewayPayment, *, claimant: str | None, source: str
    ) -> tuple[GatewayPayment, SyncResult]:
        """Captures a payment the gateway holds for our confirm (Bootpay ``separately_confirmed``),
        once ``sync_payment`` has recorded it and answered AUTHORIZED: amount = its order's, owner
        bound, both checked under the row lock. A mismatching payment never gets here, so it is
        never captured. The confirm is a network call, made outside any transaction; two claims
        racing both send it, the gateway captures once and answers the second with a refusal (the
        client then re-reads the payment), and the credit of the confirmed answer is the usual
        exactly-once one."""
        key = (remote.provider, remote.payment_key)
        confirmed = await self._confirms.run(key, lambda: self._confirm_once(remote, source))
        return confirmed, await self.sync_payment(confirmed, claimant=claimant, source=source)

    async def _confirm_once(self, remote: GatewayPayment, source: str) -> GatewayPayment:
        """One confirm for all of this process's concurrent callers (``SingleFlight``), its answer
        credited before the next caller looks. A caller whose check passed just before another's
        confirm was credited finds the credit and only re-reads the payment: no second confirm."""
        gateway = self.provider_for(remote.provider)
        confirm = getattr(gateway, "confirm", None)
        if confirm is None:  # pragma: no cover - only gateways that hold payments report AUTHORIZED
            raise DomainError(Code.PAYMENT_NOT_PAID, status=remote.status)
        known = await self._known_credit(remote.payment_key, remote.provider)
        if known is not None and known[1] is not None:
            return await gateway.get_payment(remote.payment_key)
        confirmed = await confirm(remote.payment_key)
        await self.sync_payment(confirmed, source=source)
        return confirmed

    async def _known_credit(
        self, payment_key: str, provider: str, *, login: tuple[str, str] | None = None
    ) -> tuple[Payment, PointTransaction | None] | None:
        # One driver statement reads the attempt and its credit entry, or finds none (most calls:
        # a payment we have never seen). A claim asks first, with its login check, whether there is
        # a row to read.
        async with self.db.raw() as raw:
            if login is not None:
                alive, recorded = (await raw.fetch(_LIVE_AND_RECORDED, *login, payment_key, provider))[0]
                if not alive:
                    raise auth.login_revoked()
                if not recorded:
                    return None
            return await credit_lean.load_recorded(raw, payment_key, provider)

    def _raise_unless_credited(self, result: SyncResult, remote: GatewayPayment) -> SyncResult:
        outcome = result.outcome
        if outcome in (Outcome.CREDITED, Outcome.ALREADY_CREDITED):
            return result
        if outcome is Outcome.PENDING:
            va = remote.virtual_account
            raise DomainError(
                Code.PAYMENT_PENDING,
                impUid=remote.payment_key,
                merchantUid=remote.order_key,
                vbankName=va.bank_name if va else None,
                vbankNum=va.account_number if va else None,
                vbankHolder=va.holder if va else None,
                vbankDate=va.due_at.isoformat() if va and va.due_at else None,
                amount=remote.amount,
            )
        if outcome in (Outcome.FORBIDDEN, Outcome.ALREADY_CLAIMED):
            raise credit.ownership_error(result.payment.order_amount)
        if outcome is Outcome.AMOUNT_MISMATCH and remote.status == st.AUTHORIZED:
            # charged: false tells clients that nothing was captured (not "refunded automatically").
            raise DomainError(Code.AMOUNT_MISMATCH, NOT_CONFIRMED, impUid=remote.payment_key, charged=False)
        if outcome is Outcome.AMOUNT_MISMATCH:
            raise DomainError(Code.AMOUNT_MISMATCH, impUid=remote.payment_key)
        if outcome is Outcome.BALANCE_LIMIT:
            undone = NOT_CHARGED if remote.status == st.AUTHORIZED else "결제는 자동으로 취소됩니다."
            raise DomainError(
                Code.BALANCE_LIMIT_EXCEEDED,
                f"보유 포인트 한도({self.config.balance_max:,}P)를 넘어 충전할 수 없습니다. {undone}",
                impUid=remote.payment_key,
                balanceMax=self.config.balance_max,
                **({"charged": False} if remote.status == st.AUTHORIZED else {}),
            )
        if outcome is Outcome.CANCELLED and result.entry is not None:
            return result
        raise DomainError(Code.PAYMENT_NOT_PAID, status=remote.status)

    # --- the sync ----------------------------------------------------------------------------

    async def sync_payment(
        self,
        remote: GatewayPayment,
        *,
        claimant: str | None = None,
        source: str = "mutation",
        duplicate_check: bool = True,
    ) -> SyncResult:
        """Records what the gateway says and credits the owner once. Idempotent; safe to race.

        ``duplicate_check=False``: the fast path has nothing to answer, and the caller knows it —
        ``claim`` has just read the row itself; a cancel's own answer from the gateway moved the
        recorded, credited attempt. Whatever landed since is found under the lock anyway."""
        if duplicate_check:
            unchanged = await self._unchanged_credit(remote, claimant)
            if unchanged is not None:
                return unchanged
        if credit.lean_candidate(remote):
            lean = await self._credit_lean(remote, claimant, source)
            if lean is not None:
                return lean
        for attempt in range(3):
            try:
                async with self.db.transaction() as s:
                    result = await sync.apply(
                        s, remote, claimant, source,
                        require_prepared_order=self._orders_required(remote),
                        balance_max=self.config.balance_max,
                    )  # fmt: skip
                    if result.outcome is Outcome.CREDITED:
                        crash_point("before_credit_commit")  # the gateway said paid; we have not committed
                break
            except IntegrityError:
                # Two first sightings of one payment raced on the unique keys; the loser retries
                # and finds the winner's row.
                if attempt == 2:
                    raise
        if result.outcome is Outcome.CREDITED:
            # Logged once it is committed (a rolled-back race loser credited nothing).
            credit.log_credit(log, remote.amount, result.payment.user_id, remote.payment_key)
        elif result.outcome is Outcome.AMOUNT_MISMATCH:
            await self._refund(remote, "결제 금액 불일치(자동 취소)", f"mismatch-{remote.payment_key}")
        elif result.outcome is Outcome.BALANCE_LIMIT:
            await self._refund(remote, "보유 포인트 한도 초과(자동 취소)", f"limit-{remote.payment_key}")
        return result

    def _orders_required(self, remote: GatewayPayment) -> bool:
        """Whether only a payment made for an order we prepared may be credited. A gateway
        without pre-registration (Bootpay: the amount reaches it from the browser) always: our
        order is its only amount check, and a receipt for another order id (another product on
        the same account) is not a point charge. PortOne's codecamp flow keeps the setting."""
        gateway = self.providers.get(remote.provider)
        return self.config.require_prepared_order or bool(getattr(gateway, "orders_required", False))

    async def _unchanged_credit(self, remote: GatewayPayment, claimant: str | None) -> SyncResult | None:
        """The duplicate fast path: a payment already credited whose state at the gateway has not moved
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

    async def sync_by_key(
        self, payment_key: str, *, source: str, provider: str | None = None, confirm: bool = False
    ) -> SyncResult:
        """Webhooks, redirects and reconciliation: fetch from the gateway (never trust the caller).
        ``confirm``: a payment held for our confirm whose checks pass is confirmed and credited
        (the buyer's own return from the payment window); otherwise it is only recorded."""
        remote = await self.provider_for(provider).get_payment(payment_key)
        result = await self.sync_payment(remote, source=source)
        if confirm and result.outcome is Outcome.AUTHORIZED:
            _, result = await self.confirm_authorized(remote, claimant=None, source=source)
        return result

    async def _credit_lean(self, remote: GatewayPayment, claimant: str | None, source: str) -> SyncResult | None:
        """The common first sighting (services/credit_lean.py): on SQLite one driver transaction,
        on PostgreSQL one statement; None hands over to the general path."""
        require_prepared, balance_max = self._orders_required(remote), self.config.balance_max

        async def body(raw: RawConnection) -> SyncResult:
            # Only statements are awaited in here (on SQLite it runs in the driver's thread).
            result = await credit_lean.credit_first_sighting(
                raw, remote, claimant, source, require_prepared_order=require_prepared, balance_max=balance_max
            )
            if result is None:
                raise RawRollback
            return result

        try:
            if self.db.is_sqlite:
                result = await self.db.run_raw_transaction(body)
            else:
                async with self.db.raw() as raw:
                    result = await credit_lean.credit_first_sighting(
                        raw, remote, claimant, source,
                        require_prepared_order=require_prepared, balance_max=balance_max, at_once=True,
                    )  # fmt: skip
        except RAW_INTEGRITY_ERRORS:
            # A concurrent sync took a unique key first (rolled back): the general path sees its row.
            return None
        if result is not None:
            credit.log_credit(log, remote.amount, result.payment.user_id, remote.payment_key)
        return result

    async def _refund(self, remote: GatewayPayment, reason: str, request_id: str) -> None:
        """A payment we will not credit — the paid amount is not what the order said (tampered in
        the browser), or it would take its owner past the balance cap: give it back."""
        if remote.cancellable_amount <= 0 or remote.status == st.AUTHORIZED:
            return  # nothing captured (an unconfirmed payment is never confirmed): nothing to give back
        try:
            cancelled = await self.provider_for(remote.provider).cancel(
                remote.payment_key,
                amount=remote.cancellable_amount,
                checksum=remote.cancellable_amount,
                reason=reason,
                request_id=request_id,
            )
        except DomainError as exc:
            # Reconciliation finds the payments with an anomaly (amount_mismatch, balance_limit)
            # that are still paid, and syncs them again: this refund is tried again.
            log.error("automatic refund of %s failed: %s", remote.payment_key, exc.message)
            return
        await self.sync_payment(cancelled, source="cancel")

