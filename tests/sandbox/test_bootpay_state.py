"""The Bootpay emulator remembers across a restart (its own state file, sandbox/persist.py) and
reset forgets, memory and file alike."""

from __future__ import annotations

import time
from pathlib import Path

from sandbox.bootpay import BootpayConfig, create_app
from sandbox.bootpay.config import state_path_next_to
from tests.sandbox.bootpay import FAST, Bootpay, Receiver
from tests.servers import run_server

DOWN = "http://127.0.0.1:9/webhooks/bootpay"  # nobody listens: deliveries keep failing


def serve(path: Path, **config):
    app = create_app(BootpayConfig(**{**FAST, "state_path": str(path), **config}))
    return app, run_server(app)


def test_receipts_tokens_cancel_ids_and_webhooks_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-bootpay.db"
    app, server = serve(path, webhook_url=DOWN, webhook_retries=1)
    with server as base:
        first = Bootpay(base, app)
        card = first.pay(price=10000, order_id="before-restart")
        vbank = first.pay(price=30000, method="vbank")
        waiting = first.pay(price=5000, separately_confirmed=True)
        token = first.token()
        first.rest("POST", "/cancel", json={"receipt_id": card["receipt_id"], "cancel_price": 2000, "cancel_id": "c-1"})
        first.control("PUT", "/faults", json={"latency_ms": 1, "seed": 3})
        first.control("POST", "/clock", json={"advance_s": 60})
        first.deliveries(settled=3)
        before = {r["receipt_id"]: r for r in first.control("GET", "/receipts").json()}
        hooks = first.control("GET", "/webhooks").json()["deliveries"]

    # when a new process opens the same file (webhooks now reach a merchant)
    receiver = Receiver()
    with run_server(receiver.app()) as receiver_base:
        receiver.base_url = receiver_base
        app, server = serve(path, webhook_url=receiver.url)
        with server as base:
            second = Bootpay(base, app)
            # then it knows every receipt, token, cancel_id, fault setting, the clock and the log
            assert {r["receipt_id"]: r for r in second.control("GET", "/receipts").json()} == before
            bearer = {"Authorization": "Bearer " + token}
            assert second.rest("GET", f"/receipt/{card['receipt_id']}", headers=bearer).json()["cancelled_price"] == 2000
            again = second.rest("POST", "/cancel", json={"receipt_id": card["receipt_id"], "cancel_price": 2000,
                                                         "cancel_id": "c-1"})
            assert again.json()["error_code"] == "CANCEL_ID_DUPLICATED"
            assert second.control("GET", "/faults").json()["seed"] == 3
            assert second.control("GET", "/webhooks").json()["deliveries"] == hooks
            # and the virtual account takes its deposit, the waiting card its confirm
            assert second.deposit(vbank["receipt_id"])["status"] == 1
            assert second.rest("POST", "/confirm", json={"receipt_id": waiting["receipt_id"]}).json()["status"] == 1
            [got] = [g for g in receiver.wait_for(2) if g["body"]["receipt_id"] == vbank["receipt_id"]]
            assert got["body"]["webhook_type"] == "PAYMENT_COMPLETED"


def test_a_delivery_under_way_is_taken_up_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-bootpay.db"
    receiver = Receiver(script=[(500, "{}")])
    with run_server(receiver.app()) as receiver_base:
        receiver.base_url = receiver_base
        # given a delivery that failed once and waits 30 s for its retry when the process stops
        app, server = serve(path, webhook_url=receiver.url, webhook_backoff_s=30, webhook_backoff_max_s=30)
        with server as base:
            first = Bootpay(base, app)
            paid = first.pay(price=1000)
            deadline = time.monotonic() + 10
            # (an attempt's answer and its write to the file happen in one step of the event loop)
            while [a["http_status"] for a in first.control("GET", "/webhooks").json()["deliveries"][0]["attempts"]] != [500]:
                assert time.monotonic() < deadline, "the first attempt was never recorded"
                time.sleep(0.02)
        # when the next process starts
        app, server = serve(path, webhook_url=receiver.url)
        with server as base:
            second = Bootpay(base, app)
            second.control("GET", "/config")  # its first request starts the interrupted deliveries
            [record] = second.deliveries(settled=1, receipt_id=paid["receipt_id"])
    # then the merchant gets the retry, counted on from the attempt made before the restart
    assert record["status"] == "delivered"
    assert [(a["attempt"], a["http_status"]) for a in record["attempts"]] == [(1, 500), (2, 200)]
    assert len(receiver.received) == 2


def test_reset_forgets_memory_and_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-bootpay.db"
    app, server = serve(path)
    with server as base:
        first = Bootpay(base, app)
        rid = first.pay(price=1000)["receipt_id"]
        token = first.token()
        first.control("PUT", "/faults", json={"latency_ms": 5})
        assert first.control("POST", "/reset").json() == {"reset": True}
        assert first.control("GET", "/receipts").json() == []
        assert first.rest("GET", f"/receipt/{rid}", headers={"Authorization": "Bearer " + token}).json()[
            "error_code"] == "INVALID_TOKEN"
        assert first.control("GET", "/faults").json()["latency_ms"] == 0
    app, server = serve(path)
    with server as base:
        second = Bootpay(base, app)
        assert second.control("GET", "/receipts").json() == []
        assert second.rest("GET", f"/receipt/{rid}").json()["error_code"] == "RECEIPT_NOT_FOUND"


def test_state_file_sits_beside_the_portone_one() -> None:
    assert state_path_next_to("./pointcharge-sandbox.db") == "pointcharge-sandbox-bootpay.db"
    assert state_path_next_to("/var/lib/pc/state.sqlite") == "/var/lib/pc/state-bootpay.sqlite"
    assert state_path_next_to(":memory:") == ":memory:"
