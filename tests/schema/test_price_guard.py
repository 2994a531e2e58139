"""Issue 23 #4: the buyer pays the price they saw. ``expectedPrice`` on
``createPointTransactionOfBuyingAndSelling`` is checked on the locked item row, inside the purchase."""

from __future__ import annotations

import asyncio

from tests.conftest import GQL, SandboxControl, error_code, ledger_invariants
from tests.schema.test_buying import BALANCE, balance, charged, listed, login_as

BUY_AT = """mutation($id: ID!, $p: Int) {
  createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $p) { _id price soldAt buyer { name } }
}"""
REPRICE = "mutation($id: ID!, $p: Int!) { updateUseditem(useditemId: $id, updateUseditemInput: {price: $p}) { price } }"


async def test_a_price_raised_after_the_page_loaded_is_refused_and_nothing_moves(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given a seller's item at 1,000 and a buyer with 100,000 points who saw it at 1,000
    seller = await login_as(api, "seller@example.com", "판매자")
    item = await listed(api, seller, price=1000)
    buyer = await login_as(api, "buyer@example.com", "구매자")
    await charged(api, sandbox, buyer, 100_000)
    # when the seller raises it to 90,000 before the buyer clicks
    assert error_code(await api(REPRICE, {"id": item["_id"], "p": 90_000}, token=seller)) is None
    refused = await api(BUY_AT, {"id": item["_id"], "p": 1000}, token=buyer)
    # then the purchase is refused with the current price, and nothing moved
    error = refused["errors"][0]
    print(f"\nbought at 1,000 seen, 90,000 now: {error['extensions']}; buyer keeps {await balance(api, buyer):,}")
    assert error["extensions"] == {"code": "PRICE_CHANGED", "price": 90_000}
    assert await balance(api, buyer) == 100_000 and await balance(api, seller) == 0
    # and with the price they now saw, it sells
    sold = await api(BUY_AT, {"id": item["_id"], "p": 90_000}, token=buyer)
    assert "errors" not in sold, sold
    assert sold["data"]["createPointTransactionOfBuyingAndSelling"]["price"] == 90_000
    assert await balance(api, buyer) == 10_000 and await balance(api, seller) == 90_000
    # a retry of that purchase (any expectedPrice) returns the item and moves nothing
    again = await api(BUY_AT, {"id": item["_id"], "p": 1}, token=buyer)
    assert "errors" not in again and await balance(api, buyer) == 10_000
    # codecamp frontends that send no expectedPrice keep working
    other = await listed(api, seller, price=2000)
    plain = await api("mutation($id: ID!) { createPointTransactionOfBuyingAndSelling(useritemId: $id) { price } }",
                      {"id": other["_id"]}, token=buyer)
    assert "errors" not in plain and await balance(api, buyer) == 8_000
    await ledger_invariants(clean_db)


async def test_a_reprice_racing_the_purchase_never_charges_the_new_price(
    api: GQL, sandbox: SandboxControl, clean_db: str
) -> None:
    # given 8 items at 1,000 and a buyer who saw them at 1,000
    seller = await login_as(api, "seller@example.com", "판매자")
    items = [await listed(api, seller, price=1000) for _ in range(8)]
    buyer = await login_as(api, "buyer@example.com", "구매자")
    await charged(api, sandbox, buyer, 100_000)
    # when, for each, the seller's change to 5,000 and the buyer's click are sent at once
    outcomes = []
    for item in items:
        reprice, buy = await asyncio.gather(
            api(REPRICE, {"id": item["_id"], "p": 5000}, token=seller),
            api(BUY_AT, {"id": item["_id"], "p": 1000}, token=buyer),
        )
        outcomes.append((error_code(reprice), error_code(buy)))
    # then each is either sold at 1,000 (the change refused: sold) or refused (PRICE_CHANGED): never 5,000
    sold = outcomes.count(("ITEM_SOLD_OUT", None))
    refused = outcomes.count((None, "PRICE_CHANGED"))
    print(f"\n8 reprices racing 8 purchases: {sold} sold at 1,000, {refused} PRICE_CHANGED; {outcomes}")
    assert sold + refused == 8, outcomes
    assert await balance(api, buyer) == 100_000 - 1000 * sold
    assert (await api(BALANCE, token=seller))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"] == 1000 * sold
    await ledger_invariants(clean_db)
