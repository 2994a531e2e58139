"""The statement-count guard: how many SQL statements and PortOne requests each charge-path flow
costs, asserted exactly (the way Django's ``assertNumQueries`` does), on whichever database the
suite runs on (SQLite by default, PostgreSQL under ``POINTCHARGE_TEST_DATABASE_URL``; CI runs both).

A timing cannot guard the hot path on a shared machine; a count can. Exact equality, so that an
added statement fails and so does one that disappears without anyone saying why (a removed check
is as worth a look as an added one). When a change means to move a count, change ``EXPECTED`` in
the same commit and the table in docs/PERFORMANCE.md ("Statements per flow") with it; the failure
message lists the statements the flow sent.

What is counted (bench/statements.py): every statement SQLAlchemy executes, its BEGIN / COMMIT /
ROLLBACK (a read session is BEGIN, its SELECTs, ROLLBACK), and every statement of services/db.py's
driver connections (the login revocation check, the duplicate pre-check, the lean credit
transaction with its BEGIN and COMMIT). PortOne requests are counted where they arrive: the
sandbox's ``/_control/stats``, over real HTTP. The application runs in-process (ASGI), so a
webhook's background processing has finished when its response is read.

The two databases send the same statements today; the table keeps one column per dialect because
they need not (e.g. a data-modifying CTE that only PostgreSQL would get, or a SQLite-only
conditional update where PostgreSQL relies on ``FOR UPDATE``).

Every measured request runs after a warm-up charge in the same process: the PortOne access token
is cached and the pool's connections are open, so first-use costs (token fetch, dialect set-up)
are not in the counts.

The flows check their results in the order/attempt model (migration 0004): a prepared order is a
row of ``orders``, each payment attempt a row of ``payments`` pointing at it by ``order_id``.

Adding a flow: write one ``@flow("…")`` coroutine below that sets up what it needs, then runs
exactly the request to measure inside ``async with h.measure():`` and asserts the request's result
(a flow that fails would count the statements of an error), and add its line to ``EXPECTED``. A
test checks that the two stay in step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from asgi_lifespan import LifespanManager

from bench.statements import StatementLog, record_statements
from tests.conftest import GQL, SandboxControl, api_settings, count_rows

# flow -> {dialect: (SQL statements, PortOne requests)}
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "prepare an order (mutation)": {"sqlite": (4, 1), "postgresql": (4, 1)},
    "first credit, prepared order (mutation)": {"sqlite": (8, 1), "postgresql": (3, 1)},
    "first credit, no prepared order (mutation; the bench's charge)": {"sqlite": (8, 1), "postgresql": (3, 1)},
    "duplicate claim by the same user (mutation)": {"sqlite": (2, 0), "postgresql": (2, 0)},
    "mobile redirect, prepared order (credits its owner)": {"sqlite": (8, 1), "postgresql": (3, 1)},
    "webhook for an already-credited payment": {"sqlite": (10, 1), "postgresql": (10, 1)},
    "webhook first sighting, prepared order (credits its owner)": {"sqlite": (17, 1), "postgresql": (12, 1)},
    "webhook first sighting, no prepared order (recorded unowned)": {"sqlite": (20, 1), "postgresql": (18, 1)},
    "purchase of another user's item (mutation)": {"sqlite": (11, 0), "postgresql": (11, 0)},
    "full cancel of a credited charge (mutation)": {"sqlite": (17, 1), "postgresql": (17, 1)},
    "a page of 10 questions with their authors and item (query)": {"sqlite": (9, 0), "postgresql": (9, 0)},
    "item page: 10 sold items with seller, buyer and address (anonymous query)": {"sqlite": (9, 0), "postgresql": (9, 0)},
}

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id impUid amount balance status } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
ITEM = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id } }"
BUY = "mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { _id price soldAt } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { amount balance } }"
ASK = "mutation($id: ID!, $c: String!) { createUseditemQuestion(useditemId: $id, createUseditemQuestionInput: {contents: $c}) { _id } }"
QUESTIONS = "query($id: ID!) { fetchUseditemQuestions(useditemId: $id) { _id contents user { _id name } useditem { _id name } } }"


@dataclass
class Counted:
    statements: StatementLog
    portone: dict[str, int] = field(default_factory=dict)


@dataclass
class Harness:
    gql: GQL
    sandbox: SandboxControl
    database_url: str
    user_id: str
    _log: StatementLog
    counted: Counted | None = None

    @asynccontextmanager
    async def measure(self) -> AsyncIterator[None]:
        """Counts what the block sends (once per flow)."""
        assert self.counted is None, "a flow measures one block"
        await self.sandbox.http.delete("/_control/stats")
        self._log.clear()
        self._log.recording = True
        try:
            yield
        finally:
            self._log.recording = False
        self.counted = Counted(StatementLog(list(self._log.statements)), await self.sandbox.stats())

    async def charge(self, imp_uid: str) -> dict:
        result = await self.gql(CHARGE, {"i": imp_uid})
        assert "errors" not in result, result
        return result["data"]["createPointTransactionOfLoading"]

    async def prepare(self, amount: int) -> str:
        result = await self.gql(PREPARE, {"a": amount})
        assert "errors" not in result, result
        return result["data"]["preparePointCharge"]["merchantUid"]

    async def webhook(self, imp_uid: str, merchant_uid: str, status: str = "paid") -> None:
        response = await self.gql.client.post(
            "/webhooks/portone", json={"imp_uid": imp_uid, "merchant_uid": merchant_uid, "status": status}
        )
        assert response.status_code == 200 and response.json()["status"] == "accepted", response.text

    async def rows(self, sql: str, **params: object) -> int:
        return await count_rows(self.database_url, sql, **params)

    async def attempt_of_order(self, imp_uid: str, merchant_uid: str) -> int:
        """Paid attempts under ``imp_uid`` that point at this user's order ``merchant_uid``."""
        return await self.rows(
            "SELECT COUNT(*) FROM payments p JOIN orders o ON o.id = p.order_id"
            " WHERE p.payment_key = :i AND o.order_key = :m AND o.user_id = :u AND p.user_id = :u AND p.status = 'paid'",
            i=imp_uid, m=merchant_uid, u=self.user_id,
        )


FLOWS: dict[str, Callable[[Harness], Awaitable[None]]] = {}


def flow(name: str) -> Callable[[Callable[[Harness], Awaitable[None]]], Callable[[Harness], Awaitable[None]]]:
    def register(fn: Callable[[Harness], Awaitable[None]]) -> Callable[[Harness], Awaitable[None]]:
        FLOWS[name] = fn
        return fn

    return register


@flow("prepare an order (mutation)")
async def prepare_order(h: Harness) -> None:
    async with h.measure():
        merchant_uid = await h.prepare(5000)
    # an order is its own row (orders, migration 0004); no payment attempt exists before PortOne reports one
    assert await h.rows(
        "SELECT COUNT(*) FROM orders WHERE order_key = :m AND user_id = :u AND amount = 5000",
        m=merchant_uid, u=h.user_id,
    ) == 1
    assert await h.rows("SELECT COUNT(*) FROM payments WHERE order_key = :m", m=merchant_uid) == 0


@flow("first credit, prepared order (mutation)")
async def first_credit_prepared(h: Harness) -> None:
    merchant_uid = await h.prepare(5000)
    paid = await h.sandbox.pay(5000, merchant_uid=merchant_uid)
    async with h.measure():
        tx = await h.charge(paid["imp_uid"])
    assert tx["amount"] == 5000 and tx["status"] == "충전"
    assert await h.attempt_of_order(paid["imp_uid"], merchant_uid) == 1


@flow("first credit, no prepared order (mutation; the bench's charge)")
async def first_credit_codecamp(h: Harness) -> None:
    paid = await h.sandbox.pay(1000)
    async with h.measure():
        tx = await h.charge(paid["imp_uid"])
    assert tx["amount"] == 1000 and tx["status"] == "충전"


@flow("duplicate claim by the same user (mutation)")
async def duplicate_claim(h: Harness) -> None:
    paid = await h.sandbox.pay(1000)
    first = await h.charge(paid["imp_uid"])
    async with h.measure():
        again = await h.charge(paid["imp_uid"])
    assert again["_id"] == first["_id"]


@flow("mobile redirect, prepared order (credits its owner)")
async def redirect_prepared(h: Harness) -> None:
    merchant_uid = await h.prepare(5000)
    paid = await h.sandbox.pay(5000, merchant_uid=merchant_uid)
    async with h.measure():
        response = await h.gql.client.get(
            "/payments/complete", params={"imp_uid": paid["imp_uid"], "merchant_uid": merchant_uid, "imp_success": "true"}
        )
    assert response.status_code == 303 and "outcome=credited" in response.headers["location"], response.headers
    assert await h.rows(
        "SELECT COUNT(*) FROM point_transactions WHERE payment_key = :i AND user_id = :u", i=paid["imp_uid"], u=h.user_id
    ) == 1
    assert await h.attempt_of_order(paid["imp_uid"], merchant_uid) == 1


@flow("webhook for an already-credited payment")
async def webhook_already_credited(h: Harness) -> None:
    paid = await h.sandbox.pay(1000)
    tx = await h.charge(paid["imp_uid"])
    async with h.measure():
        await h.webhook(paid["imp_uid"], paid["merchant_uid"])
    assert await h.rows("SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'processed'") == 1
    assert await h.rows("SELECT COUNT(*) FROM point_transactions WHERE payment_key = :i", i=tx["impUid"]) == 1


@flow("webhook first sighting, prepared order (credits its owner)")
async def webhook_first_sighting_prepared(h: Harness) -> None:
    merchant_uid = await h.prepare(5000)
    paid = await h.sandbox.pay(5000, merchant_uid=merchant_uid)
    async with h.measure():
        await h.webhook(paid["imp_uid"], merchant_uid)
    assert await h.rows("SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'processed'") == 1
    assert await h.rows(
        "SELECT COUNT(*) FROM point_transactions WHERE payment_key = :i AND user_id = :u AND amount = 5000",
        i=paid["imp_uid"], u=h.user_id,
    ) == 1
    assert await h.attempt_of_order(paid["imp_uid"], merchant_uid) == 1


@flow("webhook first sighting, no prepared order (recorded unowned)")
async def webhook_first_sighting_unowned(h: Harness) -> None:
    paid = await h.sandbox.pay(3000)
    async with h.measure():
        await h.webhook(paid["imp_uid"], paid["merchant_uid"])
    assert await h.rows("SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'processed'") == 1
    assert await h.rows(
        "SELECT COUNT(*) FROM payments WHERE payment_key = :i AND user_id IS NULL AND order_id IS NULL AND status = 'paid'",
        i=paid["imp_uid"],
    ) == 1
    assert await h.rows("SELECT COUNT(*) FROM point_transactions WHERE payment_key = :i", i=paid["imp_uid"]) == 0


@flow("purchase of another user's item (mutation)")
async def purchase(h: Harness) -> None:
    buyer_token = h.gql.token
    seller_id = await h.gql.signup_and_login("seller@example.com", name="판매자")
    item = await h.gql(ITEM, {"i": {"name": "중고 자전거", "remarks": "거의 새것", "contents": "한 번 탔습니다.", "price": 3000}})
    assert "errors" not in item, item
    item_id = item["data"]["createUseditem"]["_id"]
    h.gql.token = buyer_token
    await h.charge((await h.sandbox.pay(5000))["imp_uid"])  # 6,000 with the warm-up's 1,000
    async with h.measure():
        bought = await h.gql(BUY, {"id": item_id})
    assert "errors" not in bought, bought
    assert bought["data"]["createPointTransactionOfBuyingAndSelling"]["_id"] == item_id
    assert await h.rows(
        "SELECT COUNT(*) FROM point_transactions WHERE user_id = :u AND amount = -3000 AND balance = 3000", u=h.user_id
    ) == 1
    assert await h.rows(
        "SELECT COUNT(*) FROM point_transactions WHERE user_id = :u AND amount = 3000 AND balance = 3000", u=seller_id
    ) == 1


@flow("full cancel of a credited charge (mutation)")
async def cancel(h: Harness) -> None:
    paid = await h.sandbox.pay(2000)
    await h.charge(paid["imp_uid"])
    async with h.measure():
        result = await h.gql(CANCEL, {"i": paid["imp_uid"]})
    assert "errors" not in result, result
    assert result["data"]["cancelPointTransaction"] == {"amount": -2000, "balance": 1000}
    assert (await h.sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 2000


@flow("a page of 10 questions with their authors and item (query)")
async def questions_page(h: Harness) -> None:
    item = await h.gql(ITEM, {"i": {"name": "중고 자전거", "remarks": "", "contents": "", "price": 3000}})
    item_id = item["data"]["createUseditem"]["_id"]
    # 12 questions by three users: the page holds 10 of them, by all three
    for n in range(3):
        await h.gql.signup_and_login(f"asker{n}@example.com", name=f"문의자{n}")
        for i in range(4):
            assert "errors" not in await h.gql(ASK, {"id": item_id, "c": f"문의 {n}-{i}"})
    async with h.measure():
        page = await h.gql(QUESTIONS, {"id": item_id})
    assert "errors" not in page, page
    questions = page["data"]["fetchUseditemQuestions"]
    assert len(questions) == 10 and {q["user"]["name"] for q in questions} == {"문의자0", "문의자1", "문의자2"}
    assert {q["useditem"]["_id"] for q in questions} == {item_id}


ITEM_PAGE = """{ fetchUseditems(isSoldout: true) {
  _id name remarks contents price tags images pickedCount soldAt createdAt
  seller { _id email name picture userPoint { amount } } buyer { _id email name picture }
  useditemAddress { _id zipcode address addressDetail lat lng }
} }"""


@flow("item page: 10 sold items with seller, buyer and address (anonymous query)")
async def item_page(h: Harness) -> None:
    # two sellers list five items each at 100; the user (1,000 from the warm-up) buys all ten
    buyer_token = h.gql.token
    for seller in ("seller1@example.com", "seller2@example.com"):
        await h.gql.signup_and_login(seller, name="판매자")
        for n in range(5):
            item = {"name": f"상품 {n}", "remarks": "요약", "contents": "설명", "price": 100,
                    "useditemAddress": {"zipcode": "06236", "address": "서울 강남구"}}
            created = await h.gql(ITEM, {"i": item})
            assert "errors" not in created, created
            bought = await h.gql(BUY, {"id": created["data"]["createUseditem"]["_id"]}, token=buyer_token)
            assert "errors" not in bought, bought
    async with h.measure():
        page = await h.gql(ITEM_PAGE, token="")
    items = page["data"]["fetchUseditems"]
    assert "errors" not in page and len(items) == 10, page
    # one batch each: the items, their sellers and buyers, their addresses; another user's e-mail masked
    assert {i["seller"]["email"] for i in items} == {"se***@example.com"}
    assert {i["buyer"]["_id"] for i in items} == {h.user_id} and all(i["seller"]["userPoint"] is None for i in items)
    assert all(i["useditemAddress"]["address"] == "서울 강남구" for i in items)


def test_every_flow_has_its_expected_counts() -> None:
    assert sorted(FLOWS) == sorted(EXPECTED)


def test_performance_doc_shows_these_counts() -> None:
    # given the table docs/PERFORMANCE.md shows between its COUNTS markers
    from bench import report

    doc = report.DOC.read_text()
    shown = doc.split("<!-- COUNTS:BEGIN -->\n", 1)[1].split("\n<!-- COUNTS:END -->", 1)[0]
    # then it is this module's EXPECTED, as `python -m bench counts` writes it
    assert report.expected_counts() == EXPECTED
    assert shown == report.statement_counts_table(), "run `python -m bench counts` after changing EXPECTED"


def _dialect(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_statement_and_portone_request_counts(name: str, clean_db: str, sandbox: SandboxControl) -> None:
    from api.app import create_app

    # given the API in-process, a logged-in user, and one warm-up charge (PortOne token, connections)
    app = create_app(api_settings(clean_db, sandbox))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            gql = GQL(client)
            user_id = await gql.signup_and_login()
            with record_statements(app.state.db.engine.sync_engine) as log:
                log.recording = False
                h = Harness(gql, sandbox, clean_db, user_id, log)
                await h.charge((await sandbox.pay(1000))["imp_uid"])

                # when the flow's request runs
                await FLOWS[name](h)

    # then it sent exactly the expected number of statements and PortOne requests
    assert h.counted is not None, f"flow {name!r} never called h.measure()"
    statements, portone = len(h.counted.statements), sum(h.counted.portone.values())
    expected = EXPECTED[name][_dialect(clean_db)]
    listing = "\n".join(h.counted.statements.lines())
    assert (statements, portone) == expected, (
        f"{name} on {_dialect(clean_db)}: {statements} statements and {portone} PortOne requests "
        f"{h.counted.portone}, expected {expected[0]} and {expected[1]} (update EXPECTED and "
        f"docs/PERFORMANCE.md if the change is meant). The statements:\n{listing}"
    )
