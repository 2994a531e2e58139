"""Issue 23 #8: a balance never passes POINTCHARGE_BALANCE_MAX (at most 2,147,483,647, GraphQL's
Int). A credit past it is refused (BALANCE_LIMIT_EXCEEDED) and the payment refunded — by the
mutation, the webhook, the redirect and reconciliation alike, on the lean and the general path —, a
sale past it is refused, and reads never fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import GQL, SandboxControl, api_settings, error_code, ledger_invariants
from tests.reliability.test_hardening import _wait_settled, served
from tests.schema.test_buying import balance, charged, listed, login_as

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount balance } }"
PREPARE = "mutation($a: Int!) { preparePointCharge(amount: $a) { merchantUid } }"
CANCEL = "mutation($i: ID!) { cancelPointTransaction(impUid: $i) { _id } }"
READS = """{ fetchUserLoggedIn { userPoint { amount } }
  fetchPointTransactionsOfLoading { impUid amount balance status }
  fetchPointTransactions { amount balance }
  fetchPointChargeOrders { merchantUid status amount } }"""


async def test_a_payment_past_the_int_range_is_refused_refunded_and_reads_keep_working(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a user, and a payment of 2,200,000,000 made without preparePointCharge (the codecamp flow)
    await api.signup_and_login()
    paid = await sandbox.pay(2_200_000_000)
    # when they claim it
    claim = await api(CHARGE, {"i": paid["imp_uid"]})
    reads = await api(READS)
    remote = await sandbox.v1_payment(paid["imp_uid"])
    print(f"\nclaiming 2,200,000,000: {error_code(claim)} {claim['errors'][0].get('extensions')}; reads: "
          f"{error_code(reads) or 'ok'}; PortOne: {remote['status']}, cancelled {remote['cancel_amount']:,}")
    # then it is refused with a clear code and refunded, and every read answers
    assert error_code(claim) == "BALANCE_LIMIT_EXCEEDED"
    assert claim["errors"][0]["extensions"]["balanceMax"] == 2_147_483_647
    assert remote["status"] == "cancelled" and remote["cancel_amount"] == 2_200_000_000
    assert "errors" not in reads, reads
    assert reads["data"]["fetchUserLoggedIn"]["userPoint"]["amount"] == 0
    # and claiming it again credits nothing
    assert error_code(await api(CHARGE, {"i": paid["imp_uid"]})) in ("PAYMENT_NOT_PAID", "BALANCE_LIMIT_EXCEEDED")
    assert "errors" not in await api(READS)
    await ledger_invariants(clean_db)


async def test_the_cap_holds_on_every_credit_path_and_reconciliation_refunds_without_crediting(
    clean_db: str, sandbox: SandboxControl
) -> None:
    from api.runtime import runtime
    from services.reconcile import Reconciler

    # given a cap of 10,000 and a user holding 6,000
    settings = api_settings(clean_db, sandbox, balance_max=10_000)
    with served(settings) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            await api.signup_and_login()
            first = await sandbox.pay(6000)
            assert error_code(await api(CHARGE, {"i": first["imp_uid"]})) is None

            async def prepared_payment(amount: int) -> dict:
                order = (await api(PREPARE, {"a": amount}))["data"]["preparePointCharge"]["merchantUid"]
                return await sandbox.pay(amount, merchant_uid=order)

            # when 5,000 more arrives by the mutation (lean first sighting), by a webhook, by the redirect
            by_claim = await prepared_payment(5000)
            claim = await api(CHARGE, {"i": by_claim["imp_uid"]})
            by_hook = await prepared_payment(5000)
            await http.post("/webhooks/portone", json={"imp_uid": by_hook["imp_uid"], "merchant_uid": by_hook["merchant_uid"], "status": "paid"})
            await _wait_settled(clean_db)
            by_redirect = await prepared_payment(5000)
            redirect = await http.get("/payments/complete", params={"imp_uid": by_redirect["imp_uid"], "merchant_uid": by_redirect["merchant_uid"]})
            # then each is refused and refunded, and the balance stays 6,000
            assert error_code(claim) == "BALANCE_LIMIT_EXCEEDED"
            assert "outcome=failed" in redirect.headers["location"] and "reason=balance_limit" in redirect.headers["location"]
            for p in (by_claim, by_hook, by_redirect):
                assert (await sandbox.v1_payment(p["imp_uid"]))["status"] == "cancelled", p
            assert await balance(api, api.token or "") == 6000
            # and when the refund itself fails (PortOne down), the payment stays paid at PortOne …
            await sandbox.faults(error_rate=1.0, endpoints=["POST /v1/payments/cancel"])
            stuck = await prepared_payment(5000)
            assert error_code(await api(CHARGE, {"i": stuck["imp_uid"]})) == "BALANCE_LIMIT_EXCEEDED"
            await sandbox.clear_faults()
            assert (await sandbox.v1_payment(stuck["imp_uid"]))["status"] == "paid"
            # … and even once the balance has room again (the 6,000 refunded) …
            assert error_code(await api(CANCEL, {"i": first["imp_uid"]})) is None
            assert await balance(api, api.token or "") == 0
    # … reconciliation refunds it and credits nothing
    async with runtime(settings) as (services, db):
        report = await Reconciler(db, services.charging, services.webhooks).run(
            since=datetime.now(UTC) - timedelta(days=1), apply=True
        )
    kinds = [(d.kind, d.fixed) for d in report.differences]
    print(f"\ncap 10,000, 6,000 held, 5,000 by claim / webhook / redirect: all refunded; reconcile: {kinds}")
    assert ("limit_not_refunded", True) in kinds
    assert (await sandbox.v1_payment(stuck["imp_uid"]))["status"] == "cancelled"
    balances = await ledger_invariants(clean_db)
    assert list(balances.values()) == [0]


async def test_a_sale_past_the_sellers_cap_is_refused_and_nothing_moves(clean_db: str, sandbox: SandboxControl) -> None:
    settings = api_settings(clean_db, sandbox, balance_max=10_000)
    with served(settings) as (url, _app):
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            api = GQL(http)
            # given a seller holding 8,000 (cap 10,000) with an item at 3,000, and a buyer with 5,000
            seller = await login_as(api, "seller@example.com", "판매자")
            await charged(api, sandbox, seller, 8000)
            item = await listed(api, seller, price=3000)
            buyer = await login_as(api, "buyer@example.com", "구매자")
            await charged(api, sandbox, buyer, 5000)
            # when the buyer buys it
            bought = await api("mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { _id } }",
                               {"id": item["_id"]}, token=buyer)
            # then the sale is refused: nothing moves and the item is still for sale
            assert error_code(bought) == "BALANCE_LIMIT_EXCEEDED"
            assert await balance(api, buyer) == 5000 and await balance(api, seller) == 8000
            listing = await api("{ fetchUseditems { _id } }")
            assert item["_id"] in [i["_id"] for i in listing["data"]["fetchUseditems"]]
    await ledger_invariants(clean_db)
