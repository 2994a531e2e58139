"""Points held by a cancel in flight are not spendable, however the transactions interleave.

The defect this guards against (issue 16): on PostgreSQL the check "balance - held >= x" read the
held total in the same statement that waited for the balance row lock, i.e. from a snapshot taken
before the wait. A transaction queued behind another one's new hold did not see it: two cancels of
different payments, or a spend queued behind a cancel, both passed, and once PortOne refunded, the
balance was negative.

``forced``: a third transaction holds the user's balance row while the two racers queue behind it
(PostgreSQL's pg_stat_activity says when both wait), then lets them go: the interleaving that
exposed the defect, every time. ``natural``: the same two calls, simply started together, several
times. SQLite has one writer at a time (BEGIN IMMEDIATE); there the forced variant does not apply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from services.auth import AuthConfig, AuthService
from services.cancellation import CancelService
from services.charging import ChargeService, ChargeConfig
from services.db import Database
from services.errors import DomainError
from services.items import ItemInput, ItemService
from services.ledger import spend_points
from services.gateways.portone.v1 import PortOneV1Client
from tests.conftest import SandboxControl, count_rows, ledger_invariants, wipe_tables

NATURAL_TRIALS = 10


@dataclass
class World:
    db: Database
    url: str
    sandbox: SandboxControl
    auth: AuthService
    charging: ChargeService
    cancels: CancelService

    async def user_with(self, email: str, *amounts: int) -> tuple[str, list[str]]:
        user_id = (await self.auth.create_user(email, "password123", "u")).id
        keys = []
        for amount in amounts:
            imp_uid = (await self.sandbox.pay(amount))["imp_uid"]
            await self.charging.claim(user_id, imp_uid)
            keys.append(imp_uid)
        return user_id, keys


@pytest.fixture
async def world(clean_db: str, sandbox: SandboxControl) -> AsyncIterator[World]:
    db = Database.from_url(clean_db)
    async with httpx.AsyncClient() as http:
        cfg = sandbox.config
        provider = PortOneV1Client(
            http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key, imp_secret=cfg.imp_secret  # type: ignore[attr-defined]
        )
        charging = ChargeService(db, provider, ChargeConfig(None, 100, 2_000_000))
        auth = AuthService(db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
        try:
            yield World(db, clean_db, sandbox, auth, charging, CancelService(db, charging))
        finally:
            await db.dispose()


async def _outcome(call: Awaitable[object]) -> str:
    try:
        await call
    except DomainError as exc:
        return exc.code
    return "OK"


async def _waiting_on_locks(conn: AsyncConnection) -> int:
    return int(
        (
            await conn.execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        ).scalar_one()
    )


async def _race(
    world: World, user_id: str, first: Callable[[], Awaitable[object]], second: Callable[[], Awaitable[object]],
    *, forced: bool,
) -> list[str]:
    """Runs ``first`` and ``second`` concurrently; ``forced``: both queued behind a held balance row,
    ``first`` ahead of ``second``."""
    if not forced:
        return list(await asyncio.gather(_outcome(first()), _outcome(second())))
    engine = create_async_engine(world.url)
    try:
        async with engine.connect() as blocker, engine.connect() as observer:
            await observer.execution_options(isolation_level="AUTOCOMMIT")
            await blocker.execute(text("SELECT 1 FROM user_points WHERE user_id = :u FOR UPDATE"), {"u": user_id})
            tasks = []
            for waiting, call in enumerate((first, second), start=1):
                tasks.append(asyncio.create_task(_outcome(call())))
                deadline = time.monotonic() + 30  # a loaded CI machine
                while await _waiting_on_locks(observer) < waiting:
                    if time.monotonic() > deadline or tasks[-1].done():
                        raise AssertionError(f"racer {waiting} never queued behind the balance row")
                    await asyncio.sleep(0.01)
            await blocker.commit()
            return list(await asyncio.gather(*tasks))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("mode", ["forced", "natural"])
async def test_two_cancels_of_different_payments_never_overdraw(world: World, mode: str) -> None:
    if mode == "forced" and not world.url.startswith("postgresql"):
        pytest.skip("row-lock queueing is PostgreSQL's; SQLite has one writer at a time")
    trials = 1 if mode == "forced" else NATURAL_TRIALS
    bad: list[str] = []
    for trial in range(trials):
        await wipe_tables(world.url)
        # given two charges of 10,000 of which 10,000 was spent: 10,000 left
        user_id, (a, b) = await world.user_with(f"u{trial}@example.com", 10_000, 10_000)
        await spend_points(world.db, user_id, 10_000, "상품 구매", key=f"t{trial}")
        # when both payments are cancelled in full at once
        outcomes = await _race(
            world, user_id,
            lambda: world.cancels.cancel(user_id, a), lambda: world.cancels.cancel(user_id, b),
            forced=mode == "forced",
        )
        balances = await ledger_invariants(world.url)
        refunded = sorted([(await world.sandbox.v1_payment(k))["cancel_amount"] for k in (a, b)])
        print(f"two cancels ({mode}) trial {trial}: {outcomes}, balance {balances[user_id]}, refunded {refunded}")
        # then exactly one is refunded, the other refused, and nothing is owed
        if sorted(outcomes) != ["INSUFFICIENT_POINTS", "OK"] or balances[user_id] != 0 or refunded != [0, 10_000]:
            bad.append(f"trial {trial}: {outcomes}, balance {balances[user_id]}, refunded {refunded}")
    assert not bad, f"{len(bad)} of {trials} trials overdrew: {bad}"


Debit = Callable[[], Awaitable[object]]


async def _cancel_racing_a_debit(
    world: World, mode: str, label: str, prepare: Callable[[int, str], Awaitable[Debit]]
) -> None:
    """A charge of 10,000 cancelled while a debit of the same 10,000 runs (the cancel queued
    first); ``prepare(trial, user_id)`` sets up what the debit needs and returns it."""
    if mode == "forced" and not world.url.startswith("postgresql"):
        pytest.skip("row-lock queueing is PostgreSQL's; SQLite has one writer at a time")
    trials = 1 if mode == "forced" else NATURAL_TRIALS
    bad: list[str] = []
    for trial in range(trials):
        await wipe_tables(world.url)
        # given a charge of 10,000
        user_id, (a,) = await world.user_with(f"u{trial}@example.com", 10_000)
        debit = await prepare(trial, user_id)
        # when the charge is cancelled while the same points are debited (the cancel queued first)
        outcomes = await _race(world, user_id, lambda: world.cancels.cancel(user_id, a), debit, forced=mode == "forced")
        balances = await ledger_invariants(world.url)
        cancelled = (await world.sandbox.v1_payment(a))["cancel_amount"]
        debited = await count_rows(world.url, "SELECT COUNT(*) FROM point_transactions WHERE status = '구매'")
        print(f"{label} vs cancel ({mode}) trial {trial}: {outcomes}, balance {balances[user_id]}, refunded {cancelled}")
        # then one of them happened, never both: no refund of points already spent
        if (
            sorted(outcomes) != ["INSUFFICIENT_POINTS", "OK"]
            or balances[user_id] != 0
            or (cancelled, debited) not in ((10_000, 0), (0, 1))
        ):
            bad.append(f"trial {trial}: {outcomes}, balance {balances[user_id]}, refunded {cancelled}")
    assert not bad, f"{len(bad)} of {trials} trials overdrew: {bad}"


@pytest.mark.parametrize("mode", ["forced", "natural"])
async def test_spend_racing_a_cancel_never_overdraws(world: World, mode: str) -> None:
    async def spend(trial: int, user_id: str) -> Debit:
        return lambda: spend_points(world.db, user_id, 10_000, "상품 구매", key=f"t{trial}")

    await _cancel_racing_a_debit(world, mode, "spend", spend)


@pytest.mark.parametrize("mode", ["forced", "natural"])
async def test_purchase_racing_a_cancel_never_overdraws(world: World, mode: str) -> None:
    # A purchase locks both balances itself and checks the holds inside its conditional debit
    # (ledger.append_entry(balance_locked=True)), not through ledger.spendable: the same guarantee.
    items = ItemService(world.db)

    async def buy(trial: int, user_id: str) -> Debit:
        # and another user's item for 10,000
        seller_id, _ = await world.user_with(f"s{trial}@example.com")
        item = await items.create(seller_id, ItemInput(name="상품", remarks="", contents="", price=10_000))
        return lambda: items.buy(user_id, item.id)

    await _cancel_racing_a_debit(world, mode, "purchase", buy)
