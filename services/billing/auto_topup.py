"""Auto top-up (setPointAutoTopUp, issue 25): when a purchase leaves the buyer's balance under their
threshold, their saved card is charged a fixed amount, at most a monthly cap. Off unless the server
enables it (POINTCHARGE_AUTO_TOPUP_ENABLED): card companies may refuse billing keys used for
non-periodic charges, so a team turns it on only with its PG's agreement (docs/BILLING.md).

- The trigger runs after the purchase has committed, in a background task this service holds: the
  purchase neither waits for it nor fails with it. Tasks are bounded (``max_tasks`` waiting,
  ``concurrency`` charging); past the bound a trigger is dropped (logged), never queued forever.
- Correctness is in the database (topup_rows.py), not in this process: the cap by a conditional
  update, one top-up in flight per user by a unique partial index, the charge itself exactly once
  by card_charges (card_charge.py: the top-up's order is the idempotency key).
- ``run_due(now)`` finishes what a dead process (or a lost answer) left pending: the billing runner
  calls it; the card charge looks the order up at the gateway before it charges again.
- A decline (or a card gone) ends the top-up: its amount goes back to the cap, the reason is kept
  (``lastFailureReason``) and the user's top-ups pause for ``pause_s`` (1 hour) or until their
  settings change — one attempt per pause, not one per purchase.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services import metrics
from services.billing import card_claims as claims
from services.billing import topup_rows as rows
from services.billing.card_charge import SOURCE, CardChargeService
from services.billing.cards import CardService
from services.charging import ChargeConfig
from services.db import Database
from services.errors import Code, DomainError
from services.models import AutoTopUp, PaymentCard, utcnow
from services.orders import check_amount

log = logging.getLogger("pointcharge.billing")

# Outcomes that say nothing about the charge: the row stays pending and is tried again later.
NO_ANSWER = (Code.PORTONE_UNAVAILABLE, Code.CARD_CHARGE_IN_PROGRESS, Code.SERVICE_UNAVAILABLE)
RETRY_MAX_S = 3600.0


@dataclass(frozen=True)
class AutoTopUpView:
    enabled: bool
    card: PaymentCard | None  # None: none chosen, or deleted since
    threshold: int
    amount: int
    monthly_limit: int
    charged_this_month: int  # charged, or being charged, this month (KST)
    last_failure_reason: str | None


class AutoTopUpService:
    def __init__(
        self, db: Database, cards: CardService, card_charges: CardChargeService, charge_config: ChargeConfig, *,
        available: bool, pause_s: float = 3600.0, concurrency: int = 8, max_tasks: int = 1000, batch: int = 200,
    ) -> None:
        self.db = db
        self.cards = cards
        self.card_charges = card_charges
        self.charge_config = charge_config
        self.available = available
        self.pause_s = pause_s
        # A row claimed (or made) by this process is not due for others before a card charge's
        # whole lease has passed: by then the charge has an outcome or its process is gone.
        self.lease_s = card_charges.lease_s + 5
        self.max_tasks = max_tasks
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- settings --------------------------------------------------------------------------

    async def set(
        self, user_id: str, *, card_id: str | None, threshold: int, amount: int, monthly_limit: int, enabled: bool
    ) -> AutoTopUpView:
        if not self.available:
            raise DomainError(Code.AUTO_TOPUP_UNAVAILABLE)
        check_amount(self.charge_config, amount)
        if threshold < 0:
            raise DomainError(Code.BAD_USER_INPUT, "기준 잔액은 0원 이상이어야 합니다.", field="threshold")
        if threshold + amount > self.charge_config.balance_max:
            raise DomainError(Code.BAD_USER_INPUT, "기준 잔액과 충전 금액의 합이 보유 한도를 넘습니다.", field="threshold")
        if monthly_limit < amount:
            raise DomainError(Code.BAD_USER_INPUT, "월 한도는 충전 금액 이상이어야 합니다.", field="monthlyLimit")
        if card_id is not None:
            card = await self.cards.get_active(user_id, card_id)  # someone else's: PAYMENT_CARD_NOT_FOUND
            chosen: str | None = card.id
        else:
            current = await self._settings(user_id)
            chosen = current.card_id if current is not None else None
            if enabled and chosen is None:
                raise DomainError(Code.BAD_USER_INPUT, "자동 충전에 쓸 카드를 선택해 주세요.", field="paymentCardId")
            if enabled and chosen is not None:
                await self.cards.get_active(user_id, chosen)  # deleted since: PAYMENT_CARD_NOT_FOUND
        # New settings lift a pause and forget the last failure: the user has seen and answered it.
        values = dict(card_id=chosen, enabled=enabled, threshold=threshold, amount=amount,
                      monthly_limit=monthly_limit, paused_until=None, last_failure_reason=None, updated_at=utcnow())
        for _ in range(3):
            async with self.db.transaction() as s:
                done = await s.execute(update(AutoTopUp).where(AutoTopUp.user_id == user_id).values(**values))
            if done.rowcount == 1:
                break
            try:
                async with self.db.transaction() as s:
                    s.add(AutoTopUp(user_id=user_id, **values))
                break
            except IntegrityError:
                continue  # a concurrent first setting won: update it
        view = await self.get(user_id)
        assert view is not None
        if view.enabled and view.card is None:
            # The card was deleted between the check above and the write: its deletion's own
            # "turn auto top-up off" ran before the write, so it is done again here.
            async with self.db.transaction() as s:
                await s.execute(update(AutoTopUp).where(AutoTopUp.user_id == user_id).values(enabled=False))
            raise DomainError(Code.PAYMENT_CARD_NOT_FOUND)
        return view

    async def _settings(self, user_id: str) -> AutoTopUp | None:
        async with self.db.session() as s:
            return (await s.execute(select(AutoTopUp).where(AutoTopUp.user_id == user_id))).scalar_one_or_none()

    async def get(self, user_id: str) -> AutoTopUpView | None:
        settings = await self._settings(user_id)
        if settings is None:
            return None
        card = None
        if settings.card_id is not None:
            async with self.db.session() as s:
                card = await s.get(PaymentCard, settings.card_id)
            if card is not None and (card.status != "active" or card.user_id != user_id):
                card = None
        return AutoTopUpView(
            enabled=settings.enabled, card=card, threshold=settings.threshold, amount=settings.amount,
            monthly_limit=settings.monthly_limit,
            charged_this_month=await rows.charged_this_month(self.db, user_id, utcnow()),
            last_failure_reason=settings.last_failure_reason,
        )

    # --- the trigger -----------------------------------------------------------------------

    def after_purchase(self, user_id: str) -> None:
        """Called once a purchase has committed. Never raises, never waits: the work is a task."""
        if not self.available:
            return
        try:
            if len(self._tasks) >= self.max_tasks:
                log.warning("auto top-up of user %s dropped: %s top-ups waiting", user_id, len(self._tasks))
                return
            task = asyncio.get_running_loop().create_task(self._after_purchase(user_id))
        except Exception:  # pragma: no cover - no running loop: nothing to hold a task
            log.exception("auto top-up of user %s not started", user_id)
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_purchase(self, user_id: str) -> None:
        try:
            async with self._slots:
                due = await rows.start(self.db, user_id, now=utcnow(), lease_s=self.lease_s)
                if due is not None:
                    log.info("auto top-up %s of user %s started (%s원)", due.charge_id, user_id, due.amount)
                    await self._charge(due)
        except Exception:
            # Whatever it is, the purchase is done; a row left pending is the runner's.
            log.exception("auto top-up of user %s failed", user_id)

    async def aclose(self) -> None:
        """Shutdown: tasks are cancelled; a charge cut short leaves its row pending (and its card
        charge ``unknown``), which the runner finishes after a look-up at the gateway."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- charging --------------------------------------------------------------------------

    async def _charge(self, due: rows.Due) -> str:
        """Charges the top-up's order once through the card-charge path; returns the row's state."""
        try:
            entry, credited_now = await self.card_charges.charge(due.user_id, due.card_id, due.order_key)
        except DomainError as exc:
            metrics.count_charge_error(SOURCE, exc)
            if exc.code in NO_ANSWER:
                await self._later(due)
                return rows.PENDING
            if exc.code == Code.ORDER_ALREADY_PAID:  # an earlier attempt of this order was credited
                await rows.finish(self.db, due, rows.PAID, now=utcnow(), release=False)
                return rows.PAID
            declined = exc.code == Code.CARD_DECLINED
            reason = exc.extensions.get("failReason") or exc.extensions.get("reason") or exc.message
            state = rows.DECLINED if declined else rows.FAILED
            release = declined or await self._nothing_charged(due)
            await rows.finish(self.db, due, state, now=utcnow(), release=release, fail_reason=str(reason),
                              pause_s=self.pause_s)
            log.info("auto top-up %s of user %s %s: %s", due.charge_id, due.user_id, state, reason)
            return state
        except Exception as exc:
            metrics.count_charge_error(SOURCE, exc)
            log.exception("auto top-up %s: charge without an answer", due.charge_id)
            await self._later(due)
            return rows.PENDING
        metrics.count_charge(SOURCE, "credited" if credited_now else "already_credited",
                             credited=entry.amount if credited_now else 0)
        await rows.finish(self.db, due, rows.PAID, now=utcnow(), release=False)
        return rows.PAID

    async def _nothing_charged(self, due: rows.Due) -> bool:
        """Whether the order's card charge is known to have taken nothing (so the cap may be given
        back): no attempt, or its last one declined or refused. An attempt without an answer may
        have charged: its amount stays counted."""
        row = await claims.current(self.db, due.order_id)
        return row is None or row.state in (claims.DECLINED, claims.REFUSED)

    async def _later(self, due: rows.Due) -> None:
        delay = min(60.0 * 2 ** (due.attempts - 1), RETRY_MAX_S)
        await rows.retry_later(self.db, due, at=utcnow() + timedelta(seconds=delay))

    async def _in_slot(self, due: rows.Due) -> None:
        async with self._slots:
            try:
                await self._charge(due)
            except Exception:
                log.exception("auto top-up %s: not finished", due.charge_id)

    async def run_due(self, now: datetime) -> int:
        """The billing runner's job: charges every top-up pending and due as of ``now`` (claimed, so
        that N runners charge each once). Runs even with auto top-up turned off: a pending row may
        already be charged at the gateway. Returns how many it took."""
        seen: set[str] = set()
        while True:
            batch = [d for d in await rows.claim_due(self.db, now=now, limit=self.batch, lease_s=self.lease_s)
                     if d.charge_id not in seen]
            if not batch:
                return len(seen)
            seen.update(d.charge_id for d in batch)
            await asyncio.gather(*(self._in_slot(d) for d in batch))

    async def runner_job(self, at: datetime, limit: int | None = None) -> dict[str, int]:
        """run_due as one of the billing runner's jobs (services/billing/runner.py); ``limit`` does
        not apply: pending top-ups are few (at most one per user)."""
        return {"taken": await self.run_due(at)}
