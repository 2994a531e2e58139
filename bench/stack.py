"""The stack floor (``POST /graphql`` of bench/floor.py): the floor's charge behind the libraries
this project prescribes, and nothing of pointcharge's own.

Strawberry (with its parser and validation caches) answers pointcharge's mutation,
``createPointTransactionOfLoading(impUid: ID!) { _id impUid amount balance status }``, and the
PortOne GET goes through an ``httpx.AsyncClient`` on the httpx-aiohttp transport, as in pointcharge.
No JWT (``Authorization: Bearer <user_id>`` is taken as is), no revocation or duplicate checks, no
rate limit, no ORM, no logging, no metrics: the distance from the floor to here is what the
prescribed libraries cost; from here to pointcharge, what pointcharge adds.
"""

import uuid
from typing import Any

import httpx
import strawberry
from httpx_aiohttp import AiohttpTransport
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from bench.floor import PortOne


class HttpxPortOne(PortOne):
    """The floor's PortOne GET, through httpx on aiohttp's pool (as pointcharge's client)."""

    async def open(self) -> None:
        self.client = httpx.AsyncClient(
            transport=AiohttpTransport(limits=httpx.Limits(max_connections=100)), timeout=10
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def _post(self, url: str, body: dict) -> dict:
        return (await self.client.post(url, json=body)).json()

    async def _get(self, url: str, headers: dict[str, str]) -> tuple[int, dict]:
        r = await self.client.get(url, headers=headers)
        return r.status_code, r.json()


@strawberry.type
class PointTransaction:
    id: strawberry.ID = strawberry.field(name="_id")
    imp_uid: str
    amount: int
    balance: int
    status: str


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_point_transaction_of_loading(self, info: Info, imp_uid: strawberry.ID) -> PointTransaction:
        ctx = info.context
        user_id = ctx["request"].headers["authorization"].removeprefix("Bearer ")
        payment = await ctx["portone"].payment(imp_uid)
        if payment["status"] != "paid" or payment.get("currency", "KRW") != "KRW":
            raise ValueError("not paid")
        amount = int(payment["amount"])
        balance = await ctx["store"].credit(user_id, imp_uid, amount)
        return PointTransaction(
            id=strawberry.ID(uuid.uuid4().hex), imp_uid=imp_uid, amount=amount, balance=balance, status="충전"
        )


SCHEMA = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)


class StackGraphQL(GraphQL):
    def __init__(self, store: Any, portone: HttpxPortOne) -> None:
        super().__init__(SCHEMA, graphql_ide=None)
        self.store, self.portone = store, portone

    async def get_context(self, request: Request, response: Response) -> dict[str, Any]:  # type: ignore[override]
        return {"request": request, "response": response, "store": self.store, "portone": self.portone}
