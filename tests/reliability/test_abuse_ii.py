"""Issue 23's abuse cases (items 3 to 9), each reproduced over real HTTP the way an attacker or a
bad day would (docs/RELIABILITY.md, abuse table): logout without the refresh cookie, per-IP limits
dodged over IPv6, forged webhook keys, a refused cancel recorded as succeeded, unsafe production
settings, and V2 promotions minting points. The price guard and the balance cap have their own
tests (tests/schema/test_price_guard.py, tests/schema/test_balance_cap.py).

The tests print the figures the abuse table quotes (``pytest -s`` shows them)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import GQL, SandboxControl, api_settings, count_rows, error_code
from tests.reliability.test_hardening import _wait_settled

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { _id } }"
RESET = 'mutation { resetUserPassword(password: "newpassword1") }'
LOGIN = "mutation($e: String!, $p: String!){ loginUser(email: $e, password: $p){ accessToken } }"
SIGNUP = "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }"


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


# --- 5. per-IP limits and IPv6 -------------------------------------------------------------------------


@contextmanager
def behind_proxy(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The API as `pointcharge serve --forwarded-allow-ips 127.0.0.1` runs it behind a proxy: the
    client address is X-Forwarded-For's (uvicorn's own middleware), so a test can come from any."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from api.app import create_app
    from tests.servers import run_server

    with run_server(ProxyHeadersMiddleware(create_app(settings), trusted_hosts="127.0.0.1")) as url:
        yield url


async def test_ipv6_clients_are_counted_per_64_in_every_per_ip_limit(clean_db: str, sandbox: SandboxControl) -> None:
    # given the default sign-up and login limits per address, and 100 webhooks a minute per address
    settings = api_settings(clean_db, sandbox, rate_limit_webhook="100/minute")
    one_64 = [f"2001:db8:77:1:{i:x}::{i + 1:x}" for i in range(120)]  # 120 addresses of one /64
    with behind_proxy(settings) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            async def from_(address: str, query: str, variables: dict) -> dict:
                response = await http.post("/graphql", json={"query": query, "variables": variables},
                                           headers={"X-Forwarded-For": address})
                return response.json()

            # when one host signs up 25 times, fails 40 logins and posts 120 webhooks, each from
            # another address of its /64
            signups = [error_code(await from_(one_64[i], SIGNUP, {"i": {"email": f"u{i}@example.com", "password": "password123", "name": "가"}}))
                       for i in range(25)]
            logins = [error_code(await from_(one_64[i], LOGIN, {"e": f"nobody{i}@example.com", "p": "wrong-password"}))
                      for i in range(40)]
            hooks = [(await http.post("/webhooks/portone", json={"imp_uid": "imp_nosuch", "merchant_uid": "m", "status": "paid"},
                                      headers={"X-Forwarded-For": one_64[i]})).status_code for i in range(120)]
            # and an IPv4-mapped address is the IPv4 address: its failed logins count together
            v4 = [error_code(await from_(address, LOGIN, {"e": f"v4-{i}@example.com", "p": "wrong-password"}))
                  for i, address in enumerate(["198.51.100.7", "::ffff:198.51.100.7"] * 20)]
            # while another /64 has a count of its own
            other = error_code(await from_("2001:db8:77:2::1", SIGNUP, {"i": {"email": "x@example.com", "password": "password123", "name": "가"}}))
            await _wait_settled(clean_db)
    created = signups.count(None)
    print(f"\nfrom one /64: sign-ups {created} of 25 created, failed logins {logins.count('UNAUTHENTICATED')} of 40 "
          f"checked, webhooks {hooks.count(200)} of 120 accepted; IPv4 + its mapped form: "
          f"{v4.count('UNAUTHENTICATED')} of 40 checked")
    # then the /64 is one client: 20 sign-ups, 30 failed logins, 100 webhooks, as one IPv4 address
    assert created == 20 and signups.count("RATE_LIMITED") == 5
    assert logins.count("UNAUTHENTICATED") == 30 and logins.count("RATE_LIMITED") == 10
    assert hooks.count(200) == 100 and hooks.count(429) == 20
    assert v4.count("UNAUTHENTICATED") == 30 and v4.count("RATE_LIMITED") == 10
    assert other is None


def test_address_keys() -> None:
    from services.ratelimit import address_key

    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("2001:db8:1:2:aaaa::1", 48) == "2001:db8:1::/48"
    assert address_key("::ffff:198.51.100.7") == address_key("198.51.100.7") == "198.51.100.7"
    assert address_key("fe80::1%eth0") == "fe80::/64"
    assert address_key("not an address") == "not an address"


# --- 6. webhook de-duplication keyed on unsigned fields ----------------------------------------------


async def test_forged_webhooks_with_made_up_fields_cost_one_lookup(clean_db: str, sandbox: SandboxControl) -> None:
    from tests.reliability.test_hardening import _portone_lookups, served

    # given a real paid payment, and a de-duplication window of 30 s (default 5 s: the burst must fit
    # in one window on a loaded machine)
    paid = await sandbox.pay(5000)
    await sandbox.http.delete("/_control/stats")
    with served(api_settings(clean_db, sandbox, webhook_dedup_s=30)) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            # when 50 forged V1 `cancelled` webhooks with random cancellation_ids name it, and 50
            # more claim every other status, JSON and form-encoded
            statuses = []
            for i in range(50):
                body = {"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"], "status": "cancelled",
                        "cancellation_id": uuid.uuid4().hex}
                statuses.append((await http.post("/webhooks/portone", json=body)).status_code)
            for i in range(50):
                body = {"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"],
                        "status": ["paid", "ready", "failed", "cancelled"][i % 4], "cancellation_id": str(i)}
                statuses.append((await http.post("/webhooks/portone", data=body)).status_code)
            # (a claim of another status than the first earns one fetch when the window has passed)
            await _wait_settled(clean_db, timeout=120)
    lookups = await _portone_lookups(sandbox)
    duplicates = await count_rows(clean_db, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'duplicate'")
    print(f"\n100 forged webhooks (random cancellation ids and statuses) for one payment: {lookups} PortOne GET(s), "
          f"{duplicates} coalesced")
    # then PortOne is asked once, and once more after the window
    assert statuses == [200] * 100
    assert lookups == 2 and duplicates == 98


# --- 7. a cancel PortOne refused, recorded as succeeded ------------------------------------------------


async def test_a_cancel_portone_refused_is_recorded_failed(clean_db: str, sandbox: SandboxControl) -> None:
    from tests.reliability.test_hardening import served

    # (PortOne is given 15 s to answer: the second cancel is held 5 s on its way)
    with served(api_settings(clean_db, sandbox, portone_timeout_s=15.0)) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _two_partial_cancels(GQL(http), sandbox, clean_db)


async def _two_partial_cancels(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    import asyncio

    cancel_ep = ["POST /v1/payments/cancel"]
    # given a 10,000 charge and a partial cancel of 3,000 that PortOne made but whose answer was lost
    # (its request still holds the points, as a crash or a 5xx leaves it)
    await api.signup_and_login()
    paid = await sandbox.pay(10_000)
    assert error_code(await api(CHARGE, {"i": paid["imp_uid"]})) is None
    await sandbox.faults(error_rate=1.0, process_before_fault=True, endpoints=cancel_ep)
    assert error_code(await api(CANCEL, {"i": paid["imp_uid"], "a": 3000})) == "PORTONE_UNAVAILABLE"
    # when a second cancel of 3,000 is sent (its checksum is the 10,000 we last saw) and, while it is on
    # its way to PortOne, PortOne's webhook for the first one arrives and is synced
    await sandbox.faults(latency_ms=5000, endpoints=cancel_ep)
    second = asyncio.create_task(api(CANCEL, {"i": paid["imp_uid"], "a": 3000}))
    # (each request is counted after the ones in flight: settled at 3,000 and at 6,000 cancelled)
    while not await count_rows(clean_db, "SELECT COUNT(*) FROM cancel_requests"
                                         " WHERE status = 'requested' AND cancelled_after IN (3000, 6000)") == 2:
        await asyncio.sleep(0.05)
    hook = await api.client.post("/webhooks/portone", json={"imp_uid": paid["imp_uid"], "merchant_uid": paid["merchant_uid"],
                                                            "status": "cancelled"})
    assert hook.status_code == 200
    await _wait_settled(clean_db)
    assert not second.done(), "the webhook was not synced while the second cancel was at PortOne"
    answer = await second
    await sandbox.clear_faults()
    # then PortOne refused it (checksum) and it is recorded failed, not succeeded; the first succeeded
    rows = await _cancel_statuses(clean_db)
    print(f"\ntwo partial cancels of 3,000 on 10,000, the second refused by PortOne: answer "
          f"{error_code(answer)}, requests recorded {rows}")
    assert error_code(answer) == "CANCEL_AMOUNT_INVALID"
    assert sorted(rows) == ["failed", "succeeded"]
    assert (await sandbox.v1_payment(paid["imp_uid"]))["cancel_amount"] == 3000
    assert (await api("{ fetchUserLoggedIn { userPoint { amount } } }"))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"] == 7000


async def _cancel_statuses(db: str) -> list[str]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db)
    try:
        async with engine.connect() as conn:
            return [row[0] for row in (await conn.execute(text("SELECT status FROM cancel_requests"))).all()]
    finally:
        await engine.dispose()


# --- 9. production guards ----------------------------------------------------------------------------

UNSAFE_II = {
    "POINTCHARGE_PORTONE_V2_BASE_URL": {"POINTCHARGE_PORTONE_V2_BASE_URL": "http://127.0.0.1:8000/sandbox/portone/v2"},
    "POINTCHARGE_PORTONE_V1_BASE_URL": {"POINTCHARGE_PORTONE_V1_BASE_URL": "http://[::1]:8001/v1"},
    "POINTCHARGE_CORS_ORIGINS": {"POINTCHARGE_CORS_ORIGINS": "https://app.example.com,null"},
}


def test_production_serve_refuses_a_sandbox_v2_a_loopback_v1_and_the_null_origin(tmp_path: Path) -> None:
    from tests.reliability.test_hardening import _free_port, _safe_production_env, _serve

    safe = _safe_production_env(tmp_path)
    # when `pointcharge serve` starts in production mode with one of them each
    procs = {name: _serve({**safe, **change}, tmp_path, _free_port()) for name, change in UNSAFE_II.items()}
    try:
        for name, proc in procs.items():
            try:
                _out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                err = "still running: it started"
            print(f"\nunsafe {name}: exit {proc.returncode}: {err.strip().splitlines()[-1] if err.strip() else ''}")
            # then it refuses, exit 2, naming the setting
            assert proc.returncode == 2, (name, err)
            assert name in err, (name, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)
    # (the safe configuration starting is test_hardening's) and the doctor lists the same
    from api.doctor import diagnose
    from services.settings import Settings

    for name, change in UNSAFE_II.items():
        values = {k.removeprefix("POINTCHARGE_").lower(): v for k, v in {**safe, **change}.items() if k.startswith("POINTCHARGE_")}
        report = diagnose(Settings(_env_file=None, **values), None)  # type: ignore[call-arg]
        assert name in [f.check for f in report.problems], (name, report.problems)


# --- 9. V2 promotions must not mint points ------------------------------------------------------------


async def test_a_v2_payment_a_promotion_paid_part_of_is_not_credited_but_refunded(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    from tests.api.test_v2 import CHARGE_V2, PREPARE_V2, balance

    await api.signup_and_login()
    # given a prepared V2 order of 10,000 that the buyer paid 9,000 of, a promotion the merchant
    # funds paying 1,000 (amount.total 10,000, amount.discount 1,000, amount.paid 9,000) …
    order = (await api(PREPARE_V2, {"a": 10000}))["data"]["preparePointCharge"]
    await sandbox.pay(10000, version="v2", payment_id=order["paymentId"], discount=1000)
    # … and a V2 payment made without an order, 3,000 of 10,000 paid by a coupon
    unprepared = await sandbox.pay(10000, version="v2", discount=3000)
    # when the buyer claims them
    answers = [error_code(await api(CHARGE_V2, {"p": order["paymentId"]})),
               error_code(await api(CHARGE_V2, {"p": unprepared["id"]}))]
    points = await balance(api)
    remote = [(await sandbox.http.get(f"/_control/payments/{key}")).json()["status"]
              for key in (order["paymentId"], unprepared["id"])]
    print(f"\nV2 payments of 10,000 with 1,000 / 3,000 paid by a promotion: answers {answers}, balance {points:,}, "
          f"PortOne {remote}")
    # then neither mints points: each is the amount mismatch it is, and refunded
    assert answers == ["AMOUNT_MISMATCH", "AMOUNT_MISMATCH"]
    assert points == 0
    assert remote == ["CANCELLED", "CANCELLED"]
