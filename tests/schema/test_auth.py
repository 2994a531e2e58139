"""Users and auth through GraphQL, as codecamp-style frontends call them."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.conftest import GQL, error_code

ME = "query { fetchUserLoggedIn { _id email name userPoint { amount } } }"
LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
RESTORE = "mutation { restoreAccessToken { accessToken } }"


async def test_signup_login_me_refresh_logout(gql: GQL) -> None:
    # given a new user who logged in
    user_id = await gql.signup_and_login("Kim@Example.COM", "password123", "김철수")

    # when they read their profile
    me = await gql(ME)

    # then they see themselves with a zero balance, the email normalised
    assert me["data"]["fetchUserLoggedIn"] == {
        "_id": user_id,
        "email": "kim@example.com",
        "name": "김철수",
        "userPoint": {"amount": 0},
    }

    # when they restore the access token from the httpOnly cookie
    assert "refreshToken" in gql.client.cookies
    old_cookie = gql.client.cookies["refreshToken"]
    restored = await gql(RESTORE, token="")
    new_token = restored["data"]["restoreAccessToken"]["accessToken"]
    # then the new token works and the refresh token was rotated
    assert (await gql(ME, token=new_token))["data"]["fetchUserLoggedIn"]["_id"] == user_id
    rotated_cookie = gql.client.cookies["refreshToken"]
    assert rotated_cookie != old_cookie

    # when they log out
    assert (await gql("mutation { logoutUser }"))["data"]["logoutUser"] is True
    # then the cookie is cleared and the refresh token they held no longer works
    assert "refreshToken" not in gql.client.cookies
    gql.client.cookies.set("refreshToken", rotated_cookie)
    assert error_code(await gql(RESTORE, token="")) == "UNAUTHENTICATED"


async def test_logged_out_refresh_token_fails(gql: GQL) -> None:
    await gql.signup_and_login()
    cookie = gql.client.cookies["refreshToken"]
    await gql("mutation { logoutUser }")
    gql.client.cookies.clear()
    gql.client.cookies.set("refreshToken", cookie)
    result = await gql(RESTORE, token="")
    assert error_code(result) == "UNAUTHENTICATED"


async def test_reused_refresh_token_revokes_the_family(gql: GQL) -> None:
    # given a login whose refresh token was rotated once
    await gql.signup_and_login()
    stolen = gql.client.cookies["refreshToken"]
    await gql(RESTORE, token="")
    legit = gql.client.cookies["refreshToken"]

    # when the old (stolen) token is presented again
    gql.client.cookies.clear()
    gql.client.cookies.set("refreshToken", stolen)
    assert error_code(await gql(RESTORE, token="")) == "UNAUTHENTICATED"

    # then even the legitimate newest token is revoked
    gql.client.cookies.clear()
    gql.client.cookies.set("refreshToken", legit)
    assert error_code(await gql(RESTORE, token="")) == "UNAUTHENTICATED"


async def test_duplicate_email_is_conflict(gql: GQL) -> None:
    await gql.signup_and_login("dup@example.com")
    result = await gql(
        "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
        {"i": {"email": "DUP@example.com", "password": "password123", "name": "x"}},
    )
    assert error_code(result) == "CONFLICT"


@pytest.mark.parametrize(
    ("email", "password", "name", "field"),
    [
        ("not-an-email", "password123", "kim", "email"),
        ("a@b", "password123", "kim", "email"),
        ("kim@example.com", "short", "kim", "password"),
        ("kim@example.com", "password123", "   ", "name"),
    ],
)
async def test_bad_signup_input(gql: GQL, email: str, password: str, name: str, field: str) -> None:
    result = await gql(
        "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
        {"i": {"email": email, "password": password, "name": name}},
    )
    assert error_code(result) == "BAD_USER_INPUT"
    assert result["errors"][0]["extensions"]["field"] == field
    # and nothing was created
    login = await gql(LOGIN, {"e": "kim@example.com", "p": "password123"})
    assert error_code(login) == "UNAUTHENTICATED"


async def test_wrong_password_and_unknown_email_look_the_same(gql: GQL) -> None:
    await gql.signup_and_login("kim@example.com", "password123")
    wrong = await gql(LOGIN, {"e": "kim@example.com", "p": "password124"})
    unknown = await gql(LOGIN, {"e": "nobody@example.com", "p": "password123"})
    assert error_code(wrong) == error_code(unknown) == "UNAUTHENTICATED"
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer not.a.jwt", "Token abc"],
)
async def test_missing_or_malformed_token(gql: GQL, header: str) -> None:
    response = await gql.client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": header} if header else {}
    )
    body = response.json()
    assert response.status_code == 200
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_expired_forged_and_alg_none_tokens(gql: GQL, settings) -> None:  # type: ignore[no-untyped-def]
    user_id = await gql.signup_and_login()
    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    expired = jwt.encode({"sub": user_id, "typ": "access", "iat": now - 7200, "exp": now - 3600}, secret)
    forged = jwt.encode({"sub": user_id, "typ": "access", "iat": now, "exp": now + 600}, "wrong-key" * 5)
    alg_none = jwt.encode({"sub": user_id, "typ": "access", "iat": now, "exp": now + 600}, None, algorithm="none")
    for token in (expired, forged, alg_none):
        result = await gql(ME, token=token)
        assert error_code(result) == "UNAUTHENTICATED", token
    assert "만료" in (await gql(ME, token=expired))["errors"][0]["message"]


async def test_update_user_and_reset_password(gql: GQL) -> None:
    await gql.signup_and_login("kim@example.com", "password123")
    updated = await gql(
        'mutation { updateUser(updateUserInput: {name: "이영희", picture: "https://x/y.png"}) { name picture } }'
    )
    assert updated["data"]["updateUser"] == {"name": "이영희", "picture": "https://x/y.png"}
    assert (await gql('mutation { resetUserPassword(password: "newpassword1") }'))["data"] == {
        "resetUserPassword": True
    }
    assert error_code(await gql(LOGIN, {"e": "kim@example.com", "p": "password123"})) == "UNAUTHENTICATED"
    assert "errors" not in await gql(LOGIN, {"e": "kim@example.com", "p": "newpassword1"})


async def test_unauthenticated_mutations_change_nothing(gql: GQL) -> None:
    result = await gql('mutation { updateUser(updateUserInput: {name: "x"}) { name } }', token="")
    assert error_code(result) == "UNAUTHENTICATED"
