"""Where uploaded files live: one async API (obstore) over a local folder, S3-compatible object
storage, Google Cloud Storage and Azure, chosen by ``POINTCHARGE_STORAGE_URL``.

Credentials come from the environment as obstore reads them (``AWS_ACCESS_KEY_ID``…,
``GOOGLE_SERVICE_ACCOUNT``…, or the cloud's metadata service); only the S3 endpoint of an
S3-compatible server (MinIO, R2, moto) is ours to set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, ObjectStore, from_url

_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


log = logging.getLogger("pointcharge.storage")
SCHEMES = ("file", "s3", "s3a", "gs", "az", "abfs", "abfss", "azure")


class Storage:
    """Opened at start-up when it can be; when it cannot (a folder the service may not create, say),
    the API still starts — payments do not depend on images — and uploads fail until it can."""

    def __init__(self, url: str, *, endpoint: str | None = None) -> None:
        if _scheme(url) not in SCHEMES:
            raise ValueError(f"POINTCHARGE_STORAGE_URL: unsupported scheme {_scheme(url)!r} (file://, s3://, gs://, az://)")
        self.url = url
        self.endpoint = endpoint
        self.bucket = bucket_name(url)
        self._store: ObjectStore | None = None
        try:
            self._store = open_store(url, endpoint=endpoint)
        except Exception as exc:  # noqa: BLE001 - reported, retried on first use
            log.warning("file storage %s is not usable yet (uploads will fail): %s", _redacted(url), exc)

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            self._store = open_store(self.url, endpoint=self.endpoint)
        return self._store

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        # Object stores keep the type for direct public URLs; a folder has no attributes (we serve
        # it ourselves, typed by the extension).
        local = _scheme(self.url) == "file"
        await obstore.put_async(self.store, key, data, attributes=None if local else {"Content-Type": content_type})

    async def read(self, key: str) -> tuple[AsyncIterator[bytes], int] | None:
        """The object's bytes as a stream, and its size; None when there is no such object."""
        try:
            result = await obstore.get_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return None

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream():
                yield bytes(chunk)

        return chunks(), int(result.meta["size"])

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            pass  # already gone: what we wanted


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def local_path(url: str) -> Path | None:
    """The folder of a ``file://`` (or plain path) storage URL; None for an object store."""
    if _scheme(url) != "file":
        return None
    return Path(url[len("file://"):] if url.startswith("file://") else url).expanduser().resolve()


def open_store(url: str, *, endpoint: str | None = None) -> ObjectStore:
    scheme = _scheme(url)
    path = local_path(url)
    if path is not None:
        return LocalStore(path, mkdir=True)
    if scheme in ("s3", "s3a"):
        config = {"endpoint": endpoint} if endpoint else None
        options = {"allow_http": True} if endpoint and endpoint.startswith("http://") else None
        return from_url(url, config=config, client_options=options)  # type: ignore[arg-type]
    return from_url(url)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return url if not parts.password else url.replace(parts.password, "***")


def bucket_name(url: str) -> str:
    """The first segment of every file's url: the bucket of an object store (so that
    ``https://storage.googleapis.com/`` + url is the object's public address on GCS), the folder's
    name for a local store."""
    path = local_path(url)
    name = path.name if path is not None else urlsplit(url).netloc
    return name if _BUCKET.fullmatch(name) else "files"
