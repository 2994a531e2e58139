"""Closed-loop load generator: its own process, aiohttp on uvloop, so the client is not the bottleneck.

    python -m bench.loadgen SPEC.json RESULT.json

SPEC: {"url", "kind": "graphql" | "bootpay" | "floor", "concurrency", "jobs": [[auth, imp_uid], ...],
       "warmup": N, "start_at": epoch seconds, "max_seconds": S, "timeout_s": T}
``auth`` is an access token (graphql, bootpay) or a user id (floor); with bootpay the id is a
Bootpay receipt_id (``receiptId:``). Each of ``concurrency`` clients sends its next request as soon
as its previous answer arrived. The first ``warmup`` jobs are sent but not recorded. RESULT:
counts, wall-clock start/end of the measured part and every latency (ms).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp

CHARGE_MUTATION = (
    "mutation Charge($impUid: ID!) { createPointTransactionOfLoading(impUid: $impUid) "
    "{ _id impUid amount balance status } }"
)
BOOTPAY_MUTATION = (
    "mutation Charge($receiptId: ID!) { createPointTransactionOfLoading(receiptId: $receiptId) "
    "{ _id impUid amount balance status } }"
)


def request_for(kind: str, auth: str, imp_uid: str) -> tuple[bytes, dict[str, str]]:
    if kind in ("graphql", "bootpay"):
        body = ({"query": CHARGE_MUTATION, "variables": {"impUid": imp_uid}} if kind == "graphql"
                else {"query": BOOTPAY_MUTATION, "variables": {"receiptId": imp_uid}})
        headers = {"Authorization": f"Bearer {auth}", "Content-Type": "application/json"}
    else:
        body = {"user_id": auth, "imp_uid": imp_uid}
        headers = {"Content-Type": "application/json"}
    return json.dumps(body).encode(), headers


def succeeded(kind: str, status: int, body: bytes) -> tuple[bool, str | None]:
    if status != 200:
        return False, f"HTTP {status}: {body[:200]!r}"
    if kind != "floor":
        data = json.loads(body)
        if data.get("errors") or not (data.get("data") or {}).get("createPointTransactionOfLoading"):
            err = (data.get("errors") or [{}])[0]
            return False, f"{err.get('extensions', {}).get('code')}: {err.get('message')}"
    return True, None


async def run(spec: dict) -> dict:
    kind, url = spec["kind"], spec["url"]
    jobs = [tuple(j) for j in spec["jobs"]]
    warmup = min(int(spec.get("warmup", 0)), len(jobs))
    concurrency = int(spec["concurrency"])
    timeout = aiohttp.ClientTimeout(total=float(spec.get("timeout_s", 30)))
    max_seconds = float(spec.get("max_seconds", 60))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counts = {"ok": 0, "errors": 0, "warmup_sent": 0}

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def phase(batch: list[tuple[str, str]], record: bool, deadline: float) -> None:
            it = iter(batch)

            async def client() -> None:
                for auth, imp_uid in it:
                    if time.monotonic() > deadline:
                        return
                    data, headers = request_for(kind, auth, imp_uid)
                    t0 = time.perf_counter()
                    try:
                        async with session.post(url, data=data, headers=headers) as r:
                            body = await r.read()
                            status = r.status
                        ok, why = succeeded(kind, status, body)
                    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                        ok, why = False, type(exc).__name__
                    elapsed = (time.perf_counter() - t0) * 1000
                    if not record:
                        counts["warmup_sent"] += 1
                        continue
                    if ok:
                        counts["ok"] += 1
                        latencies.append(elapsed)
                    else:
                        counts["errors"] += 1
                        key = (why or "?")[:160]
                        errors[key] = errors.get(key, 0) + 1

            await asyncio.gather(*(client() for _ in range(concurrency)))

        await phase(jobs[:warmup], False, time.monotonic() + max_seconds)
        start_at = float(spec.get("start_at", 0))
        if start_at:
            await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        await phase(jobs[warmup:], True, time.monotonic() + max_seconds)
        ended = time.time()
    return {
        "cpu_s": time.process_time(),
        "ok": counts["ok"],
        "errors": counts["errors"],
        "warmup_sent": counts["warmup_sent"],
        "error_samples": errors,
        "started": started,
        "ended": ended,
        "latencies_ms": latencies,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec_path, out_path = argv
    with open(spec_path) as f:
        spec = json.load(f)
    try:
        import uvloop

        result = uvloop.run(run(spec))
    except ImportError:
        result = asyncio.run(run(spec))
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
