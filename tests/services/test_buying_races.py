"""Invariants of buying under contention, on whichever database the suite runs on (SQLite or
PostgreSQL), with the buyers spread over several processes, each with its own connection pool:

* no balance ever negative; each balance equals the sum of its ledger; sum(구매) == -sum(판매);
* 100 buyers racing for one item: one sale, 99 ITEM_SOLD_OUT, points moved once;
* one buyer with 10,000 buying 20 items of 1,000 at once: 10 sales, 10 INSUFFICIENT_POINTS, balance 0;
* spends racing refunds of the same user's charges: never negative, nothing refunded that was spent.

The figures are printed (``-s``) for the issue's note.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services import ledger
from services.auth import AuthConfig, AuthService
from services.cancellation import CancelService
from services.charging import ChargeConfig, ChargeService
from services.db import Database
from services.errors import DomainError
from services.items import ItemInput, ItemService
from services.gateways.portone.v1 import PortOneV1Client
from tests.conftest import SandboxControl, ledger_invariants, wipe_tables

PROCESSES = 4


# --- helpers -----------------------------------------------------------------------------------


def _small_db(url: str) -> Database:
    # Several processes, and other suites, share one PostgreSQL server: a few connections each.
    return Database.from_url(url, pool_size=5, max_overflow=0)


async def _users(db: Database, prefix: str, count: int) -> list[str]:
    auth = AuthService(db, AuthConfig("k" * 40, 600, 600, 1, 1024, 1))
    return [(await auth.create_user(f"{prefix}{i}@example.com", "password123", f"{prefix}{i}")).id for i in range(count)]


async def _grant(db: Database, user_id: str, amount: int, key: str) -> None:
    """Points from a charge, written as the charge path writes them (the ledger is under test here,
    not PortOne)."""
    async with db.transaction() as s:
        await ledger.append_entry(s, user_id=user_id, amount=amount, status=ledger.CHARGE, entry_key=f"grant:{key}", detail="test")


async def _buy_outcome(items: ItemService, buyer: str, item_id: str) -> str:
    try:
        await items.buy(buyer, item_id)
    except DomainError as exc:
        return exc.code
    return "OK"


async def _attempts(url: str, pairs: list[tuple[str, str]], start_at: float) -> tuple[list[str], float]:
    db = _small_db(url)
    try:
        items = ItemService(db)
        await db.ping()  # connect before the start line
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        outcomes = list(await asyncio.gather(*(_buy_outcome(items, b, i) for b, i in pairs)))
        return outcomes, time.time() - started
    finally:
        await db.dispose()


def _attempts_in_process(url: str, pairs: list[tuple[str, str]], start_at: float) -> tuple[list[str], float]:
    return asyncio.run(_attempts(url, pairs, start_at))


def buy_from_processes(url: str, pairs: list[tuple[str, str]]) -> tuple[Counter[str], float]:
    """Every (buyer, item) purchase at once, spread round-robin over PROCESSES processes. Returns
    the outcomes and the longest time a process took from its start to its last answer."""
    chunks = [pairs[i::PROCESSES] for i in range(PROCESSES)]
    start_at = time.time() + 4.0  # after every process has imported and connected
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_attempts_in_process, url, chunk, start_at) for chunk in chunks if chunk]
        results = [f.result(timeout=120) for f in futures]
    return Counter(code for codes, _ in results for code in codes), max(t for _, t in results)


async def market_invariants(url: str) -> dict[str, int]:
    """The invariants of the issue, checked in SQL; returns the figures."""
    balances = await ledger_invariants(url)  # balance == sum(ledger), per user
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            async def one(sql: str) -> int:
                return int((await conn.execute(text(sql))).scalar_one())

            figures = {
                "negative_balances": await one("SELECT COUNT(*) FROM user_points WHERE amount < 0"),
                "sum_buy": await one("SELECT COALESCE(SUM(amount), 0) FROM point_transactions WHERE status = '구매'"),
                "sum_sell": await one("SELECT COALESCE(SUM(amount), 0) FROM point_transactions WHERE status = '판매'"),
                "buy_entries": await one("SELECT COUNT(*) FROM point_transactions WHERE status = '구매'"),
                "sell_entries": await one("SELECT COUNT(*) FROM point_transactions WHERE status = '판매'"),
                "sold_items": await one("SELECT COUNT(*) FROM useditems WHERE buyer_id IS NOT NULL"),
                # each sold item: its buyer paid exactly its price, its seller got exactly its price
                "mismatched_sales": await one(
                    "SELECT COUNT(*) FROM useditems i WHERE i.buyer_id IS NOT NULL AND ("
                    " (SELECT COALESCE(SUM(t.amount), 0) FROM point_transactions t WHERE t.useditem_id = i.id"
                    "   AND t.status = '구매' AND t.user_id = i.buyer_id) <> -i.price OR"
                    " (SELECT COALESCE(SUM(t.amount), 0) FROM point_transactions t WHERE t.useditem_id = i.id"
                    "   AND t.status = '판매' AND t.user_id = i.seller_id) <> i.price)"
                ),
                "unsold_with_entries": await one(
                    "SELECT COUNT(*) FROM point_transactions t JOIN useditems i ON i.id = t.useditem_id"
                    " WHERE i.buyer_id IS NULL"
                ),
            }
    finally:
        await engine.dispose()
    assert figures["negative_balances"] == 0, figures
    assert figures["sum_buy"] == -figures["sum_sell"], figures
    assert figures["buy_entries"] == figures["sell_entries"] == figures["sold_items"], figures
    assert figures["mismatched_sales"] == 0 and figures["unsold_with_entries"] == 0, figures
    assert min(balances.values(), default=0) >= 0
    return figures


# --- tests ---------------------------------------------------------------------------------------


async def test_hundred_buyers_race_for_one_item(clean_db: str) -> None:
    # given 100 buyers with 5,000 each and one item at 3,000
    db = _small_db(clean_db)
    try:
        (seller,) = await _users(db, "seller", 1)
        buyers = await _users(db, "buyer", 100)
        for b in buyers:
            await _grant(db, b, 5000, b)
        item = await ItemService(db).create(seller, ItemInput(name="한정판", remarks="", contents="", price=3000))
    finally:
        await db.dispose()

    # when all of them buy it at once, from 4 processes
    outcomes, elapsed = buy_from_processes(clean_db, [(b, item.id) for b in buyers])

    # then exactly one sale; everyone else is told it is sold out; points moved once
    figures = await market_invariants(clean_db)
    print(f"\n100 buyers / 1 item over {PROCESSES} processes: {dict(outcomes)} in {elapsed:.2f}s; {figures}")
    assert outcomes == Counter({"OK": 1, "ITEM_SOLD_OUT": 99})
    balances = await ledger_invariants(clean_db)
    assert balances[seller] == 3000
    assert sorted(balances[b] for b in buyers) == [2000] + [5000] * 99
    assert figures["sold_items"] == 1 and figures["sum_sell"] == 3000


async def test_one_buyer_twenty_items_with_points_for_ten(clean_db: str) -> None:
    # given a buyer with 10,000 points and 20 items of 1,000 from 4 sellers
    db = _small_db(clean_db)
    try:
        sellers = await _users(db, "seller", 4)
        (buyer,) = await _users(db, "buyer", 1)
        await _grant(db, buyer, 10_000, "b")
        items = ItemService(db)
        item_ids = [
            (await items.create(sellers[i % 4], ItemInput(name=f"상품{i}", remarks="", contents="", price=1000))).id
            for i in range(20)
        ]
    finally:
        await db.dispose()

    # when the buyer buys all 20 at once, from 4 processes
    outcomes, elapsed = buy_from_processes(clean_db, [(buyer, i) for i in item_ids])

    # then exactly 10 succeed, 10 are refused for lack of points, and the balance is exactly 0
    figures = await market_invariants(clean_db)
    print(f"\n1 buyer (10,000) / 20 items of 1,000 over {PROCESSES} processes: {dict(outcomes)} in {elapsed:.2f}s; {figures}")
    assert outcomes == Counter({"OK": 10, "INSUFFICIENT_POINTS": 10})
    balances = await ledger_invariants(clean_db)
    assert balances[buyer] == 0
    assert sum(balances[s] for s in sellers) == 10_000
    assert figures["sold_items"] == 10


async def test_spends_racing_refunds_never_overdraw(clean_db: str, sandbox: SandboxControl) -> None:
    """Cancels (PortOne refunds, over real HTTP) and purchases of the same user's points, at once,
    each side with its own connection pool."""
    rounds = 5
    totals: Counter[str] = Counter()
    async with httpx.AsyncClient() as http:
        for round_no in range(rounds):
            await wipe_tables(clean_db)
            spend_db, cancel_db = _small_db(clean_db), _small_db(clean_db)
            try:
                cfg = sandbox.config
                provider = PortOneV1Client(http, base_url=f"{sandbox.base_url}/v1", imp_key=cfg.imp_key,  # type: ignore[attr-defined]
                                           imp_secret=cfg.imp_secret)  # type: ignore[attr-defined]
                charging = ChargeService(cancel_db, provider, ChargeConfig(None, 100, 2_000_000))
                cancels = CancelService(cancel_db, charging)
                items = ItemService(spend_db)
                (user,) = await _users(spend_db, f"u{round_no}-", 1)
                (seller,) = await _users(spend_db, f"s{round_no}-", 1)
                # given 5 charges of 2,000 (10,000) and 10 items of 1,000
                payments = []
                for _ in range(5):
                    imp_uid = (await sandbox.pay(2000))["imp_uid"]
                    await charging.claim(user, imp_uid)
                    payments.append(imp_uid)
                item_ids = [
                    (await items.create(seller, ItemInput(name=f"상품{i}", remarks="", contents="", price=1000))).id
                    for i in range(10)
                ]

                # when every charge is cancelled while every item is bought
                async def cancel(imp_uid: str) -> str:
                    try:
                        await cancels.cancel(user, imp_uid)
                    except DomainError as exc:
                        return f"cancel:{exc.code}"
                    return "cancel:OK"

                async def buy(item_id: str) -> str:
                    return f"buy:{await _buy_outcome(items, user, item_id)}"

                # (cancels started first in even rounds, purchases first in odd ones)
                calls = [cancel(p) for p in payments] + [buy(i) for i in item_ids]
                outcomes = Counter(await asyncio.gather(*(calls if round_no % 2 == 0 else reversed(calls))))
            finally:
                await spend_db.dispose()
                await cancel_db.dispose()

            # then nothing goes negative and what was refunded plus what was spent is what was charged
            figures = await market_invariants(clean_db)
            balances = await ledger_invariants(clean_db)
            refunded = sum([(await sandbox.v1_payment(p))["cancel_amount"] for p in payments])
            spent = -figures["sum_buy"]
            print(f"\nspends vs refunds round {round_no}: {dict(outcomes)}, refunded {refunded}, spent {spent}, "
                  f"balance {balances[user]}")
            assert balances[user] >= 0
            assert refunded + spent + balances[user] == 10_000
            assert refunded == 2000 * outcomes["cancel:OK"] and spent == 1000 * outcomes["buy:OK"]
            assert set(outcomes) <= {"cancel:OK", "cancel:INSUFFICIENT_POINTS", "buy:OK", "buy:INSUFFICIENT_POINTS"}
            totals.update(outcomes)
    print(f"spends vs refunds, {rounds} rounds: {dict(totals)}")


async def test_same_buyer_retrying_concurrently_pays_once(clean_db: str) -> None:
    copies = 8
    # given a buyer with 5,000 and an item at 4,000
    db = _small_db(clean_db)
    try:
        (seller,) = await _users(db, "seller", 1)
        (buyer,) = await _users(db, "buyer", 1)
        await _grant(db, buyer, 5000, "b")
        item = await ItemService(db).create(seller, ItemInput(name="상품", remarks="", contents="", price=4000))
    finally:
        await db.dispose()
    # when the same purchase is sent several times at once (a double click, a retry on timeout)
    outcomes, _ = buy_from_processes(clean_db, [(buyer, item.id)] * copies)
    # then every copy gets the item, and the points moved once
    assert outcomes == Counter({"OK": copies})
    balances = await ledger_invariants(clean_db)
    assert (balances[buyer], balances[seller]) == (1000, 4000)
    await market_invariants(clean_db)
