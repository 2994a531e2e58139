"""Fuzzing the GraphQL endpoint of a running server (uvicorn over real HTTP, the sandbox behind it).

Documents come from hypothesis-graphql (valid queries and mutations generated from the committed
schema, with random arguments), from random edits of valid documents, from random text, and from
random JSON bodies and variables. Every answer must be:

* not a 5xx, and JSON;
* errors only with a stable ``extensions.code`` from the catalogue — never INTERNAL_SERVER_ERROR (a
  masked bug is still a bug) — and no traceback, SQL or driver name anywhere in the body;
* answered within ``MAX_LATENCY_S``.

CI budget: ``POINTCHARGE_FUZZ_EXAMPLES`` examples per strategy (default 50; the whole module runs
in well under a minute). A longer run: ``POINTCHARGE_FUZZ_EXAMPLES=2000 pytest tests/reliability/test_fuzz_graphql.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis_graphql import mutations as gql_mutations, queries as gql_queries
from hypothesis_graphql import nodes

from services.errors import Code
from tests.conftest import SandboxControl, api_settings, wipe_tables

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text(encoding="utf-8")
EXAMPLES = int(os.environ.get("POINTCHARGE_FUZZ_EXAMPLES", "50"))
MAX_LATENCY_S = float(os.environ.get("POINTCHARGE_FUZZ_MAX_LATENCY_S", "5"))
ALLOWED_CODES = {v for k, v in vars(Code).items() if k.isupper() and isinstance(v, str)} - {
    Code.INTERNAL_SERVER_ERROR
} | {"PAYLOAD_TOO_LARGE"}
LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "aiosqlite", "psycopg", "SELECT ", "INSERT INTO",
         "UPDATE payments", "strawberry/", "site-packages")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",  # CI: reproducible; locally: new examples each run
    suppress_health_check=list(HealthCheck),
    database=None,
)
DATE = st.datetimes().map(lambda d: d.isoformat())


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[httpx.Client, str]]:
    from api.app import create_app
    from sandbox.portone.app import create_app as create_sandbox
    from sandbox.portone.config import SandboxConfig
    from tests.servers import run_server

    asyncio.run(wipe_tables(database_url))
    config = SandboxConfig(webhook_url=None, v2_webhook_url=None)
    with run_server(create_sandbox(config)) as sandbox_url:
        sandbox = SandboxControl(sandbox_url, config)
        with run_server(create_app(api_settings(database_url, sandbox))) as url:
            with httpx.Client(base_url=url, timeout=30) as http:
                email, password = "fuzz@example.com", "password123"
                http.post("/graphql", json={"query": "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
                                            "variables": {"i": {"email": email, "password": password, "name": "퍼저"}}})
                login = http.post("/graphql", json={
                    "query": "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }",
                    "variables": {"e": email, "p": password}}).json()
                yield http, login["data"]["loginUser"]["accessToken"]
        asyncio.run(sandbox.http.aclose())
    asyncio.run(wipe_tables(database_url))


def check(http: httpx.Client, body: object, *, token: str | None, raw: bytes | None = None) -> dict | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    if raw is not None:
        response = http.post("/graphql", content=raw, headers={**headers, "content-type": "application/json"})
    else:
        response = http.post("/graphql", json=body, headers=headers)
    elapsed = time.monotonic() - started
    text = response.text
    assert response.status_code < 500, (response.status_code, text[:500], body)
    assert elapsed < MAX_LATENCY_S, (elapsed, body)
    for leak in LEAKS:
        assert leak not in text, (leak, text[:1000], body)
    if response.status_code == 413:
        return None
    data = response.json()
    assert isinstance(data, dict), text[:300]
    for error in data.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in ALLOWED_CODES, (code, error, body)
    return data


# --- valid documents, random arguments -----------------------------------------------------------

# Upload: a JSON request can only inline a literal (uploadFile answers BAD_USER_INPUT); files come as multipart.
CUSTOM = {"DateTime": DATE, "Upload": st.text(max_size=20).map(nodes.String)}


@FUZZ
@given(query=gql_queries(SCHEMA, custom_scalars=CUSTOM), authenticated=st.booleans())
def test_fuzz_valid_queries(server: tuple[httpx.Client, str], query: str, authenticated: bool) -> None:
    http, token = server
    check(http, {"query": query}, token=token if authenticated else None)


@FUZZ
@given(mutation=gql_mutations(SCHEMA, custom_scalars=CUSTOM), authenticated=st.booleans())
def test_fuzz_valid_mutations(server: tuple[httpx.Client, str], mutation: str, authenticated: bool) -> None:
    http, token = server
    check(http, {"query": mutation}, token=token if authenticated else None)


# --- invalid documents ---------------------------------------------------------------------------

VALID = [
    "{ fetchUserLoggedIn { _id email userPoint { amount } } }",
    "query($s: String, $p: Int) { fetchPointTransactionsOfLoading(search: $s, page: $p) { _id amount impUid } }",
    "query($f: Int!, $a: String) { fetchPointTransactionsByCursor(first: $f, after: $a) { items { _id } nextCursor } }",
    "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid amount } }",
    "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }",
    "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { _id } }",
    "mutation($i: UpdateUserInput!) { updateUser(updateUserInput: $i) { name picture } }",
    "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id price tags useditemAddress { lat } } }",
    "mutation($i: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $i) { _id price buyer { _id } } }",
    "query($s: String, $p: Int, $a: Boolean) { fetchUseditems(search: $s, page: $p, isSoldout: $a) { _id name } }",
    "mutation($i: ID!, $s: String!) { createUseditemQuestion(useditemId: $i, createUseditemQuestionInput: {contents: $s}) { _id user { name } } }",
    "query($i: ID!, $p: Int) { fetchUseditemQuestions(useditemId: $i, page: $p) { _id contents useditem { _id } } }",
]


@st.composite
def edited(draw: st.DrawFn) -> str:
    doc = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(doc)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            doc = doc[:pos] + doc[pos + draw(st.integers(1, 6)):]
        elif action == "insert":
            doc = doc[:pos] + draw(st.text(alphabet="{}()[]$:!@#,.\"'\\ \n\tabc_0123456789é한", max_size=8)) + doc[pos:]
        else:
            doc = doc[:pos] + doc[max(0, pos - 10):pos] + doc[pos:]
    return doc


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(doc=edited() | st.text(max_size=300), variables=st.none() | st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3),
       authenticated=st.booleans())
def test_fuzz_invalid_documents(server: tuple[httpx.Client, str], doc: str, variables: dict | None, authenticated: bool) -> None:
    http, token = server
    check(http, {"query": doc, "variables": variables}, token=token if authenticated else None)


@FUZZ
@given(doc=st.sampled_from(VALID), variables=st.dictionaries(st.sampled_from(["s", "p", "f", "a", "i", "x"]), JSON_VALUES, max_size=4),
       authenticated=st.booleans())
def test_fuzz_random_variables(server: tuple[httpx.Client, str], doc: str, variables: dict, authenticated: bool) -> None:
    http, token = server
    check(http, {"query": doc, "variables": variables}, token=token if authenticated else None)


@FUZZ
@given(body=JSON_VALUES | st.binary(max_size=200).map(lambda b: {"__raw__": b}))
def test_fuzz_random_bodies(server: tuple[httpx.Client, str], body: object) -> None:
    http, token = server
    if isinstance(body, dict) and "__raw__" in body:
        check(http, None, token=token, raw=body["__raw__"])
    else:
        check(http, None, token=token, raw=json.dumps(body).encode())
