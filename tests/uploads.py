"""Helpers for upload tests: images made with Pillow, and the multipart request exactly as
apollo-upload-client encodes it (``operations`` with the file as ``null``, ``map``, part ``1``)."""

from __future__ import annotations

import io
import json

import httpx
from PIL import Image

UPLOAD = "mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size isUsed createdAt __typename } }"


def png(size: tuple[int, int] = (8, 6), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF carries a camera model and a GPS position (Seoul City Hall)."""
    im = Image.new("RGB", (16, 12), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam 3000"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (37.0, 33.0, 59.0)
    gps[3], gps[4] = "E", (126.0, 58.0, 41.0)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def multipart_upload(
    client: httpx.Client,
    data: bytes,
    *,
    filename: str = "photo.png",
    content_type: str = "image/png",
    token: str | None = None,
    query: str = UPLOAD,
    file_map: dict | None = None,
    extra_headers: dict | None = None,
) -> httpx.Response:
    operations = {"operationName": "UploadFile", "query": query, "variables": {"file": None}}
    if "UploadFile" not in query:
        operations.pop("operationName")
    headers = {**(extra_headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(
        "/graphql",
        files={
            "operations": (None, json.dumps(operations)),
            "map": (None, json.dumps(file_map if file_map is not None else {"1": ["variables.file"]})),
            "1": (filename, data, content_type),
        },
        headers=headers,
    )
