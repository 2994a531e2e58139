"""The Bootpay charge scenario of ``python -m bench run`` (``--gateway bootpay``).

The standalone sandbox serves the Bootpay emulator under /bootpay; the API is pointed at its REST
base (the emulator's default client/secret keys fill in, sandbox mode). Each point: paid card
receipts for orders the claiming users prepared (``preparePointCharge(gateway: BOOTPAY)``, then
``POST /bootpay/_control/receipts`` with that ``order_id``: pointcharge credits a Bootpay receipt only
for an order of its own; the preparing is setup, not measured) and claimed once each with
``createPointTransactionOfLoading(receiptId:)``. The emulator's stats have no reset: a point's
Bootpay requests are the difference of two reads.
"""

from __future__ import annotations

import asyncio

import aiohttp

RECEIPT_TEMPLATE = "GET /v2/receipt/{receipt_id}"


def emulator(sandbox_base: str) -> str:
    """The Bootpay emulator's base URL inside the standalone sandbox (``pointcharge sandbox``)."""
    return sandbox_base + "/bootpay"


def api_env(sandbox_base: str) -> dict[str, str]:
    return {"POINTCHARGE_BOOTPAY_BASE_URL": emulator(sandbox_base) + "/v2"}


PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a, gateway: BOOTPAY) { merchantUid } }"


async def create_receipts(
    bootpay_base: str, graphql_url: str, tokens: list[str], n: int, price: int = 1000, concurrency: int = 16
) -> list[str]:
    """Paid card receipts for our own orders: receipt ``i`` pays an order prepared by
    ``tokens[i % len(tokens)]`` (``preparePointCharge(gateway: BOOTPAY)``; Bootpay has no
    pre-registration, so pointcharge credits a Bootpay receipt only for an order it made), paid
    through the emulator's control API. Returns the receipt_ids in that order."""
    out: list[str | None] = [None] * n
    url = bootpay_base + "/_control/receipts"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def one(i: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            async with s.post(graphql_url, json={"query": PREPARE, "variables": {"a": price}}, headers=headers) as r:
                r.raise_for_status()
                body = await r.json()
            if body.get("errors"):
                raise RuntimeError(f"preparePointCharge failed: {body['errors']}")
            order_id = body["data"]["preparePointCharge"]["merchantUid"]
            payload = {"price": price, "order_id": order_id, "method": "card", "webhook": False}
            async with s.post(url, json=payload) as r:
                r.raise_for_status()
                out[i] = (await r.json())["receipt_id"]

        async def worker(start: int) -> None:
            for i in range(start, n, concurrency):
                await one(i)

        await asyncio.gather(*(worker(k) for k in range(min(concurrency, n))))
    return [r for r in out if r is not None]


async def stats(bootpay_base: str) -> dict[str, int]:
    """Bootpay REST requests per endpoint since the emulator started."""
    async with aiohttp.ClientSession() as s:
        async with s.get(bootpay_base + "/_control/stats") as r:
            r.raise_for_status()
            return await r.json()


def stats_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


class Requests:
    """Bootpay's requests during one point of the bench (a separate process: its own event loops)."""

    def __init__(self, sandbox_base: str) -> None:
        self.base = emulator(sandbox_base)
        self.before = asyncio.run(stats(self.base))

    def point_fields(self, charged: int) -> dict:
        """The Point's Bootpay fields, per request sent (warm-up included, as PortOne's)."""
        used = stats_between(self.before, asyncio.run(stats(self.base)))
        return {
            "bootpay_stats": used,
            "bootpay_gets_per_charge": round(used.get(RECEIPT_TEMPLATE, 0) / charged, 3) if charged else None,
            "bootpay_requests_per_charge": round(sum(used.values()) / charged, 3) if charged else None,
        }


# --- report ------------------------------------------------------------------------------------


def table(result: dict) -> str | None:
    """Bootpay's points beside pointcharge's PortOne points at the same database, workers and
    clients, same run; None when the run has no Bootpay point."""
    from bench.report import _md_table

    points = result["points"]
    portone = {(p["backend"], p["workers"], p["concurrency"]): p for p in points
               if p["target"] == "pointcharge" and p.get("gateway", "portone") == "portone" and not p.get("latency_ms")}
    rows = []
    for bp in (p for p in points if p.get("gateway") == "bootpay"):
        po = portone.get((bp["backend"], bp["workers"], bp["concurrency"]))
        rows.append([
            bp["backend"], bp["workers"], bp["concurrency"], po and po["charges_per_s"], bp["charges_per_s"],
            round(bp["charges_per_s"] / po["charges_per_s"], 2) if po and po["charges_per_s"] else None,
            po and po["p50_ms"], bp["p50_ms"], po and po["p90_ms"], bp["p90_ms"], po and po["p99_ms"], bp["p99_ms"],
            bp["errors"], bp.get("bootpay_gets_per_charge"), bp.get("bootpay_requests_per_charge"),
            bp.get("portone_requests_per_charge"), po and po.get("server_cpu_ms_per_charge"),
            bp.get("server_cpu_ms_per_charge"), max((x.get("foreign_cpu_pct") or 0) for x in (po, bp) if x),
        ])
    if not rows:
        return None
    return _md_table(
        ["db", "workers", "clients", "PortOne /s", "Bootpay /s", "Bootpay / PortOne", "PortOne p50 ms",
         "Bootpay p50 ms", "PortOne p90 ms", "Bootpay p90 ms", "PortOne p99 ms", "Bootpay p99 ms", "Bootpay errors",
         "Bootpay receipt GETs/charge", "Bootpay requests/charge", "PortOne requests/charge (Bootpay points)",
         "PortOne CPU ms/charge", "Bootpay CPU ms/charge", "foreign CPU %"],
        rows,
    )
