"""The S3 storage path against a real S3 API server (moto's server mode, started by .ci/run and
named by ``POINTCHARGE_TEST_S3_ENDPOINT``): put, read and delete through obstore, then an upload
over HTTP served back from the bucket at /files/<url>. Skips locally without a server; fails
under CI=true."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import httpx
import obstore
import pytest
from obstore.store import from_url

from api.app import create_app
from services.storage import Storage
from tests.conftest import make_settings, wipe_tables
from tests.servers import reserve_socket, run_server, socket_url
from tests.uploads import multipart_upload, png

ENDPOINT = os.environ.get("POINTCHARGE_TEST_S3_ENDPOINT")


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> str:
    if not ENDPOINT:
        if os.environ.get("CI") == "true":
            pytest.fail("POINTCHARGE_TEST_S3_ENDPOINT is not set under CI (.ci/run starts moto_server)")
        pytest.skip("no S3 server: set POINTCHARGE_TEST_S3_ENDPOINT (e.g. `moto_server -p 5000`)")
    # Credentials from the environment, as in production (moto accepts any).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    name = f"pc-{uuid.uuid4().hex[:12]}"
    created = httpx.put(f"{ENDPOINT}/{name}")  # obstore does not create buckets
    assert created.status_code == 200, created.text
    return name


def s3_object(bucket: str, key: str) -> tuple[bytes, str | None] | None:
    """The object as the bucket holds it, read by a client of its own (the bucket is private)."""

    async def read() -> tuple[bytes, str | None] | None:
        store = from_url(f"s3://{bucket}", config={"endpoint": ENDPOINT}, client_options={"allow_http": True})
        try:
            result = await obstore.get_async(store, key)
        except FileNotFoundError:
            return None
        return bytes(await result.bytes_async()), result.attributes.get("Content-Type")  # type: ignore[return-value]

    return asyncio.run(read())


async def test_storage_round_trip_on_s3(bucket: str) -> None:
    storage = Storage(f"s3://{bucket}/uploads", endpoint=ENDPOINT)
    assert storage.bucket == bucket

    await storage.put("2026/12/6/a.png", b"png bytes", "image/png")
    # in the bucket under the prefix, with its type
    assert await asyncio.to_thread(s3_object, bucket, "uploads/2026/12/6/a.png") == (b"png bytes", "image/png")
    found = await storage.read("2026/12/6/a.png")
    assert found is not None
    chunks, size = found
    assert size == 9 and b"".join([c async for c in chunks]) == b"png bytes"

    await storage.delete("2026/12/6/a.png")
    assert await storage.read("2026/12/6/a.png") is None
    assert await asyncio.to_thread(s3_object, bucket, "uploads/2026/12/6/a.png") is None
    await storage.delete("2026/12/6/a.png")  # deleting what is gone is fine


@pytest.fixture
def s3_api(database_url: str, bucket: str) -> Iterator[str]:
    asyncio.run(wipe_tables(database_url))
    sock = reserve_socket()
    settings = make_settings(
        database_url, public_url=socket_url(sock), storage_url=f"s3://{bucket}", storage_endpoint=ENDPOINT
    )
    with run_server(create_app(settings), sock=sock) as base:
        yield base


def test_an_upload_lands_in_the_bucket_and_is_served(s3_api: str, bucket: str) -> None:
    with httpx.Client(base_url=s3_api, timeout=30) as http:
        http.post("/graphql", json={"query": 'mutation { createUser(createUserInput: {email: "s3@example.com", password: "password123", name: "김철수"}) { _id } }'})
        token = http.post(
            "/graphql", json={"query": 'mutation { loginUser(email: "s3@example.com", password: "password123") { accessToken } }'}
        ).json()["data"]["loginUser"]["accessToken"]
        image = png((5, 5))
        result = multipart_upload(http, image, token=token).json()
        assert "errors" not in result, result
        url = result["data"]["uploadFile"]["url"]
        bucket_name, key = url.split("/", 1)
        assert bucket_name == bucket  # so that https://storage.googleapis.com/ + url works on GCS
        stored = s3_object(bucket, key)
        assert stored is not None and stored[0][:8] == b"\x89PNG\r\n\x1a\n" and stored[1] == "image/png"
        served = http.get(f"/files/{url}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content == stored[0]
