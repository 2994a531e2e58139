"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and breaks streaming/cancellation)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import access_line


_MULTIPART = b"multipart/form-data"


class BodySizeLimit:
    """Rejects request bodies over ``max_bytes`` with 413 before they reach a handler.

    A GraphQL multipart request (an upload: ``multipart/form-data`` to ``upload_path``) may be up
    to ``upload_max_bytes`` (the file's limit plus room for ``operations`` and ``map``), counted
    while it streams in like every other body; its 413 says ``FILE_TOO_LARGE``."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, *, upload_max_bytes: int | None = None, upload_path: str = "/graphql"
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, code = self.max_bytes, "PAYLOAD_TOO_LARGE"
        length: bytes | None = None
        chunked = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif (
                name == b"content-type"
                and self.upload_max_bytes is not None
                and value[: len(_MULTIPART)].lower() == _MULTIPART
                and scope.get("path") == self.upload_path
            ):
                limit, code = self.upload_max_bytes, "FILE_TOO_LARGE"
        declared = False
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = True
            if too_big:
                await _reject(send, code)
                return
            declared = not chunked
        if declared:
            # The server reads exactly Content-Length bytes (more would be the next request), and
            # that is within the limit: nothing to count (most requests; the wrappers below cost).
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, code)


class _TooLarge(Exception):
    pass


_TOO_LARGE_MESSAGES = {"PAYLOAD_TOO_LARGE": "요청 본문이 너무 큽니다.", "FILE_TOO_LARGE": "파일이 너무 큽니다."}


async def _reject(send: Send, code: str = "PAYLOAD_TOO_LARGE") -> None:
    body = json.dumps(
        {"errors": [{"message": _TOO_LARGE_MESSAGES[code], "extensions": {"code": code}}]},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


_REQUEST_ID_HEADER = b"x-request-id"
# What we accept from a client or a proxy: short, printable, no separators a log parser would trip on.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
access_log = logging.getLogger("pointcharge.access")
_POLLED = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestId:
    """Gives every request an id and puts it on every log line written while serving it.

    Accepts a sane incoming ``X-Request-ID`` (a proxy's or a client's, so that their logs and ours
    join up) or generates one; binds it with structlog's contextvars for the duration of the
    request (its background tasks included), echoes it in the response's ``X-Request-ID``, and
    writes one access line per request once its response is sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        logged = False
        started = time.perf_counter()
        # Restore what was bound before us (an in-process client shares our context), then bind.
        outer = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        notes, notes_token = access_line.open_notes()

        def log_access() -> None:
            nonlocal logged
            logged = True
            notes.written = True
            # Load balancers and Prometheus poll these every few seconds: not worth a line each.
            quiet = scope.get("path") in _POLLED and status < 400
            client = scope.get("client")
            access_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={
                    **notes.fields,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client": client[0] if client else None,
                },
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _REQUEST_ID_HEADER]
                headers.append((_REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body") and not logged:
                # The response is out; background work (a webhook's sync) still logs with our id.
                log_access()

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not logged:
                log_access()
            access_line.close_notes(notes_token)
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == _REQUEST_ID_HEADER:
            try:
                candidate = value.decode("ascii").strip()
            except UnicodeDecodeError:
                return None
            return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None
    return None
