"""Abuse cases not covered elsewhere (docs/RELIABILITY.md lists which test covers which case):
revoked access tokens, batched requests, login brute force (per account, per IP, shared through
Redis), charging floods, chunked oversized bodies, SQL-looking searches, CORS on real requests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest

from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code

LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
ME = "{ fetchUserLoggedIn { _id userPoint { amount } } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { _id } }"
HISTORY = "query($s: String) { fetchPointTransactionsOfLoading(search: $s) { impUid amount } }"
SIGNUP = "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }"


@pytest.fixture
async def limited(clean_db: str, sandbox: SandboxControl, request: pytest.FixtureRequest) -> AsyncIterator[GQL]:
    """The API over real HTTP with small rate limits (overrides from the test's ``limits`` marker)."""
    from api.app import create_app
    from tests.servers import run_server

    marker = request.node.get_closest_marker("limits")
    overrides = dict(marker.kwargs) if marker else {}
    with run_server(create_app(api_settings(clean_db, sandbox, **overrides))) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield GQL(http)


# --- revoked access tokens ------------------------------------------------------------------------


async def test_logout_revokes_the_access_token_for_money_moving_mutations(api: GQL, sandbox: SandboxControl) -> None:
    # given a logged-in user with a credited charge, and a copy of their access token (stolen, say)
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"i": paid["imp_uid"]})) is None
    stolen = api.token
    # when they log out
    assert (await api("mutation { logoutUser }"))["data"]["logoutUser"] is True
    # then the token can no longer move money: prepare, charge, cancel
    other = await sandbox.pay(1000)
    assert error_code(await api(PREPARE, {"a": 5000}, token=stolen)) == "UNAUTHENTICATED"
    assert error_code(await api(CHARGE, {"i": other["imp_uid"]}, token=stolen)) == "UNAUTHENTICATED"
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"]}, token=stolen)) == "UNAUTHENTICATED"
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 0
    # (reads stay stateless until the token expires, at most 30 minutes: the documented policy)
    assert error_code(await api(ME, token=stolen)) is None


async def test_password_reset_revokes_every_other_login(api: GQL, sandbox: SandboxControl) -> None:
    # given the same user logged in on two devices
    await api.signup_and_login("kim@example.com", "password123")
    device_a = api.token
    login = await api(LOGIN, {"e": "kim@example.com", "p": "password123"})
    device_b = login["data"]["loginUser"]["accessToken"]
    assert error_code(await api(PREPARE, {"a": 5000}, token=device_b)) is None
    # when device A resets the password
    assert error_code(await api('mutation { resetUserPassword(password: "newpassword1") }', token=device_a)) is None
    # then device B's access token no longer moves money, nor resets the password again …
    assert error_code(await api(PREPARE, {"a": 5000}, token=device_b)) == "UNAUTHENTICATED"
    assert error_code(await api('mutation { resetUserPassword(password: "newpassword2") }', token=device_b)) == "UNAUTHENTICATED"
    # … while device A, which made the change, stays logged in (issue 18)
    assert error_code(await api(PREPARE, {"a": 5000}, token=device_a)) is None
    # and a fresh login does
    fresh = (await api(LOGIN, {"e": "kim@example.com", "p": "newpassword1"}))["data"]["loginUser"]["accessToken"]
    assert error_code(await api(PREPARE, {"a": 5000}, token=fresh)) is None


async def test_tokens_without_a_login_family_or_of_another_type_are_refused(api: GQL, settings) -> None:  # type: ignore[no-untyped-def]
    user_id = await api.signup_and_login()
    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    # a validly signed token minted without a login family (e.g. by an old release) can read …
    no_family = jwt.encode({"sub": user_id, "typ": "access", "iat": now, "exp": now + 600}, secret)
    assert error_code(await api(ME, token=no_family)) is None
    # … but not move money
    assert error_code(await api(PREPARE, {"a": 5000}, token=no_family)) == "UNAUTHENTICATED"
    # and a token of another type, or with a wrong key, is refused everywhere
    refresh_typed = jwt.encode({"sub": user_id, "typ": "refresh", "iat": now, "exp": now + 600}, secret)
    wrong_key = jwt.encode({"sub": user_id, "typ": "access", "iat": now, "exp": now + 600, "fam": "x"}, "k" * 48)
    for token in (refresh_typed, wrong_key):
        assert error_code(await api(ME, token=token)) == "UNAUTHENTICATED"


# --- batched requests ------------------------------------------------------------------------------


async def test_batched_requests_are_refused_and_nothing_runs(gql: GQL, clean_db: str) -> None:
    # given a JSON array of operations (a batch), one of them a mutation
    batch = [
        {"query": ME},
        {"query": SIGNUP, "variables": {"i": {"email": "batch@example.com", "password": "password123", "name": "x"}}},
    ] * 50
    response = await gql.client.post("/graphql", json=batch)
    # then it is refused as a whole, with a JSON error and a code, and nothing was executed
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM users") == 0


async def test_requests_that_are_not_graphql_get_a_json_400(gql: GQL) -> None:
    bodies = [b"", b"null", b"42", b'"query"', b"\xff\xfe{", b'{"query": 1}', b'{"query": "{ __typename }", "variables": []}']
    for raw in bodies:
        response = await gql.client.post("/graphql", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400, raw
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", raw
    wrong_type = await gql.client.post("/graphql", content=b"query=x", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 400 and wrong_type.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- login brute force -----------------------------------------------------------------------------


async def _failures(api: GQL, email: str, n: int) -> list[str | None]:
    return [error_code(await api(LOGIN, {"e": email, "p": f"wrong-{i}-password"})) for i in range(n)]


async def test_login_brute_force_is_limited_per_account(api: GQL) -> None:
    # given an account (default limit: 5 failed logins a minute per account)
    await api.signup_and_login("victim@example.com", "password123")
    # when someone tries 7 wrong passwords
    codes = await _failures(api, "victim@example.com", 7)
    # then the 6th and later attempts are refused before any password check …
    assert codes[:5] == ["UNAUTHENTICATED"] * 5 and codes[5:] == ["RATE_LIMITED"] * 2
    limited = await api(LOGIN, {"e": "victim@example.com", "p": "password123"})
    assert error_code(limited) == "RATE_LIMITED"  # … even with the right one, for a while
    assert limited["errors"][0]["extensions"]["retryAfter"] > 0
    # and other accounts are unaffected
    await api.signup_and_login("bystander@example.com", "password123")
    assert error_code(await api(LOGIN, {"e": "bystander@example.com", "p": "password123"})) is None


@pytest.mark.limits(rate_limit_login_ip="8/minute", rate_limit_login_account="100/minute")
async def test_login_brute_force_is_limited_per_ip(limited: GQL) -> None:
    # given one address spraying passwords over many accounts (IP limit 8 failures a minute here)
    codes = [error_code(await limited(LOGIN, {"e": f"user{i}@example.com", "p": "password123"})) for i in range(10)]
    assert codes[:8] == ["UNAUTHENTICATED"] * 8 and codes[8:] == ["RATE_LIMITED"] * 2
    # and while the address is over its limit, even a right password from it is refused
    created = await limited(SIGNUP, {"i": {"email": "real@example.com", "password": "password123", "name": "x"}})
    assert error_code(created) is None
    assert error_code(await limited(LOGIN, {"e": "real@example.com", "p": "password123"})) == "RATE_LIMITED"


async def test_successful_logins_are_not_counted(api: GQL) -> None:
    await api.signup_and_login("often@example.com", "password123")
    for _ in range(12):
        assert error_code(await api(LOGIN, {"e": "often@example.com", "p": "password123"})) is None


async def _redis_up() -> bool:
    try:
        import redis.asyncio as redis

        client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()
    except Exception:  # noqa: BLE001
        return False


async def test_login_limits_are_shared_through_redis(clean_db: str, sandbox: SandboxControl) -> None:
    if not await _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    from api.app import create_app
    from tests.servers import run_server

    # given two instances sharing one Redis
    settings = api_settings(clean_db, sandbox, rate_limit_storage="redis://127.0.0.1:6379/15")
    email = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    with run_server(create_app(settings)) as a_url, run_server(create_app(settings)) as b_url:
        async with httpx.AsyncClient(base_url=a_url, timeout=30) as a, httpx.AsyncClient(base_url=b_url, timeout=30) as b:
            a_gql, b_gql = GQL(a), GQL(b)
            await a_gql.signup_and_login(email, "password123")
            # when the attacker alternates between the instances
            codes = []
            for i in range(7):
                client = a_gql if i % 2 == 0 else b_gql
                codes.append(error_code(await client(LOGIN, {"e": email, "p": "wrong-password"})))
    # then both count against the same limit (5 failures a minute per account)
    assert codes[:5] == ["UNAUTHENTICATED"] * 5 and codes[5:] == ["RATE_LIMITED"] * 2


# --- charging floods -----------------------------------------------------------------------------


@pytest.mark.limits(rate_limit_prepare="5/minute", rate_limit_charge="8/minute")
async def test_charging_flood_is_limited_per_user(limited: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a user with one paid payment
    await limited.signup_and_login("flood@example.com")
    flooder = limited.token
    paid = await sandbox.pay(5000)
    # when they send 10 prepares and 12 charges as fast as they can
    prepares = await asyncio.gather(*(limited(PREPARE, {"a": 5000}) for _ in range(10)))
    charges = await asyncio.gather(*(limited(CHARGE, {"i": paid["imp_uid"]}) for _ in range(12)))
    # then the limit answers RATE_LIMITED past it, and what got through was credited once
    assert sorted(error_code(r) or "OK" for r in prepares) == ["OK"] * 5 + ["RATE_LIMITED"] * 5
    assert sorted(error_code(r) or "OK" for r in charges) == ["OK"] * 8 + ["RATE_LIMITED"] * 4
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 1
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM orders") == 5
    # and another user is not affected
    await limited.signup_and_login("calm@example.com")
    assert error_code(await limited(PREPARE, {"a": 5000})) is None
    assert error_code(await limited(PREPARE, {"a": 5000}, token=flooder)) == "RATE_LIMITED"


# --- bodies, searches, CORS ------------------------------------------------------------------------


async def test_oversized_chunked_bodies_are_413(gql: GQL) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 10_000  # 400 KB, no Content-Length

    for path in ("/graphql", "/webhooks/portone"):
        response = await gql.client.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413, path
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


SQL_LOOKING = ["' OR '1'='1", "%", "_", "imp_%' --", "\\", "'; DROP TABLE point_transactions; --", "\x00",
               "%' UNION SELECT * FROM users --"]


async def test_sql_looking_searches_match_literally(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given two users with one charge each
    await api.signup_and_login("a@example.com")
    mine = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"i": mine["imp_uid"]})) is None
    await api.signup_and_login("b@example.com")
    theirs = await sandbox.pay(3000)
    assert error_code(await api(CHARGE, {"i": theirs["imp_uid"]})) is None
    for search in SQL_LOOKING:
        # when B searches with an SQL-looking string
        result = await api(HISTORY, {"s": search})
        # then it is matched as text: no error, never A's rows, and the table is still there
        assert error_code(result) is None, (search, result)
        rows = result["data"]["fetchPointTransactionsOfLoading"]
        assert all(r["impUid"] == theirs["imp_uid"] for r in rows), search
        # ("_" is literal too, and imp_uids contain one; a NUL is dropped, leaving an empty search)
        assert rows == [] or search in ("_", "\x00"), search
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions") == 2


async def test_cors_unknown_origin_gets_no_credentials_on_real_requests(api: GQL) -> None:
    await api.signup_and_login()
    response = await api.client.post(
        "/graphql", json={"query": ME}, headers={"Origin": "https://evil.example", "Authorization": f"Bearer {api.token}"}
    )
    # no Access-Control-Allow-Origin: the browser refuses to hand the answer to evil.example's script
    # (Starlette still sends allow-credentials/expose-headers, which mean nothing without it)
    assert "access-control-allow-origin" not in response.headers
