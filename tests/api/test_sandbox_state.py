"""The mounted sandbox remembers across restarts (issue 27): a charge made before a restart can be
cancelled after it, a virtual account issued before it can still be deposited into and credits;
the control API's reset and `pointcharge sandbox --reset` forget. Real servers over HTTP, each
"restart" a new app on the same state file after the old one's lifespan has ended."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.conftest import GQL, error_code, make_settings
from tests.servers import free_port, reserve_socket, run_process, run_server, socket_url

PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { amount balance } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { amount balance status } }"
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"
LOGIN = "mutation { loginUser(email: \"user@example.com\", password: \"password123\") { accessToken } }"


@contextlib.asynccontextmanager
async def api_on(database_url: str, state: Path) -> AsyncIterator[tuple[GQL, httpx.AsyncClient]]:
    """One life of the API (lifespan start to end) with its sandbox's state in ``state``."""
    sock = reserve_socket()
    url = socket_url(sock)
    settings = make_settings(database_url, public_url=url, sandbox_state=str(state), portone_timeout_s=5.0)
    with run_server(create_app(settings), sock=sock) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10.0) as client, httpx.AsyncClient(
            base_url=base + "/sandbox/portone", timeout=10.0
        ) as control:
            yield GQL(client), control


async def login(api: GQL) -> None:
    api.token = (await api(LOGIN))["data"]["loginUser"]["accessToken"]


async def balance(api: GQL) -> int:
    return (await api(BALANCE))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def eventually_balance(api: GQL, amount: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while await balance(api) != amount:
        assert time.monotonic() < deadline, f"balance never reached {amount}"
        await asyncio.sleep(0.1)


async def pay(api: GQL, control: httpx.AsyncClient, amount: int, **fields: object) -> dict:
    """A prepared order paid in the sandbox (as the buyer's checkout would)."""
    order = (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]
    return (await control.post("/_control/payments", json={"amount": amount, "merchant_uid": order, **fields})).json()


async def test_a_restart_keeps_payments_virtual_accounts_and_logins(clean_db: str, tmp_path: Path) -> None:
    state = tmp_path / "pointcharge-sandbox.db"
    # given a 5,000 charge credited and a 30,000 virtual account issued, then the API stops
    async with api_on(clean_db, state) as (api, control):
        await api.signup_and_login()
        paid = await pay(api, control, 5000)
        assert (await api(CHARGE, {"i": paid["imp_uid"]}))["data"]["createPointTransactionOfLoading"]["balance"] == 5000
        vbank = await pay(api, control, 30000, pay_method="vbank", outcome="ready")
        assert error_code(await api(CHARGE, {"i": vbank["imp_uid"]})) == "PAYMENT_PENDING"
        token_before = api.token

    # when a new process starts on the same files
    async with api_on(clean_db, state) as (api, control):
        api.token = token_before
        # then the login made before still works (the JWT key is the install's, not the process's)
        assert await balance(api) == 5000
        # and the charge is cancelled at PortOne, not "결제 내역을 찾을 수 없습니다"
        cancelled = await api(CANCEL, {"i": paid["imp_uid"]})
        assert cancelled["data"]["cancelPointTransaction"] == {"amount": -5000, "balance": 0, "status": "취소"}, cancelled
        # and the virtual account takes the deposit, whose webhook credits it
        deposited = await control.post(f"/_control/payments/{vbank['imp_uid']}/deposit", json={})
        assert deposited.status_code == 200, deposited.text
        await eventually_balance(api, 30000)


async def test_control_reset_forgets_and_a_cancel_then_says_portone_lost_it(clean_db: str, tmp_path: Path) -> None:
    state = tmp_path / "pointcharge-sandbox.db"
    async with api_on(clean_db, state) as (api, control):
        await api.signup_and_login()
        paid = await pay(api, control, 5000)
        await api(CHARGE, {"i": paid["imp_uid"]})
        # when the sandbox is reset
        assert (await control.post("/_control/reset")).json() == {"reset": True}
        # then it has forgotten the payment, restarted or not
        assert (await control.get("/_control/payments")).json() == []
    async with api_on(clean_db, state) as (api, control):
        await login(api)
        assert (await control.get(f"/_control/payments/{paid['imp_uid']}")).status_code == 404
        # and a cancel says PortOne lost it (not the charge flow's text), and keeps the points
        result = await api(CANCEL, {"i": paid["imp_uid"]})
        assert error_code(result) == "PAYMENT_NOT_FOUND"
        assert result["errors"][0]["message"].startswith("PortOne에서 이 결제를 찾을 수 없어 취소하지 못했습니다")
        assert result["errors"][0]["extensions"]["where"] == "PORTONE"
        assert await balance(api) == 5000
        # and the hold is released: nothing is left pending that would block another try
        assert error_code(await api(CANCEL, {"i": paid["imp_uid"]})) == "PAYMENT_NOT_FOUND"


async def test_a_v2_cancel_portone_cannot_find_says_so_too(clean_db: str, tmp_path: Path) -> None:
    async with api_on(clean_db, tmp_path / "pointcharge-sandbox.db") as (api, control):
        # given a V2 charge credited, then the sandbox reset (V2 answers 404 to the cancel)
        await api.signup_and_login()
        order = (await api(
            "mutation { preparePointCharge(amount: 5000, version: V2) { merchantUid } }"
        ))["data"]["preparePointCharge"]["merchantUid"]
        await control.post("/_control/payments", json={"amount": 5000, "version": "v2", "payment_id": order})
        charged = await api("mutation($i: ID!) { createPointTransactionOfLoading(paymentId: $i) { balance } }", {"i": order})
        assert charged["data"]["createPointTransactionOfLoading"]["balance"] == 5000, charged
        await control.post("/_control/reset")
        # when it is cancelled, twice
        results = [await api(CANCEL, {"i": order}) for _ in range(2)]
        # then both say PortOne lost it (the first released its hold), and the points stay
        assert [r["errors"][0]["extensions"] for r in results] == [{"code": "PAYMENT_NOT_FOUND", "where": "PORTONE"}] * 2
        assert await balance(api) == 5000


@contextlib.contextmanager
def standalone(state: Path, *extra: str) -> Iterator[str]:
    url = f"http://127.0.0.1:{free_port()}"
    port = url.rsplit(":", 1)[1]
    args = ["api.cli", "sandbox", "--port", port, "--state", str(state), "--log-level", "warning", *extra]
    with run_process(args, url + "/_control/config"):
        yield url


def test_standalone_sandbox_remembers_and_reset_forgets(tmp_path: Path) -> None:
    state = tmp_path / "standalone.db"
    with standalone(state) as url:
        paid = httpx.post(url + "/_control/payments", json={"amount": 1000}).json()
    with standalone(state) as url:
        assert httpx.get(url + f"/_control/payments/{paid['imp_uid']}").json()["status"] == "paid"
    with standalone(state, "--reset") as url:
        assert httpx.get(url + "/_control/payments").json() == []
