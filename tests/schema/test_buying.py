"""Items and buying end to end: the API and the PortOne sandbox, both over real HTTP, the way a
codecamp-style React/Apollo frontend calls them."""

from __future__ import annotations

import pytest

from tests.conftest import GQL, SandboxControl, count_rows, error_code, ledger_invariants

CHARGE = "mutation($i: ID!) { createPointTransactionOfLoading(impUid: $i) { _id amount balance } }"
CANCEL = "mutation($i: ID!, $a: Int) { cancelPointTransaction(impUid: $i, amount: $a) { amount balance } }"
CREATE = """mutation($i: CreateUseditemInput!) {
  createUseditem(createUseditemInput: $i) {
    _id name remarks contents price tags images pickedCount soldAt createdAt updatedAt deletedAt
    seller { _id name } buyer { _id }
    useditemAddress { _id zipcode address addressDetail lat lng }
  }
}"""
BUY = """mutation($id: ID!) {
  createPointTransactionOfBuyingAndSelling(useritemId: $id) {
    _id name price soldAt buyer { name } seller { name }
  }
}"""
BUYING = """query($s: String, $p: Int) {
  fetchPointTransactionsOfBuying(search: $s, page: $p) {
    _id amount status balance statusDetail useditem { _id name price remarks contents soldAt images tags pickedCount
      seller { name } buyer { name } useditemAddress { address } }
  }
  fetchPointTransactionsCountOfBuying
}"""
SELLING = """{
  fetchPointTransactionsOfSelling { amount status balance useditem { name price } }
  fetchPointTransactionsCountOfSelling
}"""
BALANCE = "{ fetchUserLoggedIn { userPoint { amount } } }"


def item_input(**overrides: object) -> dict:
    values: dict[str, object] = {"name": "중고 자전거", "remarks": "거의 새것", "contents": "한 번 탔습니다.", "price": 3000}
    values.update(overrides)
    return values


async def balance(api: GQL, token: str) -> int:
    return (await api(BALANCE, token=token))["data"]["fetchUserLoggedIn"]["userPoint"]["amount"]


async def login_as(api: GQL, email: str, name: str) -> str:
    await api.signup_and_login(email, name=name)
    assert api.token is not None
    return api.token


async def charged(api: GQL, sandbox: SandboxControl, token: str, amount: int) -> str:
    paid = await sandbox.pay(amount)
    result = await api(CHARGE, {"i": paid["imp_uid"]}, token=token)
    assert "errors" not in result, result
    return paid["imp_uid"]


async def listed(api: GQL, token: str, price: int = 3000, **fields: object) -> dict:
    result = await api(CREATE, {"i": item_input(price=price, **fields)}, token=token)
    assert "errors" not in result, result
    return result["data"]["createUseditem"]


async def test_codecamp_flow_end_to_end(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given a buyer who charged 10,000 and another user who lists an item at 3,000
    buyer = await login_as(api, "buyer@example.com", "구매자")
    await charged(api, sandbox, buyer, 10_000)
    seller = await login_as(api, "seller@example.com", "판매자")
    item = await listed(
        api, seller, tags=["자전거", "중고"], images=["https://img.example.com/a.png"],
        useditemAddress={"zipcode": "06236", "address": "서울 강남구", "addressDetail": "1층", "lat": 37.5, "lng": 127.03},
    )
    assert item["seller"]["name"] == "판매자" and item["buyer"] is None and item["soldAt"] is None
    assert item["useditemAddress"]["address"] == "서울 강남구" and item["tags"] == ["자전거", "중고"]

    # when the buyer buys it, selecting what codecamp frontends select
    bought = await api(BUY, {"id": item["_id"]}, token=buyer)

    # then the item is sold to the buyer at the server's price
    sold = bought["data"]["createPointTransactionOfBuyingAndSelling"]
    assert sold["_id"] == item["_id"] and sold["price"] == 3000 and sold["name"] == "중고 자전거"
    assert sold["soldAt"] is not None and sold["buyer"] == {"name": "구매자"} and sold["seller"] == {"name": "판매자"}
    # the buyer's 구매 history shows -3,000 with the item, balance 7,000
    history = (await api(BUYING, token=buyer))["data"]
    (entry,) = history["fetchPointTransactionsOfBuying"]
    assert (entry["amount"], entry["status"], entry["balance"]) == (-3000, "구매", 7000)
    assert entry["useditem"]["name"] == "중고 자전거" and entry["useditem"]["price"] == 3000
    assert entry["useditem"]["buyer"] == {"name": "구매자"} and entry["useditem"]["useditemAddress"]["address"] == "서울 강남구"
    assert history["fetchPointTransactionsCountOfBuying"] == 1
    # the seller's 판매 history shows +3,000
    selling = (await api(SELLING, token=seller))["data"]
    assert selling["fetchPointTransactionsOfSelling"] == [
        {"amount": 3000, "status": "판매", "balance": 3000, "useditem": {"name": "중고 자전거", "price": 3000}}
    ]
    assert selling["fetchPointTransactionsCountOfSelling"] == 1
    # and the item lists for both
    mine = "{ fetchUseditemsIBought { _id } fetchUseditemsCountIBought fetchUseditemsISold { _id } fetchUseditemsCountISold }"
    as_buyer = (await api(mine, token=buyer))["data"]
    assert as_buyer["fetchUseditemsIBought"] == [{"_id": item["_id"]}] and as_buyer["fetchUseditemsCountIBought"] == 1
    assert as_buyer["fetchUseditemsISold"] == []
    as_seller = (await api(mine, token=seller))["data"]
    assert as_seller["fetchUseditemsISold"] == [{"_id": item["_id"]}] and as_seller["fetchUseditemsCountISold"] == 1
    assert await balance(api, buyer) == 7000 and await balance(api, seller) == 3000
    balances = await ledger_invariants(clean_db)
    assert sorted(balances.values()) == [3000, 7000]


async def test_buying_refusals(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    buyer = await login_as(api, "buyer@example.com", "구매자")
    await charged(api, sandbox, buyer, 5000)
    seller = await login_as(api, "seller@example.com", "판매자")
    cheap = await listed(api, seller, price=2000)
    dear = await listed(api, seller, price=5001)
    # not logged in
    assert error_code(await api(BUY, {"id": cheap["_id"]}, token="")) == "UNAUTHENTICATED"
    # one's own item
    result = await api(BUY, {"id": cheap["_id"]}, token=seller)
    assert error_code(result) == "CANNOT_BUY_OWN_ITEM"
    assert result["errors"][0]["message"] == "자신의 상품은 구매할 수 없습니다."
    # more than the balance
    result = await api(BUY, {"id": dear["_id"]}, token=buyer)
    assert error_code(result) == "INSUFFICIENT_POINTS" and result["errors"][0]["message"] == "포인트가 부족합니다."
    # missing, malformed
    for bad in ("0" * 32, "nope", "'; DROP TABLE useditems; --", "\x00"):
        assert error_code(await api(BUY, {"id": bad}, token=buyer)) == "NOT_FOUND", bad
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status IN ('구매', '판매')") == 0
    # bought, then retried by the same buyer: the item again, no points moved
    first = await api(BUY, {"id": cheap["_id"]}, token=buyer)
    again = await api(BUY, {"id": cheap["_id"]}, token=buyer)
    assert again["data"] == first["data"]
    assert await balance(api, buyer) == 3000
    # anyone else: sold out
    third = await login_as(api, "third@example.com", "셋째")
    assert error_code(await api(BUY, {"id": cheap["_id"]}, token=third)) == "ITEM_SOLD_OUT"
    # the seller can neither change nor delete it now
    update = "mutation($id: ID!, $i: UpdateUseditemInput!) { updateUseditem(useditemId: $id, updateUseditemInput: $i) { price } }"
    assert error_code(await api(update, {"id": cheap["_id"], "i": {"price": 1}}, token=seller)) == "ITEM_SOLD_OUT"
    delete = "mutation($id: ID!) { deleteUseditem(useditemId: $id) }"
    assert error_code(await api(delete, {"id": cheap["_id"]}, token=seller)) == "ITEM_SOLD_OUT"
    # a deleted item cannot be bought
    assert (await api(delete, {"id": dear["_id"]}, token=seller))["data"]["deleteUseditem"] == dear["_id"]
    assert error_code(await api(BUY, {"id": dear["_id"]}, token=buyer)) == "NOT_FOUND"
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM point_transactions WHERE status IN ('구매', '판매')") == 2
    await ledger_invariants(clean_db)


async def test_held_points_are_not_spendable(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    # given 5,000 points, 4,000 of which a pending cancel holds (PortOne does not answer)
    buyer = await login_as(api, "buyer@example.com", "구매자")
    imp_uid = await charged(api, sandbox, buyer, 5000)
    seller = await login_as(api, "seller@example.com", "판매자")
    item = await listed(api, seller, price=2000)
    await sandbox.faults(error_rate=1.0)
    assert error_code(await api(CANCEL, {"i": imp_uid, "a": 4000}, token=buyer)) == "PORTONE_UNAVAILABLE"
    await sandbox.clear_faults()
    # when the buyer tries to spend 2,000 of the 5,000
    result = await api(BUY, {"id": item["_id"]}, token=buyer)
    # then only the unheld 1,000 counts
    assert error_code(result) == "INSUFFICIENT_POINTS"
    assert await balance(api, buyer) == 5000
    await ledger_invariants(clean_db)


async def test_spent_points_cannot_be_refunded(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    buyer = await login_as(api, "buyer@example.com", "구매자")
    imp_uid = await charged(api, sandbox, buyer, 5000)
    seller = await login_as(api, "seller@example.com", "판매자")
    item = await listed(api, seller, price=4000)
    assert "errors" not in await api(BUY, {"id": item["_id"]}, token=buyer)
    assert error_code(await api(CANCEL, {"i": imp_uid}, token=buyer)) == "INSUFFICIENT_POINTS"
    assert (await api(CANCEL, {"i": imp_uid, "a": 1000}, token=buyer))["data"]["cancelPointTransaction"]["balance"] == 0
    assert (await sandbox.v1_payment(imp_uid))["cancel_amount"] == 1000
    await ledger_invariants(clean_db)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "가" * 101}, "name"),
        ({"price": 0}, "price"),
        ({"price": -1}, "price"),
        ({"price": 100_000_001}, "price"),
        ({"remarks": "x" * 301}, "remarks"),
        ({"contents": "x" * 10_001}, "contents"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"tags": ["가" * 31]}, "tags"),
        ({"images": [f"https://e.com/{i}.png" for i in range(11)]}, "images"),
        ({"images": ["javascript:alert(1)"]}, "images"),
        ({"useditemAddress": {"lat": 91.0}}, "useditemAddress.lat"),
        ({"useditemAddress": {"address": "주" * 201}}, "useditemAddress.address"),
    ],
)
async def test_bad_item_input_creates_nothing(
    api: GQL, sandbox: SandboxControl, clean_db: str, overrides: dict, field: str
) -> None:
    token = await login_as(api, "seller@example.com", "판매자")
    result = await api(CREATE, {"i": item_input(**overrides)}, token=token)
    assert error_code(result) == "BAD_USER_INPUT", result
    assert result["errors"][0]["extensions"]["field"] == field
    assert any("가" <= ch <= "힣" for ch in result["errors"][0]["message"])  # a Korean message
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditems") == 0
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditem_addresses") == 0


async def test_catalogue_queries(api: GQL, sandbox: SandboxControl, clean_db: str) -> None:
    seller = await login_as(api, "seller@example.com", "판매자")
    items = [await listed(api, seller, price=1000 + i, name=f"상품 {i:02d}") for i in range(12)]
    # newest first, 10 a page, public
    page1 = (await api("{ fetchUseditems { name } }", token=""))["data"]["fetchUseditems"]
    page2 = (await api("{ fetchUseditems(page: 2) { name } }", token=""))["data"]["fetchUseditems"]
    assert [i["name"] for i in page1 + page2] == [f"상품 {i:02d}" for i in reversed(range(12))]
    assert len(page1) == 10
    found = (await api('{ fetchUseditems(search: "상품 0") { name } }', token=""))["data"]["fetchUseditems"]
    assert sorted(i["name"] for i in found) == [f"상품 {i:02d}" for i in range(10)]
    assert error_code(await api("{ fetchUseditems(page: 0) { name } }")) == "BAD_USER_INPUT"
    one = await api("query($id: ID!) { fetchUseditem(useditemId: $id) { name price seller { name } } }", {"id": items[3]["_id"]})
    assert one["data"]["fetchUseditem"] == {"name": "상품 03", "price": 1003, "seller": {"name": "판매자"}}
    assert error_code(await api("{ fetchUseditem(useditemId: \"zzz\") { name } }")) == "NOT_FOUND"
    # picks: toggled on and off per user; the best are the most picked
    picker = await login_as(api, "picker@example.com", "찜")
    toggle = "mutation($id: ID!) { toggleUseditemPick(useditemId: $id) }"
    assert (await api(toggle, {"id": items[5]["_id"]}, token=picker))["data"]["toggleUseditemPick"] == 1
    assert (await api(toggle, {"id": items[5]["_id"]}, token=seller))["data"]["toggleUseditemPick"] == 2
    assert (await api(toggle, {"id": items[7]["_id"]}, token=picker))["data"]["toggleUseditemPick"] == 1
    assert (await api(toggle, {"id": items[2]["_id"]}, token=picker))["data"]["toggleUseditemPick"] == 1
    assert (await api(toggle, {"id": items[2]["_id"]}, token=picker))["data"]["toggleUseditemPick"] == 0
    best = (await api("{ fetchUseditemsOfTheBest { name pickedCount } }"))["data"]["fetchUseditemsOfTheBest"]
    assert len(best) == 4 and best[:2] == [{"name": "상품 05", "pickedCount": 2}, {"name": "상품 07", "pickedCount": 1}]
    picked = (await api("{ fetchUseditemsIPicked { name } fetchUseditemsCountIPicked }", token=picker))["data"]
    assert picked == {"fetchUseditemsIPicked": [{"name": "상품 07"}, {"name": "상품 05"}], "fetchUseditemsCountIPicked": 2}
    # updates by the seller only; only the fields sent change
    update = "mutation($id: ID!, $i: UpdateUseditemInput!) { updateUseditem(useditemId: $id, updateUseditemInput: $i) { name price remarks } }"
    changed = await api(update, {"id": items[0]["_id"], "i": {"price": 999}}, token=seller)
    assert changed["data"]["updateUseditem"] == {"name": "상품 00", "price": 999, "remarks": "거의 새것"}
    assert error_code(await api(update, {"id": items[0]["_id"], "i": {"price": 1}}, token=picker)) == "FORBIDDEN"
    assert error_code(await api(update, {"id": items[0]["_id"], "i": {"price": 0}}, token=seller)) == "BAD_USER_INPUT"
    # a sold-out listing shows sold items only
    buyer = await login_as(api, "buyer@example.com", "구매자")
    await charged(api, sandbox, buyer, 5000)
    assert "errors" not in await api(BUY, {"id": items[1]["_id"]}, token=buyer)
    soldout = (await api("{ fetchUseditems(isSoldout: true) { name } }"))["data"]["fetchUseditems"]
    assert soldout == [{"name": "상품 01"}]
    assert len((await api("{ fetchUseditems(page: 2) { name } }"))["data"]["fetchUseditems"]) == 1
