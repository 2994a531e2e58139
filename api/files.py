"""``GET /files/<url>``: uploaded images served from the store (the default public base is
``<api>/files/``, so ``make run`` needs no object storage, and a private bucket works too).

Only names uploadFile generates are read (``services.files.KEY``: no ``..``, no other bucket); the
Content-Type comes from the extension, which came from the checked content; ``nosniff`` and a
CSP keep a browser from treating the bytes as anything else. Names are random and never reused:
the response may be cached for good."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from schema.app_services import Services
from services.images import CONTENT_TYPES

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


async def serve_file(request: Request) -> Response:
    services: Services = request.app.state.services
    files = services.files
    key = files.key_of(request.path_params["bucket"], request.path_params["key"]) if files else None
    found = await files.storage.read(key) if files and key else None
    if found is None:
        return PlainTextResponse("Not Found", status_code=404, headers={"X-Content-Type-Options": "nosniff"})
    chunks, size = found
    media_type = CONTENT_TYPES[key.rsplit(".", 1)[1]]  # type: ignore[union-attr]
    return StreamingResponse(chunks, media_type=media_type, headers={**HEADERS, "Content-Length": str(size)})
