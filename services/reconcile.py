"""Reconciliation: compare what the gateways say with what we recorded, and fix what is safe.

Nothing a gateway says is paid may be lost: a dropped webhook, a process killed between the gateway's
answer and our commit, a console cancel nobody told us about — all surface here. Fixes go through
the same idempotent ``sync_payment`` as every other path, so running this next to live traffic, or
on several instances at once, can never credit twice. It never cancels anything at a gateway because
a webhook is missing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from services import ledger, metrics, payment_state as st
from services.charging import ChargeService, Outcome
from services.db import Database
from services.errors import Code, DomainError
from services.models import CancelRequest, Order, Payment, PaymentEvent, PointTransaction, UserPoint, utcnow
from services.orders import find_order
from services.gateways.base import GatewayPayment
from services.sync import BALANCE_LIMIT
from services.webhooks import WebhookService

log = logging.getLogger("pointcharge.reconcile")

# PortOne's V1 listing accepts at most 90 days per request.
WINDOW = timedelta(days=30)


@dataclass
class Difference:
    kind: str
    provider: str | None
    payment_key: str | None
    detail: str
    fixed: bool = False
    user_id: str | None = None


@dataclass
class Report:
    since: datetime
    until: datetime
    applied: bool
    checked_remote: int = 0
    differences: list[Difference] = field(default_factory=list)
    # Failed webhook deliveries past their retry budget (services/webhooks.py): counted, not
    # differences — a forged webhook for a payment that does not exist must not keep every run unclean.
    abandoned: int = 0

    @property
    def remaining(self) -> list[Difference]:
        return [d for d in self.differences if not d.fixed]

    @property
    def clean(self) -> bool:
        return not self.remaining

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "applied": self.applied,
            "checked_remote": self.checked_remote,
            "abandoned_webhooks": self.abandoned,
            "differences": [asdict(d) for d in self.differences],
            "remaining": len(self.remaining),
            "clean": self.clean,
        }


# (report, apply, stale_after) -> None
ExtraCheck = Callable[[Report, bool, timedelta], Awaitable[None]]


class Reconciler:
    def __init__(
        self,
        db: Database,
        charging: ChargeService,
        webhooks: WebhookService | None = None,
        *,
        stale_after: timedelta = timedelta(minutes=30),
        extra_checks: Sequence[ExtraCheck] = (),
    ) -> None:
        self.db = db
        self.charging = charging
        self.webhooks = webhooks
        self.stale_after = stale_after
        # Checks of other parts' records against the gateways (subscription attempts:
        # services/billing/attempt_reconcile.py), each adding its differences to the report.
        self.extra_checks = list(extra_checks)

    async def run(self, *, since: datetime, until: datetime | None = None, apply: bool = False) -> Report:
        until = until or datetime.now(UTC)
        report = Report(since=since, until=until, applied=apply)
        seen: set[tuple[str, str]] = set()
        for name, provider in self.charging.providers.items():
            remotes = (
                self._listing(provider, since, until) if provider.can_list
                else self._own_payments(report, provider, since, until)
            )
            async for remote in remotes:
                report.checked_remote += 1
                seen.add((name, remote.payment_key))
                await self._compare(remote, report, apply)
        await self._stale_local(report, apply, seen)
        for check in self.extra_checks:
            await check(report, apply, self.stale_after)
        if self.webhooks is not None:
            await self._failed_webhooks(report, apply)
        await self._ledger_invariants(report)
        for diff in report.differences:
            metrics.RECONCILE_DIFFERENCES.labels(diff.kind).inc()
        return report

    # --- the gateways' side -----------------------------------------------------------------

    async def _listing(self, provider, since: datetime, until: datetime) -> AsyncIterator[GatewayPayment]:  # type: ignore[no-untyped-def]
        start = since
        while start < until:
            end = min(start + WINDOW, until)
            cursor: str | None = None
            while True:
                items, cursor = await provider.list_payments(since=start, until=end, cursor=cursor)
                for item in items:
                    yield item
                if not cursor:
                    break
            start = end

    async def _own_payments(self, report: Report, provider, since: datetime, until: datetime) -> AsyncIterator[GatewayPayment]:  # type: ignore[no-untyped-def]
        """A gateway without a listing API (Bootpay): our own payments of it that may still move —
        made in the window and not cancelled in full, or still open from before it (a virtual
        account waiting, a payment held for our confirm, one paid but not credited) — each
        re-fetched by its key. A payment we never heard of (no mutation, no webhook: Bootpay
        retries a webhook 10 times) cannot be found this way: Bootpay has no lookup by order."""
        open_states = (st.READY, st.AUTHORIZED, st.PAID, st.PARTIALLY_CANCELLED)
        async with self.db.session() as s:
            keys = list(
                (
                    await s.execute(
                        select(Payment.payment_key)
                        .where(
                            Payment.provider == provider.name,
                            ((Payment.created_at >= since) & (Payment.created_at < until) & (Payment.status != st.CANCELLED))
                            | (Payment.status.in_(open_states[:2]))
                            | (Payment.status.in_(open_states[2:]) & Payment.credited_at.is_(None)),
                        )
                        .order_by(Payment.created_at)
                    )
                ).scalars()
            )
        for key in keys:
            try:
                yield await provider.get_payment(key)
            except DomainError as exc:
                if exc.code != Code.PAYMENT_NOT_FOUND:
                    raise  # unavailable: the run fails as a listing that cannot be read does
                report.differences.append(Difference("missing_at_gateway", provider.name, key,
                                                     "recorded here, unknown to the gateway"))

    async def _row_for(self, remote: GatewayPayment) -> tuple[Payment | None, Order | None]:
        """The attempt's row (by provider and gateway id: every attempt is its own row) and the
        order it was made for, if any."""
        async with self.db.session() as s:
            row = (
                await s.execute(
                    select(Payment).where(Payment.provider == remote.provider, Payment.payment_key == remote.payment_key)
                )
            ).scalar_one_or_none()
            order = await find_order(s, remote.provider, remote.order_key) if row is None else None
            return row, order

    async def _compare(self, remote: GatewayPayment, report: Report, apply: bool) -> None:
        row, order = await self._row_for(remote)
        diff: Difference | None = None
        paid_like = remote.status in (st.PAID, st.PARTIALLY_CANCELLED, st.CANCELLED)
        # An attempt not recorded yet belongs to its order's owner (a second attempt on an order too).
        owner = row.user_id if row else (order.user_id if order else None)
        if remote.status == st.PAID and (row is None or row.credited_at is None):
            if (row is not None and row.anomaly == "amount_mismatch") or (
                row is None and order is not None and order.amount != remote.amount
            ):
                diff = Difference("mismatch_not_refunded", remote.provider, remote.payment_key,
                                  f"paid {remote.amount} for an order of {row.order_amount if row else order.amount}: refund it",  # type: ignore[union-attr]
                                  user_id=owner)
            elif row is not None and row.anomaly == BALANCE_LIMIT:
                diff = Difference("limit_not_refunded", remote.provider, remote.payment_key,
                                  f"paid {remote.amount}, refused for the balance cap: refund it", user_id=owner)
            elif owner is None:
                diff = Difference("unclaimed_paid", remote.provider, remote.payment_key,
                                  f"paid {remote.amount} KRW, owner unknown until someone claims it")
            else:
                diff = Difference("paid_not_credited", remote.provider, remote.payment_key,
                                  f"paid {remote.amount} KRW at the gateway, not credited here", user_id=owner)
        elif row is not None and row.credited_at is not None and remote.cancelled_amount > row.cancelled_amount:
            diff = Difference("cancelled_not_clawed_back", remote.provider, remote.payment_key,
                              f"cancelled {remote.cancelled_amount} at the gateway, {row.cancelled_amount} here", user_id=owner)
        elif row is not None and row.credited_at is not None and row.amount != remote.amount:
            diff = Difference("amount_mismatch", remote.provider, remote.payment_key,
                              f"amount {row.amount} here, {remote.amount} at the gateway", user_id=owner)
        elif remote.status == st.READY and row is not None and row.status in (st.READY, st.PREPARED):
            due = remote.virtual_account.due_at if remote.virtual_account else row.vbank_due_at
            if due is not None and due < datetime.now(UTC):
                diff = Difference("vbank_expired", remote.provider, remote.payment_key,
                                  f"virtual account due {due.isoformat()} not paid", user_id=owner)
        elif remote.status == st.AUTHORIZED and row is not None and row.credited_at is None and row.anomaly is None:
            # Approved by the buyer and held for our confirm, never claimed (the browser went away).
            diff = Difference("authorized_not_confirmed", remote.provider, remote.payment_key,
                              f"{remote.amount} KRW approved at the gateway, waiting for our confirm", user_id=owner)
        elif row is not None and row.status != remote.status and not (row.status == st.EXPIRED and remote.status == st.READY):
            diff = Difference("status_mismatch", remote.provider, remote.payment_key,
                              f"status {row.status} here, {remote.status} at the gateway", user_id=owner)
        elif row is None and paid_like:
            diff = Difference("unknown_payment", remote.provider, remote.payment_key,
                              f"{remote.status} at the gateway, never seen here")
        if diff is None:
            return
        report.differences.append(diff)
        if apply:
            await self._fix(diff, remote, row)

    async def _fix(self, diff: Difference, remote: GatewayPayment, row: Payment | None) -> None:
        try:
            if diff.kind == "vbank_expired":
                assert row is not None
                diff.fixed = await self._expire(row)
                return
            if diff.kind in ("amount_mismatch",):
                return  # an operator decides
            result = await self.charging.sync_payment(remote, source="reconcile")
            if result.outcome is Outcome.AUTHORIZED:
                # The same checks as a claim's (amount = the order's, owner bound) passed under the
                # row lock: confirm, then credit the confirmed payment.
                _, result = await self.charging.confirm_authorized(remote, claimant=None, source="reconcile")
        except DomainError as exc:
            diff.detail += f" (fix failed: {exc.code})"
            return
        if diff.kind in ("paid_not_credited", "authorized_not_confirmed"):
            diff.fixed = result.outcome in (Outcome.CREDITED, Outcome.ALREADY_CREDITED)
        elif diff.kind in ("cancelled_not_clawed_back", "status_mismatch", "mismatch_not_refunded", "limit_not_refunded"):
            diff.fixed = True
        elif diff.kind in ("unclaimed_paid", "unknown_payment"):
            # Recorded now, so the owner's claim is quick; still the owner's move (or an operator's)
            # unless a concurrent claim or sync found the owner meanwhile.
            diff.fixed = result.outcome in (Outcome.CREDITED, Outcome.ALREADY_CREDITED) or (
                diff.kind == "unknown_payment" and result.outcome is not Outcome.UNCLAIMED
            )
        if diff.fixed:
            log.info("reconcile fixed %s %s", diff.kind, diff.payment_key)

    async def _expire(self, row: Payment) -> bool:
        async with self.db.transaction() as s:
            moved = await s.execute(
                update(Payment)
                .where(Payment.id == row.id, Payment.status.in_([st.READY, st.PREPARED]))
                .values(status=st.EXPIRED, updated_at=utcnow())
            )
            if moved.rowcount == 1:
                s.add(PaymentEvent(payment_id=row.id, from_status=row.status, to_status=st.EXPIRED,
                                   source="reconcile", detail="virtual account deposit deadline passed"))
        return True

    # --- our side ----------------------------------------------------------------------------

    async def _stale_local(self, report: Report, apply: bool, seen: set[tuple[str, str]]) -> None:
        """What the listing window did not cover: charges left pending, virtual accounts past their
        deadline, and cancels left in flight longer than ``stale_after``."""
        now = utcnow()
        cutoff = now - self.stale_after
        async with self.db.session() as s:
            pending = list(
                (
                    await s.execute(
                        select(Payment).where(
                            Payment.payment_key.is_not(None),
                            (
                                (Payment.status == st.PREPARED) & (Payment.updated_at < cutoff)
                            )
                            | ((Payment.status == st.READY) & (Payment.vbank_due_at < now)),
                        )
                    )
                ).scalars()
            )
            stuck = list(
                (
                    await s.execute(
                        select(CancelRequest, Payment)
                        .join(Payment, Payment.id == CancelRequest.payment_id)
                        .where(CancelRequest.status == "requested", CancelRequest.created_at < cutoff)
                    )
                ).all()
            )
        for row in pending:
            if (row.provider, row.payment_key) in seen:
                continue  # compared against the listing already
            kind = "vbank_expired" if row.status == st.READY else "stale_pending"
            diff = Difference(kind, row.provider, row.payment_key, f"{row.status} since {row.updated_at.isoformat()}",
                              user_id=row.user_id)
            report.differences.append(diff)
            if not apply:
                continue
            try:
                result = await self.charging.sync_by_key(row.payment_key or "", source="reconcile", provider=row.provider)
            except DomainError as exc:
                diff.detail += f" (re-sync failed: {exc.code})"
                continue
            if result.payment.status == st.READY and kind == "vbank_expired":
                diff.fixed = await self._expire(result.payment)
            else:
                diff.fixed = result.payment.status != row.status
        for request, payment in stuck:
            diff = Difference("cancel_in_flight", payment.provider, payment.payment_key,
                              f"cancel of {request.amount} requested {request.created_at.isoformat()} not settled",
                              user_id=request.user_id)
            report.differences.append(diff)
            if apply:
                diff.fixed = await self._settle_cancel(request, payment)

    async def _settle_cancel(self, request: CancelRequest, payment: Payment) -> bool:
        try:
            result = await self.charging.sync_by_key(payment.payment_key or "", source="reconcile", provider=payment.provider)
        except DomainError:
            return False
        if result.payment.cancelled_amount >= request.cancelled_after:
            return True  # the sync found the refund and settled the request
        # The gateway has no such refund: the cancel never happened. Release the held points; a user
        # can ask again (the cancel's checksum makes a late duplicate impossible to double-refund).
        async with self.db.transaction() as s:
            await s.execute(
                update(CancelRequest)
                .where(CancelRequest.id == request.id, CancelRequest.status == "requested")
                .values(status="failed", error="not found at the gateway (reconcile)", completed_at=utcnow())
            )
        return True

    async def _failed_webhooks(self, report: Report, apply: bool) -> None:
        assert self.webhooks is not None
        now = utcnow()
        # Past the retry budget: abandoned (with --apply) or counted as such (report only).
        report.abandoned = (
            await self.webhooks.abandon_exhausted(now=now) if apply else await self.webhooks.exhausted_count(now=now)
        )
        cutoff = now - timedelta(minutes=1)
        ids = await self.webhooks.pending_ids(failed_only=False, older_than=cutoff, retryable_at=now)
        for delivery_id in ids:
            diff = Difference("webhook_unprocessed", None, None, f"delivery {delivery_id}")
            report.differences.append(diff)
            if apply:
                diff.fixed = await self.webhooks.process(delivery_id, coalesce=False) == "processed"

    async def _ledger_invariants(self, report: Report) -> None:
        """Reported, never silently "fixed": a broken invariant is a bug to understand."""
        async with self.db.session() as s:
            sums = (
                select(PointTransaction.user_id, func.sum(PointTransaction.amount).label("total"))
                .group_by(PointTransaction.user_id)
                .subquery()
            )
            rows = (
                await s.execute(
                    select(UserPoint.user_id, UserPoint.amount, func.coalesce(sums.c.total, 0))
                    .outerjoin(sums, sums.c.user_id == UserPoint.user_id)
                    .where(UserPoint.amount != func.coalesce(sums.c.total, 0))
                )
            ).all()
            for user_id, cached, summed in rows:
                report.differences.append(Difference("balance_mismatch", None, None,
                                                     f"cached {cached} != ledger {summed}", user_id=user_id))
            orphans = (
                await s.execute(
                    select(PointTransaction.id, PointTransaction.payment_key, PointTransaction.user_id)
                    .join(Payment, Payment.id == PointTransaction.payment_id, isouter=True)
                    .where(
                        PointTransaction.status == ledger.CHARGE,
                        (Payment.id.is_(None))
                        | Payment.credited_at.is_(None)
                        | Payment.status.not_in([st.PAID, st.PARTIALLY_CANCELLED, st.CANCELLED]),
                    )
                )
            ).all()
            for entry_id, payment_key, user_id in orphans:
                report.differences.append(Difference("credit_without_paid_payment", None, payment_key,
                                                     f"ledger entry {entry_id}", user_id=user_id))
            negative = (await s.execute(select(UserPoint.user_id, UserPoint.amount).where(UserPoint.amount < 0))).all()
            for user_id, amount in negative:
                report.differences.append(Difference("negative_balance", None, None,
                                                     f"balance {amount} (a cancel after the points were spent)",
                                                     user_id=user_id))

