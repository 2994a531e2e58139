"""Malformed documents, abuse-shaped queries and the committed schema."""

from __future__ import annotations

import pytest

from pathlib import Path

from schema import build_schema
from services.settings import Settings
from tests.conftest import GQL, error_code, make_settings

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_code() -> None:
    # given the schema built from code; then it is what schema.graphql says (regenerate with
    # `python -m schema.export > schema.graphql`)
    assert SCHEMA_FILE.read_text(encoding="utf-8") == build_schema(Settings(_env_file=None)).as_str() + "\n"


async def test_malformed_graphql_is_a_parse_error(gql: GQL) -> None:
    result = await gql("{ fetchUserLoggedIn { _id ")
    assert error_code(result) == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_is_a_validation_error(gql: GQL) -> None:
    result = await gql("{ nope }")
    assert error_code(result) == "GRAPHQL_VALIDATION_FAILED"


async def test_bad_variable_is_bad_user_input(gql: GQL) -> None:
    result = await gql(
        "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }", {"i": {"email": 1}}
    )
    assert error_code(result) == "BAD_USER_INPUT"


async def test_hundred_level_nested_query_is_refused(gql: GQL) -> None:
    # given a 100-level nested selection (user → userPoint → user → …)
    query = "{ fetchUserLoggedIn { " + ("userPoint { user { " * 50) + "_id" + (" } }" * 50) + " } }"
    result = await gql(query)
    assert error_code(result) in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED")
    assert result.get("data") is None


@pytest.mark.parametrize(
    "query",
    [
        "{ fetchPointTransactionsByCursor(first: 1) { items { } nextCursor } }",
        "query($f: Int!) { fetchPointTransactionsByCursor(first: $f) { items { } } }",
        "{ }",
    ],
)
async def test_empty_selection_set_is_invalid_not_an_internal_error(gql: GQL, query: str) -> None:
    # given a document with an empty selection set (graphql-core parses it; found by the fuzzer)
    result = await gql(query)
    # then it is refused as invalid, and nothing runs
    assert error_code(result) == "GRAPHQL_VALIDATION_FAILED", result
    assert result.get("data") is None


async def test_alias_bomb_is_refused(gql: GQL) -> None:
    query = "{ " + " ".join(f"a{i}: fetchUserLoggedIn {{ _id }}" for i in range(100)) + " }"
    assert error_code(await gql(query)) == "GRAPHQL_VALIDATION_FAILED"


async def test_huge_document_is_refused(gql: GQL) -> None:
    query = "{ fetchUserLoggedIn { " + " ".join(["_id"] * 5000) + " } }"
    assert error_code(await gql(query)) == "GRAPHQL_PARSE_FAILED"


async def test_oversized_body_is_413(gql: GQL) -> None:
    response = await gql.client.post("/graphql", content=b"{" + b" " * 300_000 + b"}",
                                     headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_unexpected_errors_are_masked(gql: GQL, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given a service that blows up with an internal detail
    from services.auth import AuthService

    async def boom(self, *a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("SELECT secret FROM users -- password=hunter2")

    monkeypatch.setattr(AuthService, "login", boom)
    result = await gql('mutation { loginUser(email: "a@b.co", password: "x") { accessToken } }')
    assert error_code(result) == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in str(result) and "SELECT" not in str(result)


async def test_graphiql_served_in_sandbox(gql: GQL) -> None:
    response = await gql.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health(gql: GQL) -> None:
    assert (await gql.client.get("/healthz")).json() == {"status": "ok"}
    assert (await gql.client.get("/readyz")).json()["database"] == "up"


async def test_cors_allows_known_frontend_with_credentials(gql: GQL) -> None:
    response = await gql.client.options(
        "/graphql",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,authorization"},
    )
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    evil = await gql.client.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in evil.headers


async def test_production_hides_graphiql_and_introspection(clean_db: str) -> None:
    import httpx
    from asgi_lifespan import LifespanManager

    from api.app import create_app

    settings = make_settings(
        clean_db,
        mode="production",
        jwt_secret="x" * 48,
        portone_v1_base_url="https://api.iamport.kr",
        portone_imp_key="k",
        portone_imp_secret="s",
        allow_sqlite_in_production=True,  # the suite's database may be SQLite
    )
    app = create_app(settings)
    async with LifespanManager(app) as m:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t") as c:
            page = await c.get("/graphql", headers={"accept": "text/html"})
            assert page.status_code != 200 or "graphiql" not in page.text.lower()
            intro = (await c.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
            assert error_code(intro) == "GRAPHQL_VALIDATION_FAILED"
            assert (await c.get("/sandbox/portone/_control/config")).status_code == 404
