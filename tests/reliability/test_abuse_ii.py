"""Issue 23's abuse cases (items 3 to 9), each reproduced over real HTTP the way an attacker or a
bad day would (docs/RELIABILITY.md, abuse table): logout without the refresh cookie, per-IP limits
dodged over IPv6, forged webhook keys, a refused cancel recorded as succeeded, unsafe production
settings, and V2 promotions minting points. The price guard and the balance cap have their own
tests (tests/schema/test_price_guard.py, tests/schema/test_balance_cap.py).

The tests print the figures the abuse table quotes (``pytest -s`` shows them)."""

from __future__ import annotations

import httpx

from tests.conftest import GQL, SandboxControl, error_code

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { _id } }"
RESET = 'mutation { resetUserPassword(password: "newpassword1") }'


# --- 3. logout without the refresh cookie ------------------------------------------------------------


async def test_logout_with_only_the_bearer_token_ends_that_login(api: GQL, sandbox: SandboxControl) -> None:
    # given a logged-in user with a credited charge, on a client whose refresh cookie does not
    # travel (a phone app, a cross-site page): only "Authorization: Bearer" is sent
    await api.signup_and_login()
    paid = await sandbox.pay(5000)
    assert error_code(await api(CHARGE, {"i": paid["imp_uid"]})) is None
    api.client.cookies.clear()
    token = api.token
    # when it logs out
    assert (await api("mutation { logoutUser }"))["data"]["logoutUser"] is True
    # then every mutation with that token is refused: buying, preparing, charging, cancelling, the password
    other = await sandbox.pay(1000)
    codes = [
        error_code(await api(PREPARE, {"a": 5000}, token=token)),
        error_code(await api(CHARGE, {"i": other["imp_uid"]}, token=token)),
        error_code(await api(CANCEL, {"i": paid["imp_uid"], "a": 1000}, token=token)),
        error_code(await api(RESET, token=token)),
    ]
    print(f"\nafter a cookie-less logout, the token's mutations answer {codes}")
    assert codes == ["UNAUTHENTICATED"] * 4
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 0
    # and logging out with a token that is no longer any good still answers true
    assert (await api("mutation { logoutUser }", token="not-a-token"))["data"]["logoutUser"] is True


async def test_logout_with_the_token_ends_only_that_login(api: GQL) -> None:
    # given the same user logged in on two devices
    await api.signup_and_login("kim@example.com", "password123")
    device_a = api.token
    login = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
    device_b = (await api(login, {"e": "kim@example.com", "p": "password123"}))["data"]["loginUser"]["accessToken"]
    api.client.cookies.clear()
    # when device A logs out with its token alone
    assert (await api("mutation { logoutUser }", token=device_a))["data"]["logoutUser"] is True
    # then A is out and B goes on
    assert error_code(await api(PREPARE, {"a": 5000}, token=device_a)) == "UNAUTHENTICATED"
    assert error_code(await api(PREPARE, {"a": 5000}, token=device_b)) is None
