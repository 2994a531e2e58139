"""A small market for the privacy and cost tests, made through the API the way users make it: a
seller lists items, a buyer charges at the sandbox and buys some, picks another; with the Q&A
mutations present (the contract of issue 23's sibling branch), a question and an answer too."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import GQL, SandboxControl

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id } }"
CREATE = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id } }"
BUY = "mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { _id } }"
PICK = "mutation($id: ID!) { toggleUseditemPick(useditemId: $id) }"
QUESTION = """mutation($id: ID!) {
  createUseditemQuestion(createUseditemQuestionInput: {contents: "아직 있나요?"}, useditemId: $id) { _id } }"""
ANSWER = """mutation($id: ID!) {
  createUseditemQuestionAnswer(createUseditemQuestionAnswerInput: {contents: "네"}, useditemQuestionId: $id) { _id } }"""


@dataclass
class Person:
    id: str
    email: str
    token: str


@dataclass
class Market:
    seller: Person
    buyer: Person
    stranger: Person
    sold: list[str] = field(default_factory=list)  # bought by the buyer, newest last
    unsold: str = ""  # picked by the buyer
    question: str | None = None  # the buyer's question on sold[0], answered by the seller

    @property
    def people(self) -> list[Person]:
        return [self.seller, self.buyer, self.stranger]


async def ok(gql: GQL, query: str, variables: dict | None = None, *, token: str) -> dict:
    result = await gql(query, variables, token=token)
    assert "errors" not in result, result
    return result["data"]


async def person(gql: GQL, email: str, name: str) -> Person:
    user_id = await gql.signup_and_login(email, name=name)
    assert gql.token is not None
    return Person(user_id, email, gql.token)


async def market(gql: GQL, sandbox: SandboxControl, *, sold: int = 2, has_qna: bool = False) -> Market:
    m = Market(
        seller=await person(gql, "hong.gildong@example.com", "판매자"),
        buyer=await person(gql, "kim.buyer@example.org", "구매자"),
        stranger=await person(gql, "lee@example.net", "구경꾼"),
    )
    paid = await sandbox.pay(100 * sold)
    await ok(gql, CHARGE, {"i": paid["imp_uid"]}, token=m.buyer.token)
    for n in range(sold + 1):
        item = {"name": f"상품 {n}", "remarks": "요약", "contents": "설명", "price": 100,
                "useditemAddress": {"zipcode": "06236", "address": "서울 강남구", "addressDetail": "1층"}}
        item_id = (await ok(gql, CREATE, {"i": item}, token=m.seller.token))["createUseditem"]["_id"]
        if n < sold:
            await ok(gql, BUY, {"id": item_id}, token=m.buyer.token)
            m.sold.append(item_id)
        else:
            await ok(gql, PICK, {"id": item_id}, token=m.buyer.token)
            m.unsold = item_id
    if has_qna:
        asked = await ok(gql, QUESTION, {"id": m.sold[0]}, token=m.buyer.token)
        m.question = asked["createUseditemQuestion"]["_id"]
        await ok(gql, ANSWER, {"id": m.question}, token=m.seller.token)
    return m
