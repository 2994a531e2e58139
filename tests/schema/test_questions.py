"""Item Q&A (codecamp's UseditemQuestion / UseditemQuestionAnswer) over the GraphQL endpoint, the
way a codecamp-style React/Apollo item page calls it."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.conftest import GQL, count_rows, error_code, make_settings

ITEM = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id } }"
ASK = """mutation($c: String!, $id: ID!) {
  createUseditemQuestion(createUseditemQuestionInput: {contents: $c}, useditemId: $id) {
    _id contents createdAt updatedAt deletedAt useditem { _id name } user { _id name }
  }
}"""
EDIT = """mutation($c: String!, $id: ID!) {
  updateUseditemQuestion(updateUseditemQuestionInput: {contents: $c}, useditemQuestionId: $id) { _id contents }
}"""
DROP = "mutation($id: ID!) { deleteUseditemQuestion(useditemQuestionId: $id) }"
QUESTIONS = """query($id: ID!, $p: Int) {
  fetchUseditemQuestions(useditemId: $id, page: $p) { _id contents user { name } useditem { _id } }
}"""
ANSWER = """mutation($c: String!, $id: ID!) {
  createUseditemQuestionAnswer(createUseditemQuestionAnswerInput: {contents: $c}, useditemQuestionId: $id) {
    _id contents createdAt deletedAt user { _id name } useditemQuestion { _id contents useditem { name } }
  }
}"""
EDIT_ANSWER = """mutation($c: String!, $id: ID!) {
  updateUseditemQuestionAnswer(updateUseditemQuestionAnswerInput: {contents: $c}, useditemQuestionAnswerId: $id) { _id contents }
}"""
DROP_ANSWER = "mutation($id: ID!) { deleteUseditemQuestionAnswer(useditemQuestionAnswerId: $id) }"
ANSWERS = """query($id: ID!, $p: Int) {
  fetchUseditemQuestionAnswers(useditemQuestionId: $id, page: $p) { _id contents user { name } useditemQuestion { _id } }
}"""


async def login_as(gql: GQL, email: str, name: str) -> str:
    await gql.signup_and_login(email, name=name)
    assert gql.token is not None
    return gql.token


async def item_of(gql: GQL, seller: str, **fields: object) -> str:
    values = {"name": "중고 자전거", "remarks": "거의 새것", "contents": "한 번 탔습니다.", "price": 3000, **fields}
    result = await gql(ITEM, {"i": values}, token=seller)
    assert "errors" not in result, result
    return result["data"]["createUseditem"]["_id"]


async def ok(gql: GQL, query: str, variables: dict, token: str) -> dict:
    result = await gql(query, variables, token=token)
    assert "errors" not in result, result
    return result["data"]


@pytest.fixture
async def market(gql: GQL) -> dict[str, str]:
    """A seller with an item and a buyer who may ask about it."""
    seller = await login_as(gql, "seller@example.com", "판매자")
    buyer = await login_as(gql, "buyer@example.com", "구매자")
    return {"seller": seller, "buyer": buyer, "item": await item_of(gql, seller)}


async def test_ask_answer_edit_and_delete(gql: GQL, market: dict[str, str], clean_db: str) -> None:
    seller, buyer, item = market["seller"], market["buyer"], market["item"]
    # given a buyer's question on the item
    asked = (await ok(gql, ASK, {"c": "  네고 되나요?  ", "id": item}, buyer))["createUseditemQuestion"]
    assert asked["contents"] == "네고 되나요?" and asked["deletedAt"] is None
    assert asked["useditem"] == {"_id": item, "name": "중고 자전거"} and asked["user"]["name"] == "구매자"
    question = asked["_id"]
    # when the seller answers it
    answered = (await ok(gql, ANSWER, {"c": "아니요, 정가입니다.", "id": question}, seller))["createUseditemQuestionAnswer"]
    # then both are listed, publicly, with their authors
    assert answered["user"]["name"] == "판매자"
    assert answered["useditemQuestion"] == {"_id": question, "contents": "네고 되나요?", "useditem": {"name": "중고 자전거"}}
    listed = (await ok(gql, QUESTIONS, {"id": item}, ""))["fetchUseditemQuestions"]
    assert listed == [{"_id": question, "contents": "네고 되나요?", "user": {"name": "구매자"}, "useditem": {"_id": item}}]
    answers = (await ok(gql, ANSWERS, {"id": question}, ""))["fetchUseditemQuestionAnswers"]
    assert answers == [{"_id": answered["_id"], "contents": "아니요, 정가입니다.", "user": {"name": "판매자"},
                        "useditemQuestion": {"_id": question}}]
    # a third user may ask and answer too (the codecamp API allows it)
    third = await login_as(gql, "third@example.com", "셋째")
    assert "errors" not in await gql(ANSWER, {"c": "저도 궁금해요", "id": question}, token=third)

    # only the authors edit and delete; others get FORBIDDEN and change nothing
    for query, row_id in ((EDIT, question), (EDIT_ANSWER, answered["_id"])):
        assert error_code(await gql(query, {"c": "바꿈", "id": row_id}, token=third)) == "FORBIDDEN"
    assert error_code(await gql(DROP, {"id": question}, token=seller)) == "FORBIDDEN"
    assert error_code(await gql(DROP_ANSWER, {"id": answered["_id"]}, token=buyer)) == "FORBIDDEN"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_questions WHERE contents = '네고 되나요?' AND deleted_at IS NULL") == 1
    edited = await ok(gql, EDIT, {"c": "만 원 깎아 주세요", "id": question}, buyer)
    assert edited["updateUseditemQuestion"] == {"_id": question, "contents": "만 원 깎아 주세요"}
    edited = await ok(gql, EDIT_ANSWER, {"c": "안 됩니다", "id": answered["_id"]}, seller)
    assert edited["updateUseditemQuestionAnswer"] == {"_id": answered["_id"], "contents": "안 됩니다"}

    # deleting an answer returns its id as a string and hides it
    assert (await ok(gql, DROP_ANSWER, {"id": answered["_id"]}, seller)) == {"deleteUseditemQuestionAnswer": answered["_id"]}
    answers = (await ok(gql, ANSWERS, {"id": question}, ""))["fetchUseditemQuestionAnswers"]
    assert [a["contents"] for a in answers] == ["저도 궁금해요"]
    assert error_code(await gql(EDIT_ANSWER, {"c": "다시", "id": answered["_id"]}, token=seller)) == "NOT_FOUND"
    assert error_code(await gql(DROP_ANSWER, {"id": answered["_id"]}, token=seller)) == "NOT_FOUND"
    # deleting the question returns its id, hides it, and its answers can no longer be listed or added
    assert (await ok(gql, DROP, {"id": question}, buyer)) == {"deleteUseditemQuestion": question}
    assert (await ok(gql, QUESTIONS, {"id": item}, ""))["fetchUseditemQuestions"] == []
    assert error_code(await gql(ANSWERS, {"id": question})) == "NOT_FOUND"
    assert error_code(await gql(ANSWER, {"c": "늦은 답변", "id": question}, token=seller)) == "NOT_FOUND"
    assert error_code(await gql(EDIT, {"c": "다시", "id": question}, token=buyer)) == "NOT_FOUND"
    # soft deletes: the rows are still there, marked
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_questions WHERE deleted_at IS NOT NULL") == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_question_answers WHERE deleted_at IS NOT NULL") == 1


async def test_pages_of_ten_newest_first(gql: GQL, market: dict[str, str]) -> None:
    # given 12 questions on the item and 11 answers to the first
    item, buyer, seller = market["item"], market["buyer"], market["seller"]
    ids = [(await ok(gql, ASK, {"c": f"문의 {i:02d}", "id": item}, buyer))["createUseditemQuestion"]["_id"] for i in range(12)]
    for i in range(11):
        await ok(gql, ANSWER, {"c": f"답변 {i:02d}", "id": ids[0]}, seller)
    # then they come 10 a page, newest first
    page1 = (await ok(gql, QUESTIONS, {"id": item}, ""))["fetchUseditemQuestions"]
    page2 = (await ok(gql, QUESTIONS, {"id": item, "p": 2}, ""))["fetchUseditemQuestions"]
    assert [q["contents"] for q in page1 + page2] == [f"문의 {i:02d}" for i in reversed(range(12))]
    assert len(page1) == 10
    answers1 = (await ok(gql, ANSWERS, {"id": ids[0]}, ""))["fetchUseditemQuestionAnswers"]
    answers2 = (await ok(gql, ANSWERS, {"id": ids[0], "p": 2}, ""))["fetchUseditemQuestionAnswers"]
    assert [a["contents"] for a in answers1 + answers2] == [f"답변 {i:02d}" for i in reversed(range(11))]
    assert error_code(await gql(QUESTIONS, {"id": item, "p": 0})) == "BAD_USER_INPUT"


async def test_deleted_or_missing_item(gql: GQL, market: dict[str, str]) -> None:
    item, buyer, seller = market["item"], market["buyer"], market["seller"]
    question = (await ok(gql, ASK, {"c": "아직 있나요?", "id": item}, buyer))["createUseditemQuestion"]["_id"]
    # when the seller deletes the item
    assert "errors" not in await gql("mutation($id: ID!) { deleteUseditem(useditemId: $id) }", {"id": item}, token=seller)
    # then its questions are NOT_FOUND: listing, asking, answering, changing
    assert error_code(await gql(QUESTIONS, {"id": item})) == "NOT_FOUND"
    assert error_code(await gql(ASK, {"c": "여전히?", "id": item}, token=buyer)) == "NOT_FOUND"
    assert error_code(await gql(ANSWER, {"c": "네", "id": question}, token=seller)) == "NOT_FOUND"
    assert error_code(await gql(EDIT, {"c": "바꿈", "id": question}, token=buyer)) == "NOT_FOUND"
    # and so are unknown or malformed ids
    for bad in ("0" * 32, "nope", "\x00"):
        assert error_code(await gql(QUESTIONS, {"id": bad})) == "NOT_FOUND", bad
        assert error_code(await gql(ASK, {"c": "?", "id": bad}, token=buyer)) == "NOT_FOUND", bad
        assert error_code(await gql(ANSWERS, {"id": bad})) == "NOT_FOUND", bad
        assert error_code(await gql(DROP_ANSWER, {"id": bad}, token=buyer)) == "NOT_FOUND", bad


@pytest.mark.parametrize("contents", ["", "   ", "\x00\x01", "가" * 1001])
async def test_contents_are_length_limited(gql: GQL, market: dict[str, str], clean_db: str, contents: str) -> None:
    result = await gql(ASK, {"c": contents, "id": market["item"]}, token=market["buyer"])
    assert error_code(result) == "BAD_USER_INPUT" and result["errors"][0]["extensions"]["field"] == "contents"
    assert any("가" <= ch <= "힣" for ch in result["errors"][0]["message"])
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_questions") == 0


async def test_anonymous_and_logged_out_callers_cannot_write(gql: GQL, market: dict[str, str], clean_db: str) -> None:
    item = market["item"]
    question = (await ok(gql, ASK, {"c": "질문", "id": item}, market["buyer"]))["createUseditemQuestion"]["_id"]
    answer = (await ok(gql, ANSWER, {"c": "답변", "id": question}, market["seller"]))["createUseditemQuestionAnswer"]["_id"]
    writes = [
        (ASK, {"c": "x", "id": item}), (EDIT, {"c": "x", "id": question}), (DROP, {"id": question}),
        (ANSWER, {"c": "x", "id": question}), (EDIT_ANSWER, {"c": "x", "id": answer}), (DROP_ANSWER, {"id": answer}),
    ]
    # anonymous
    for query, variables in writes:
        assert error_code(await gql(query, variables, token="")) == "UNAUTHENTICATED", query
    # a token whose login was ended (the client holds the buyer's refresh cookie: the last login)
    stolen = market["buyer"]
    assert (await gql("mutation { logoutUser }", token=stolen))["data"]["logoutUser"] is True
    for query, variables in writes:
        assert error_code(await gql(query, variables, token=stolen)) == "UNAUTHENTICATED", query
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_questions WHERE contents = '질문' AND deleted_at IS NULL") == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_question_answers WHERE contents = '답변' AND deleted_at IS NULL") == 1


async def test_questions_count_against_the_item_rate_limit(clean_db: str) -> None:
    from api.app import create_app

    # given item writes limited to 3 a minute per user
    app = create_app(make_settings(clean_db, rate_limit_item="3/minute"))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            gql = GQL(client)
            seller = await login_as(gql, "seller@example.com", "판매자")
            item = await item_of(gql, seller)  # 1
            question = (await ok(gql, ASK, {"c": "질문", "id": item}, seller))["createUseditemQuestion"]["_id"]  # 2
            await ok(gql, ANSWER, {"c": "답변", "id": question}, seller)  # 3
            # when the seller writes a fourth time in the minute
            result = await gql(ASK, {"c": "또 질문", "id": item}, token=seller)
            # then it is refused, and another user is not affected
            assert error_code(result) == "RATE_LIMITED"
            buyer = await login_as(gql, "buyer@example.com", "구매자")
            await ok(gql, ASK, {"c": "구매자 질문", "id": item}, buyer)
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_questions") == 2
