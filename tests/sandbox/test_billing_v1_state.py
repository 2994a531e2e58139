"""V1 billing keys, schedules and key-made payments survive a sandbox restart on the same state file,
and a schedule that fell due while the sandbox was down runs in the next process (over HTTP)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.sandbox.conftest import WebhookReceiver, running_sandbox

CARD = {"card_number": "5361-8100-0000-4321", "expiry": "2099-12"}
CREDS = {"imp_key": "sandbox_imp_key", "imp_secret": "sandbox_imp_secret"}


async def client(base_url: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base_url, timeout=10)
    token = (await http.post("/v1/users/getToken", json=CREDS)).json()["response"]["access_token"]
    http.headers["Authorization"] = "Bearer " + token
    return http


async def test_keys_schedules_and_payments_survive_a_restart(tmp_path: Path, receiver: WebhookReceiver) -> None:
    state = str(tmp_path / "sandbox.db")
    # given a first process with a key, a payment made with it and two schedules (one due in a minute)
    with running_sandbox(state_path=state) as sb:
        api = await client(sb.base_url)
        key = (await api.post("/v1/subscribe/customers/user-1-card-1", json=CARD)).json()["response"]
        paid = (await api.post("/v1/subscribe/payments/again", json={
            "customer_uid": "user-1-card-1", "merchant_uid": "again-1", "amount": 5000})).json()["response"]
        now = int((await api.post("/_control/clock", json={})).json()["now"])
        await api.post("/v1/subscribe/payments/schedule", json={"customer_uid": "user-1-card-1", "schedules": [
            {"merchant_uid": "sub-c1", "schedule_at": now + 60, "amount": 7000, "notice_url": receiver.url("restart")},
            {"merchant_uid": "sub-c2", "schedule_at": now + 86400, "amount": 7000}]})
        await api.aclose()
    # and the state file never saw the card number, only its masked form
    with sqlite3.connect(state) as db:
        dump = "\n".join(row[0] for row in db.execute("SELECT data FROM state"))
    assert "5361810000004321" not in dump and "5361-8100-0000-4321" not in dump and "536181******4321" in dump
    # when the sandbox stops, time passes the first schedule, and a new process opens the same file
    with running_sandbox(state_path=state) as sb:
        api = await client(sb.base_url)
        await api.post("/_control/clock", json={"advance_s": 120})
        api = await client(sb.base_url)  # the old token died with the clock
        # then the key, the key's payment and both schedules are there
        assert (await api.get("/v1/subscribe/customers/user-1-card-1")).json()["response"] == key
        again = (await api.get(f"/v1/payments/{paid['imp_uid']}")).json()["response"]
        assert (again["customer_uid"], again["customer_uid_usage"]) == ("user-1-card-1", "payment")
        waiting = (await api.get("/v1/subscribe/payments/schedule/sub-c2")).json()["response"]
        assert waiting["schedule_status"] == "scheduled"
        # and the schedule that fell due while it was down ran, once, with its webhook
        ran = (await api.get("/v1/subscribe/payments/schedule/sub-c1")).json()["response"]
        assert (ran["schedule_status"], ran["payment_status"]) == ("executed", "paid")
        assert len(await receiver.wait_for("restart", 1)) == 1
        # and a reset forgets all of it
        await api.post("/_control/reset")
        api = await client(sb.base_url)
        assert (await api.get("/v1/subscribe/customers/user-1-card-1")).status_code == 404
        assert (await api.get("/v1/subscribe/payments/schedule/sub-c2")).status_code == 404
        await api.aclose()
    with running_sandbox(state_path=state) as sb:
        api = await client(sb.base_url)
        assert (await api.get("/v1/subscribe/customers/user-1-card-1")).status_code == 404
        await api.aclose()
