"""Issue 23 #1: a User that is not the caller never shows the real e-mail or the balance.

The rule lives in the User type (schema/types.py), so every way to reach a User obeys it; the walk
below finds those ways in the schema itself, so a query added later is checked without anyone
remembering to add it here."""

from __future__ import annotations

import json

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_non_null_type

from schema import build_schema
from schema.types import mask_email
from services.settings import Settings
from tests.conftest import GQL, SandboxControl, error_code
from tests.schema.market import BUY, Market, market, ok

USER_FIELDS = "_id email name picture userPoint { amount }"


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("hong@example.com", "ho***@example.com"),
        ("ab@x.kr", "a***@x.kr"),
        ("a@x.kr", "***@x.kr"),
        ("no-at-sign", "no***@invalid"),
    ],
)
def test_mask_email_keeps_the_shape_never_the_address(email: str, masked: str) -> None:
    assert mask_email(email) == masked


Path = tuple[tuple[str, str], ...]  # ((type, field), …) from Query


def user_paths(schema: GraphQLSchema) -> list[Path]:
    """Every path from Query to a User, each type at most once on a path, and one step on through a
    User (``…seller.userPoint.user``)."""
    found: list[Path] = []

    def walk(parent: GraphQLObjectType, path: Path, seen: frozenset[str]) -> None:
        for name, definition in parent.fields.items():
            target = get_named_type(definition.type)
            if not isinstance(target, GraphQLObjectType):
                continue
            step = (*path, (parent.name, name))
            if target.name == "User":
                found.append(step)
            if target.name not in seen:
                walk(target, step, seen | {target.name})

    assert schema.query_type is not None
    walk(schema.query_type, (), frozenset({"Query"}))
    return found


def _root_arguments(m: Market) -> dict[str, dict[str, object]]:
    """How to call the root fields that need arguments, or that show more with them."""
    return {
        "fetchUseditem": {"useditemId": m.sold[0]},
        "fetchUseditems": {"isSoldout": True},
        "fetchUseditemQuestions": {"useditemId": m.sold[0]},
        "fetchUseditemQuestionAnswers": {"useditemQuestionId": m.question},
    }


def _document(schema: GraphQLSchema, path: Path, arguments: dict[str, dict[str, object]]) -> str:
    root = path[0][1]
    given = arguments.get(root, {})
    assert schema.query_type is not None
    required = [
        name for name, arg in schema.query_type.fields[root].args.items()
        if is_non_null_type(arg.type) and arg.default_value is None and name not in given
    ]
    assert not required, f"Query.{root} needs {required}: add them to _root_arguments (and data to tests/schema/market.py)"
    args = ", ".join(f"{name}: {json.dumps(value)}" for name, value in given.items())
    head = f"{root}({args})" if args else root
    return "{ " + " { ".join((head, *(name for _, name in path[1:]))) + " { " + USER_FIELDS + " }" + " }" * (len(path) - 1) + " }"


def _users(data: object) -> list[dict]:
    if isinstance(data, list):
        return [u for item in data for u in _users(item)]
    if isinstance(data, dict):
        if "email" in data:
            return [data]
        return [u for value in data.values() for u in _users(value)]
    return []


def _check(user: dict, viewer_id: str | None, emails: dict[str, str], where: str) -> str:
    real = emails[user["_id"]]
    if user["_id"] == viewer_id:
        assert user["email"] == real and user["userPoint"] is not None, f"{where}: own view changed: {user}"
        return "own"
    assert user["email"] == mask_email(real) != real, f"{where}: another user's e-mail shown: {user}"
    assert user["userPoint"] is None, f"{where}: another user's balance shown: {user}"
    return "other"


async def test_every_path_to_a_user_hides_other_users_email_and_balance(api: GQL, sandbox: SandboxControl) -> None:
    # given the served schema, a market made through it, and every path from Query to a User
    schema = build_schema(Settings(_env_file=None))._schema
    assert schema.mutation_type is not None
    m = await market(api, sandbox, has_qna="createUseditemQuestion" in schema.mutation_type.fields)
    emails = {p.id: p.email for p in m.people}
    paths = user_paths(schema)
    names = {".".join(name for _, name in path) for path in paths}
    assert {"fetchUseditems.seller", "fetchUseditem.buyer.userPoint.user", "fetchPointTransactions.user"} <= names
    arguments = _root_arguments(m)
    viewers = [(None, ""), *((p.id, p.token) for p in m.people)]
    seen: dict[str, set[str]] = {}  # root field or "Type.field" of type User -> {"own", "other"}

    # when each path is read anonymously and by each of the three users
    for path in paths:
        document = _document(schema, path, arguments)
        for viewer_id, token in viewers:
            result = await api(document, token=token)
            if result.get("errors"):
                assert viewer_id is None and error_code(result) == "UNAUTHENTICATED", (document, result)
                continue
            # then another user is masked with no balance, and the caller sees themself as before
            for user in _users(result["data"]):
                view = _check(user, viewer_id, emails, f"{document} as {viewer_id or 'anonymous'}")
                seen.setdefault(path[0][1], set()).add(view)
                seen.setdefault(".".join(path[-1]), set()).add(view)

    # and every root field that leads to a User, and every field of type User in the schema's
    # types, was seen returning one (another user's wherever one can appear); mutations' answers:
    # the next test
    user_fields = {
        f"{t.name}.{name}" for t in schema.type_map.values() if isinstance(t, GraphQLObjectType)
        and t is not schema.mutation_type and not t.name.startswith("__")
        for name, d in t.fields.items() if get_named_type(d.type).name == "User"
    }
    unseen = sorted(({path[0][1] for path in paths} | user_fields) - set(seen))
    assert not unseen, f"no User reached through {unseen}: give tests/schema/market.py data for them"
    for field in ("Useditem.seller", "Useditem.buyer", "fetchUseditems", "fetchUseditem", "fetchUseditemsOfTheBest"):
        assert "other" in seen[field], field


async def test_anonymous_stranger_and_own_views(api: GQL, sandbox: SandboxControl) -> None:
    # given a seller whose item the buyer bought
    m = await market(api, sandbox, sold=1)
    page = "query($id: ID!) { fetchUseditem(useditemId: $id) { seller { %s } buyer { %s } } }" % (USER_FIELDS, USER_FIELDS)
    seller_seen = {"_id": m.seller.id, "email": "ho***@example.com", "name": "판매자", "picture": None, "userPoint": None}
    buyer_seen = {"_id": m.buyer.id, "email": "ki***@example.org", "name": "구매자", "picture": None, "userPoint": None}

    # when nobody is logged in, or a stranger is: both masked, no balance; _id, name, picture as they are
    for token in ("", m.stranger.token, "not-a-valid-token"):
        result = await api(page, {"id": m.sold[0]}, token=token)
        assert result["data"]["fetchUseditem"] == {"seller": seller_seen, "buyer": buyer_seen}, token

    # when the buyer looks: their own e-mail and balance, the seller's masked
    as_buyer = (await ok(api, page, {"id": m.sold[0]}, token=m.buyer.token))["fetchUseditem"]
    assert as_buyer["buyer"] == {**buyer_seen, "email": "kim.buyer@example.org", "userPoint": {"amount": 0}}
    assert as_buyer["seller"] == seller_seen
    # and the seller: the other way round
    as_seller = (await ok(api, page, {"id": m.sold[0]}, token=m.seller.token))["fetchUseditem"]
    assert as_seller["seller"] == {**seller_seen, "email": "hong.gildong@example.com", "userPoint": {"amount": 100}}
    assert as_seller["buyer"] == buyer_seen

    # the caller's own User is unchanged: fetchUserLoggedIn, the purchase's answer, the sign-up's answer
    me = "{ fetchUserLoggedIn { email userPoint { amount user { email userPoint { amount } } } } }"
    assert (await ok(api, me, token=m.seller.token))["fetchUserLoggedIn"] == {
        "email": "hong.gildong@example.com",
        "userPoint": {"amount": 100, "user": {"email": "hong.gildong@example.com", "userPoint": {"amount": 100}}},
    }
    retried = await ok(api, BUY.replace("{ _id }", "{ seller { email userPoint { amount } } buyer { email } }"),
                       {"id": m.sold[0]}, token=m.buyer.token)
    assert retried["createPointTransactionOfBuyingAndSelling"] == {
        "seller": {"email": "ho***@example.com", "userPoint": None}, "buyer": {"email": "kim.buyer@example.org"},
    }
    signup = "mutation($i: CreateUserInput!) { createUser(createUserInput: $i) { email userPoint { amount } } }"
    created = await ok(api, signup, {"i": {"email": "new@example.com", "password": "password123", "name": "새"}}, token="")
    assert created["createUser"] == {"email": "new@example.com", "userPoint": {"amount": 0}}
