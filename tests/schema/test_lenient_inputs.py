"""What real codecamp frontends send in an item form and a profile, over the GraphQL endpoint:
empty upload slots and tag boxes are dropped (not refused), and image addresses are either what
uploadFile returns or https URLs — never javascript:, data:, http: …"""

from __future__ import annotations

import pytest

from tests.conftest import GQL, count_rows, error_code

CREATE = "mutation($i: CreateUseditemInput!) { createUseditem(createUseditemInput: $i) { _id tags images } }"
UPDATE = """mutation($id: ID!, $i: UpdateUseditemInput!) {
  updateUseditem(useditemId: $id, updateUseditemInput: $i) { tags images }
}"""
FETCH = "query($id: ID!) { fetchUseditem(useditemId: $id) { tags images } }"
PICTURE = "mutation($p: String) { updateUser(updateUserInput: {picture: $p}) { picture } }"
UPLOADED = "codecamp-file-storage/2026/12/6/x.jpg"

REFUSED = [
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    " javascript:alert(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "http://img.example.com/a.png",
    "ftp://img.example.com/a.png",
    "//evil.example.com/a.png",
    "/etc/passwd",
    "codecamp-file-storage/../../etc/passwd",
    "codecamp-file-storage/2026/12/6/x.jpg?x=<script>",
    "https://",
    "https:///a.png",
    "https://img.example.com/a b.png",
    "https://img.example.com/\"onerror=\"alert(1)",
    "codecamp-file-storage/" + "a" * 2000 + ".jpg",
]


def item_input(**overrides: object) -> dict:
    return {"name": "중고 자전거", "remarks": "거의 새것", "contents": "한 번 탔습니다.", "price": 3000, **overrides}


async def created(gql: GQL, **overrides: object) -> dict:
    result = await gql(CREATE, {"i": item_input(**overrides)})
    assert "errors" not in result, result
    return result["data"]["createUseditem"]


async def test_codecamp_upload_pattern_and_empty_tag_box_on_create(gql: GQL) -> None:
    await gql.signup_and_login()
    # when an app registers an item with one photo in three upload slots and an empty tag box
    item = await created(gql, images=[UPLOADED, "", ""], tags=[""])
    # then one image and no tags are stored, and read back as such
    assert (item["images"], item["tags"]) == ([UPLOADED], [])
    assert (await gql(FETCH, {"id": item["_id"]}))["data"]["fetchUseditem"] == {"images": [UPLOADED], "tags": []}
    # no photo at all: three empty slots
    assert (await created(gql, images=["", " ", "\t"]))["images"] == []


async def test_tags_trimmed_and_deduplicated_in_first_order(gql: GQL) -> None:
    await gql.signup_and_login()
    item = await created(gql, tags=[" 자전거 ", "중고", "", "자전거", "  ", "#급처", "중고 "])
    assert item["tags"] == ["자전거", "중고", "#급처"]
    # eleven tags of which ten are distinct: accepted (the limit counts what is stored)
    many = await created(gql, tags=[f"t{i}" for i in range(10)] + ["t0"])
    assert many["tags"] == [f"t{i}" for i in range(10)]


async def test_empty_slots_dropped_on_update(gql: GQL) -> None:
    await gql.signup_and_login()
    item = await created(gql, images=[UPLOADED], tags=["자전거"])
    # when the edit form sends its slots back, the first emptied and a new URL in the third
    changed = await gql(UPDATE, {"id": item["_id"], "i": {"images": ["", "", "https://img.example.com/b.png"], "tags": ["", " 중고 ", "중고"]}})
    assert "errors" not in changed, changed
    assert changed["data"]["updateUseditem"] == {"images": ["https://img.example.com/b.png"], "tags": ["중고"]}
    assert (await gql(FETCH, {"id": item["_id"]}))["data"]["fetchUseditem"] == changed["data"]["updateUseditem"]


@pytest.mark.parametrize("url", REFUSED)
async def test_item_images_other_than_uploads_or_https_are_refused(gql: GQL, clean_db: str, url: str) -> None:
    await gql.signup_and_login()
    item = await created(gql, images=[UPLOADED])
    # on create: nothing is created
    result = await gql(CREATE, {"i": item_input(images=["", url])})
    assert error_code(result) == "BAD_USER_INPUT" and result["errors"][0]["extensions"]["field"] == "images", result
    assert await count_rows(clean_db, "SELECT COUNT(*) FROM useditems") == 1
    # on update: nothing changes
    result = await gql(UPDATE, {"id": item["_id"], "i": {"images": [url], "tags": ["바뀜"]}})
    assert error_code(result) == "BAD_USER_INPUT" and result["errors"][0]["extensions"]["field"] == "images", result
    assert (await gql(FETCH, {"id": item["_id"]}))["data"]["fetchUseditem"] == {"images": [UPLOADED], "tags": []}


@pytest.mark.parametrize("url", REFUSED)
async def test_pictures_other_than_uploads_or_https_are_refused(gql: GQL, url: str) -> None:
    await gql.signup_and_login()
    assert (await gql(PICTURE, {"p": UPLOADED}))["data"]["updateUser"] == {"picture": UPLOADED}
    result = await gql(PICTURE, {"p": url})
    assert error_code(result) == "BAD_USER_INPUT" and result["errors"][0]["extensions"]["field"] == "picture", result
    me = await gql("{ fetchUserLoggedIn { picture } }")
    assert me["data"]["fetchUserLoggedIn"]["picture"] == UPLOADED


async def test_picture_accepts_uploads_and_https_and_an_empty_one_removes_it(gql: GQL) -> None:
    await gql.signup_and_login()
    for url in (UPLOADED, "https://img.example.com/me.png?size=200#x", "https://이미지.example.com/프로필.png"):
        assert (await gql(PICTURE, {"p": f" {url} "}))["data"]["updateUser"] == {"picture": url}
    assert (await gql(PICTURE, {"p": ""}))["data"]["updateUser"] == {"picture": None}
