"""The sandbox's state file (sandbox/persist.py): everything PortOne would remember comes back in a
new Store on the same file, and reset forgets it (issue 27). The API-level restart (a charge
cancelled after a restart, a virtual account deposited): tests/api/test_sandbox_state.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.portone.config import SandboxConfig
from sandbox.persist import clear_file
from sandbox.portone.store import Faults, Store


def store_on(path: Path) -> Store:
    return Store(SandboxConfig(state_path=str(path)))


async def test_a_new_store_on_the_same_file_sees_everything(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = store_on(path)
    # given payments of both versions, a partial cancel with an idempotency key, prepared orders,
    # a token, faults, a moved clock and a webhook record
    v1 = await first.create_payment(amount=5000, merchant_uid="order-1", webhook=False)
    vbank = await first.create_payment(amount=30000, pay_method="vbank", outcome="ready", webhook=False)
    v2 = await first.create_payment(amount=7000, version="v2", payment_id="pay-2", webhook=False)
    await first.cancel(v2, amount=2000, reason="부분", idempotency_key="idem-1", idempotency_fingerprint="f")
    await first.prepare("order-9", 9000, "KRW")
    await first.pre_register("pay-9", {"totalAmount": 9000})
    token, expires, _ = await first.issue_token()
    async with first.lock:
        first.set_faults(Faults(latency_ms=50, seed=7))
    first.advance_clock(60)
    first.webhooks.log.append({"id": 1, "status": "no_url", "event": "paid"})
    first.save_webhook(first.webhooks.log[0])
    secret = first.install_secret("jwt")
    await first.aclose()

    # when a new process opens the file
    second = store_on(path)
    # then it has all of it
    assert second.v1_view(second.get_v1(v1.imp_uid)) == first.v1_view(v1)
    assert second.v2_view(second.get_v2("pay-2")) == first.v2_view(v2)
    assert second.get(vbank.imp_uid).vbank_num == vbank.vbank_num
    assert second.get_prepared("order-9") == {"merchant_uid": "order-9", "amount": 9000, "currency": "KRW"}
    assert second.pre_registered["pay-9"]["totalAmount"] == 9000
    assert second.token_valid(token) and second.tokens[token] == expires
    assert (second.faults.latency_ms, second.faults.seed) == (50, 7)
    assert second.time_offset_s == 60
    assert second.webhooks.log == [{"id": 1, "status": "no_url", "event": "paid"}]
    assert second.install_secret("jwt") == secret and len(secret) >= 32
    # and a replayed idempotent cancel refunds nothing twice
    replay, _ = await second.cancel(second.get_v2("pay-2"), amount=2000, reason="부분",
                                    idempotency_key="idem-1", idempotency_fingerprint="f")
    assert replay.cancel_amount == 2000
    # and new payments continue the order (the V2 cursor)
    later = await second.create_payment(amount=1000, webhook=False)
    assert later.seq == 4
    # and the deposit made now is kept too
    await second.deposit(vbank.imp_uid, webhook=False)
    await second.aclose()
    assert store_on(path).get(vbank.imp_uid).status == "paid"


@pytest.mark.parametrize("how", ["control", "cli"])
async def test_reset_forgets_all_but_the_install_secret(tmp_path: Path, how: str) -> None:
    path = tmp_path / "state.db"
    store = store_on(path)
    await store.create_payment(amount=5000, webhook=False)
    await store.prepare("order-1", 5000, None)
    secret = store.install_secret("jwt")
    if how == "control":
        await store.reset()
        await store.aclose()
    else:
        await store.aclose()
        clear_file(str(path))
    again = store_on(path)
    assert again.payments == {} and again.prepared == {}
    assert again.install_secret("jwt") == secret


def test_memory_keeps_nothing() -> None:
    first = Store(SandboxConfig())
    first.advance_clock(5)
    assert Store(SandboxConfig()).time_offset_s == 0


async def test_a_delivery_cut_off_by_a_stop_is_taken_up_by_the_next_process(tmp_path: Path) -> None:
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from tests.servers import run_server

    received: list[bytes] = []

    async def hook(request):  # type: ignore[no-untyped-def]
        received.append(await request.body())
        return Response(status_code=200)

    path = tmp_path / "state.db"
    with run_server(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        # given a webhook whose delivery was under way when the process stopped
        first = store_on(path)
        first.webhooks.log.append({
            "id": 1, "version": "v1", "event": "paid", "imp_uid": "imp_1", "merchant_uid": "o-1",
            "payment_id": None, "url": url + "/hook", "content_type": "application/json",
            "body": '{"imp_uid":"imp_1","merchant_uid":"o-1","status":"paid"}', "webhook_id": None,
            "headers": {}, "attempts": [], "response_status": None, "status": "pending", "duplicate": False,
            "created_at": 0.0,
        })
        first.save_webhook(first.webhooks.log[0])
        await first.aclose()
        # when the next process serves its first request
        second = store_on(path)
        second.webhooks.resume()
        for _ in range(200):
            if second.webhooks.log[0]["status"] == "delivered":
                break
            await asyncio.sleep(0.05)
        # then the merchant gets it, once, and the log says so (in the file too)
        assert received == [b'{"imp_uid":"imp_1","merchant_uid":"o-1","status":"paid"}']
        await second.aclose()
    assert store_on(path).webhooks.log[0]["status"] == "delivered"
