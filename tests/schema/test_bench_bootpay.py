"""The benchmark's Bootpay scenario, wired at tiny counts (bench/bootpay.py, bench/loadgen.py): paid
receipts made as the bench makes them, claimed by the load generator's receiptId mutation, one
receipt GET each. The bench's process handling (psutil, the bench extra) is not needed here."""

from __future__ import annotations

from bench import bootpay as bench_bootpay
from bench import loadgen
from tests.schema.bootpay_api import BootpayAPI, bootpay, bootpay_api, bootpay_session  # noqa: F401


async def test_the_load_generator_claims_each_bench_receipt_once(bootpay_api: BootpayAPI, clean_db: str) -> None:
    api = bootpay_api
    emulator = api.bootpay.base_url
    # given a signed-in user and 6 paid card receipts for orders they prepared, made as the bench makes them
    await api.gql.signup_and_login()
    receipts = await bench_bootpay.create_receipts(emulator, api.url + "/graphql", [api.gql.token], 6, concurrency=2)
    before = await bench_bootpay.stats(emulator)
    # when the load generator claims them, 2 clients, the first 2 as warm-up
    result = await loadgen.run({
        "url": api.url + "/graphql", "kind": "bootpay", "concurrency": 2, "warmup": 2,
        "jobs": [[api.gql.token, r] for r in receipts], "max_seconds": 30, "timeout_s": 10,
    })
    # then every claim credited, each receipt fetched from Bootpay once, and nothing else asked
    assert (result["ok"], result["errors"], result["warmup_sent"]) == (4, 0, 2), result["error_samples"]
    assert len(result["latencies_ms"]) == 4
    used = bench_bootpay.stats_between(before, await bench_bootpay.stats(emulator))
    assert used == {bench_bootpay.RECEIPT_TEMPLATE: 6}
    assert await api.balance() == 6000
