"""uploadFile over real HTTP, as apollo-upload-client sends it; /files/<url>; isUsed; cleanup."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from api.app import create_app
from services.models import FileUpload, utcnow
from tests.conftest import make_settings, wipe_tables
from tests.servers import reserve_socket, run_server, socket_url
from tests.uploads import UPLOAD, jpeg_with_gps, multipart_upload, png

MAX_BYTES = 100_000
URL = re.compile(r"([a-z0-9-]+)/(\d{4})/(\d{1,2})/(\d{1,2})/[0-9a-f]{32}\.(png|jpg|webp|gif)")


class Api:
    def __init__(self, base: str, files_dir: Path, database_url: str) -> None:
        self.base = base
        self.files_dir = files_dir
        self.database_url = database_url
        self.http = httpx.Client(base_url=base, timeout=30)

    def gql(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        return response.json()

    def login(self, email: str) -> str:
        created = self.gql(
            "mutation($i: CreateUserInput!){ createUser(createUserInput: $i){ _id } }",
            {"i": {"email": email, "password": "password123", "name": "김철수"}},
        )
        assert "errors" not in created, created
        return self.gql(
            "mutation($e: String!){ loginUser(email: $e, password: \"password123\"){ accessToken } }", {"e": email}
        )["data"]["loginUser"]["accessToken"]

    def upload(self, data: bytes, token: str | None, **kw: object) -> dict:
        response = multipart_upload(self.http, data, token=token, **kw)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return response.json()

    def stored_files(self) -> list[Path]:
        return [p for p in self.files_dir.rglob("*") if p.is_file()]

    def rows(self) -> list[tuple]:
        async def run() -> list[tuple]:
            engine = create_async_engine(self.database_url)
            try:
                async with engine.connect() as conn:
                    result = await conn.execute(text("SELECT url, is_used, deleted_at FROM file_uploads ORDER BY url"))
                    return [tuple(r) for r in result]
            finally:
                await engine.dispose()

        return asyncio.run(run())


@contextlib.contextmanager
def serving(database_url: str, tmp_path: Path, **overrides: object) -> Iterator[Api]:
    asyncio.run(wipe_tables(database_url))
    sock = reserve_socket()
    url = socket_url(sock)
    files_dir = tmp_path / "files"
    settings = make_settings(
        database_url, public_url=url, storage_url=f"file://{files_dir}", upload_max_bytes=MAX_BYTES, **overrides
    )
    with run_server(create_app(settings), sock=sock) as base:
        client = Api(base, files_dir, database_url)
        yield client
        client.http.close()


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with serving(database_url, tmp_path) as client:
        yield client


def code(result: dict) -> str | None:
    errors = result.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


def test_an_upload_as_apollo_upload_client_sends_it_is_stored_and_served(api: Api) -> None:
    # given a logged-in user and a PNG
    token = api.login("seller@example.com")
    image = png((9, 7))

    # when it is uploaded the way apollo-upload-client encodes it
    result = api.upload(image, token)

    # then a FileManager in codecamp's shape comes back, in the codecamp url form
    assert "errors" not in result, result
    uploaded = result["data"]["uploadFile"]
    assert uploaded["__typename"] == "FileManager" and uploaded["isUsed"] is False
    match = URL.fullmatch(uploaded["url"])
    assert match and match.group(1) == "files" and match.group(5) == "png", uploaded["url"]
    # and the browser gets it at publicBase + url with the right headers
    config = api.gql("{ fetchFileConfig { publicBase maxBytes } }")["data"]["fetchFileConfig"]
    assert config == {"publicBase": f"{api.base}/files/", "maxBytes": MAX_BYTES}
    served = httpx.get(config["publicBase"] + uploaded["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in served.headers["cache-control"]
    assert int(uploaded["size"]) == len(served.content)
    assert Image.open(io.BytesIO(served.content)).size == (9, 7)


def test_the_type_comes_from_the_content_not_the_name(api: Api) -> None:
    token = api.login("seller@example.com")

    # a PNG named .txt and sent as text/plain is a PNG
    as_text = api.upload(png(), token, filename="notes.txt", content_type="text/plain")
    assert as_text["data"]["uploadFile"]["url"].endswith(".png"), as_text

    # text named .jpg and sent as image/jpeg is refused, and nothing more is stored
    stored_before = api.stored_files()
    refused = api.upload(b"<html><script>alert(1)</script></html>", token, filename="cat.jpg", content_type="image/jpeg")
    assert code(refused) == "UNSUPPORTED_FILE_TYPE", refused
    assert refused["data"] is None
    assert api.stored_files() == stored_before
    assert len(api.rows()) == 1


def test_an_oversized_file_is_refused_and_nothing_is_stored(api: Api) -> None:
    token = api.login("seller@example.com")
    too_big = png() + b"\0" * MAX_BYTES  # a valid PNG header, one limit's worth of padding

    # when the file is just over the limit: a GraphQL error
    refused = api.upload(too_big, token)
    assert code(refused) == "FILE_TOO_LARGE", refused
    assert refused["errors"][0]["extensions"]["maxBytes"] == MAX_BYTES

    # when the whole body is far over it: 413 before the body is read, with the same code
    response = multipart_upload(api.http, b"\0" * (MAX_BYTES * 20), token=token)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"

    # then nothing was stored
    assert api.stored_files() == [] and api.rows() == []


def test_exif_and_gps_are_stripped(api: Api) -> None:
    # given a photo whose EXIF holds where it was taken
    token = api.login("seller@example.com")
    photo = jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # the GPS is there

    # when it is uploaded
    uploaded = api.upload(photo, token, filename="IMG_0001.JPG", content_type="image/jpeg")["data"]["uploadFile"]

    # then the stored bytes are a JPEG without any EXIF
    assert uploaded["url"].endswith(".jpg")
    (stored,) = api.stored_files()
    data = stored.read_bytes()
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and im.size == (16, 12)
    assert not im.getexif() and "exif" not in im.info
    assert b"Exif" not in data and b"PhoneCam" not in data


def test_anonymous_uploads_are_refused(api: Api) -> None:
    result = api.upload(png(), None)
    assert code(result) == "UNAUTHENTICATED"
    assert api.stored_files() == [] and api.rows() == []


@pytest.mark.parametrize(
    "query, file_map",
    [
        # a query is no upload
        ("query($file: Upload) { fetchFileConfig { maxBytes } }", None),
        # a cookie-authenticated mutation riding along a file (CSRF through a form)
        ("mutation($file: Upload) { restoreAccessToken { accessToken } }", None),
        ("mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id } logoutUser }", None),
        # the file mapped anywhere but an Upload variable
        (UPLOAD, {"1": ["variables.other"]}),
        (UPLOAD, {}),
    ],
)
def test_multipart_is_refused_for_anything_but_an_upload(api: Api, query: str, file_map: dict | None) -> None:
    token = api.login("seller@example.com")
    response = multipart_upload(api.http, png(), token=token, query=query, file_map=file_map)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert api.stored_files() == [] and api.rows() == []


@pytest.mark.parametrize(
    "path",
    ["files/../../etc/passwd", "files/%2e%2e/%2e%2e/etc/passwd", "other/2026/1/1/" + "a" * 32 + ".png", "files/x.png"],
)
def test_files_outside_the_uploads_are_not_served(api: Api, path: str) -> None:
    response = httpx.get(f"{api.base}/files/{path}")
    assert response.status_code == 404


def test_is_used_once_an_item_or_a_picture_names_it(api: Api) -> None:
    # given two users with an upload each
    seller = api.login("seller@example.com")
    other = api.login("other@example.com")
    mine = api.upload(png(), seller)["data"]["uploadFile"]["url"]
    theirs = api.upload(png(), other)["data"]["uploadFile"]["url"]
    picture = api.upload(png(), seller)["data"]["uploadFile"]["url"]

    # when the seller lists an item naming both (theirs by its absolute address)
    created = api.gql(
        "mutation($i: CreateUseditemInput!){ createUseditem(createUseditemInput: $i){ _id images } }",
        {"i": {"name": "의자", "remarks": "", "contents": "", "price": 1000, "images": [mine, f"https://cdn.example.com/files/{theirs}"]}},
        seller,
    )
    assert "errors" not in created, created
    # and makes the third one their picture
    updated = api.gql("mutation($p: String){ updateUser(updateUserInput: {picture: $p}){ picture } }", {"p": picture}, seller)
    assert "errors" not in updated, updated

    # and adds a photo to the item later
    later = api.upload(png(), seller)["data"]["uploadFile"]["url"]
    edited = api.gql(
        "mutation($u: UpdateUseditemInput!, $id: ID!){ updateUseditem(updateUseditemInput: $u, useditemId: $id){ images } }",
        {"u": {"images": [mine, later]}, "id": created["data"]["createUseditem"]["_id"]},
        seller,
    )
    assert "errors" not in edited, edited

    # then the seller's uploads are used, the other user's is not
    used = {url: is_used for url, is_used, _ in api.rows()}
    assert used == {mine: True, picture: True, later: True, theirs: False}


def test_cleanup_removes_old_unused_uploads_only(api: Api) -> None:
    from api.cli import main

    token = api.login("seller@example.com")
    urls = [api.upload(png(), token)["data"]["uploadFile"]["url"] for _ in range(3)]
    old_unused, old_used, new_unused = urls
    item = api.gql(
        "mutation($i: CreateUseditemInput!){ createUseditem(createUseditemInput: $i){ _id } }",
        {"i": {"name": "의자", "remarks": "", "contents": "", "price": 1000, "images": [old_used]}},
        token,
    )
    assert "errors" not in item, item

    async def backdate() -> None:
        engine = create_async_engine(api.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(FileUpload)
                    .where(FileUpload.url.in_([old_unused, old_used]))
                    .values(created_at=utcnow() - timedelta(hours=30))
                )
        finally:
            await engine.dispose()

    asyncio.run(backdate())

    # when the CLI cleans up (the default: older than a day)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POINTCHARGE_DATABASE_URL", api.database_url)
        env.setenv("POINTCHARGE_STORAGE_URL", f"file://{api.files_dir}")
        assert main(["files", "cleanup"]) == 0

    # then only the old unused upload is gone, from the store and as a row
    assert httpx.get(f"{api.base}/files/{old_unused}").status_code == 404
    for url in (old_used, new_unused):
        assert httpx.get(f"{api.base}/files/{url}").status_code == 200
    rows = {url: (is_used, deleted_at is not None) for url, is_used, deleted_at in api.rows()}
    assert rows == {old_unused: (False, True), old_used: (True, False), new_unused: (False, False)}


def test_a_file_inline_in_json_is_a_bad_input_not_a_crash(api: Api) -> None:
    token = api.login("seller@example.com")
    result = api.gql('mutation { uploadFile(file: "photo.png") { _id } }', token=token)
    assert code(result) == "BAD_USER_INPUT", result


def test_the_larger_body_limit_is_for_multipart_on_graphql_only(api: Api) -> None:
    token = api.login("seller@example.com")
    ordinary = 256 * 1024  # POINTCHARGE_MAX_BODY_BYTES's default
    big_json = {"query": "{ fetchFileConfig { maxBytes } }", "variables": {"pad": "x" * (ordinary + 1)}}

    # JSON to /graphql keeps the ordinary limit
    response = api.http.post("/graphql", json=big_json)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    # multipart anywhere else too
    response = api.http.post("/webhooks/portone", files={"1": ("a.png", b"\0" * (ordinary + 1), "image/png")})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_upload_is_counted_while_it_streams(api: Api) -> None:
    # given a multipart body without Content-Length (chunked), far over the limit
    token = api.login("seller@example.com")
    boundary = "----pointcharge"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        '{"query": "mutation($file: Upload!) { uploadFile(file: $file) { _id } }", "variables": {"file": null}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"1": ["variables.file"]}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="1"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()

    def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(MAX_BYTES * 50 // 65536):
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    # when it is sent, then it is refused with FILE_TOO_LARGE and nothing is stored
    try:
        response = api.http.post(
            "/graphql",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        print("connection closed before the body was sent:", exc)  # the server may stop reading
    else:
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"
    assert api.stored_files() == [] and api.rows() == []


async def test_serve_removes_unused_uploads_periodically(clean_db: str, tmp_path: Path) -> None:
    from asgi_lifespan import LifespanManager

    from tests.conftest import GQL

    # given serve's cleanup every 0.2 s for uploads of any age
    settings = make_settings(
        clean_db, storage_url=f"file://{tmp_path}", storage_cleanup_every=0.2, storage_cleanup_after_hours=0
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            gql = GQL(client)
            await gql.signup_and_login()
            operations = '{"query": "mutation($file: Upload!) { uploadFile(file: $file) { url } }", "variables": {"file": null}}'
            response = await client.post(
                "/graphql",
                files={"operations": (None, operations), "map": (None, '{"1": ["variables.file"]}'), "1": ("a.png", png(), "image/png")},
                headers={"Authorization": f"Bearer {gql.token}"},
            )
            url = response.json()["data"]["uploadFile"]["url"]

            # when nothing uses it, then it is removed within a few rounds
            for _ in range(100):
                if (await client.get(f"/files/{url}")).status_code == 404:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the periodic cleanup did not remove the unused upload")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_uploads_are_rate_limited_per_user(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path, rate_limit_upload="2/minute") as api:
        token = api.login("seller@example.com")
        assert [code(api.upload(png(), token)) for _ in range(3)] == [None, None, "RATE_LIMITED"]
        assert len(api.rows()) == 2
