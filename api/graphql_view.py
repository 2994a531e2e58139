"""The Strawberry ASGI view: builds the typed context per request."""

from __future__ import annotations

import time
from pathlib import Path

import structlog
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.uploads import multipart_form, upload_fields, upload_operation
from schema.app_services import Services
from schema.context import Context
from schema.errors import format_error
from schema.observability import STATE_KEY
from services import metrics
from services.errors import DEFAULT_MESSAGES, Code

_GRAPHIQL_HTML = Path(__file__).with_name("graphiql.html")


class GraphQLView(GraphQL[Context, None]):
    def __init__(
        self, *args: object, services: Services, max_form_field_bytes: int = 256 * 1024, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.services = services
        self.max_form_field_bytes = max_form_field_bytes
        self.upload_fields = upload_fields(self.schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry answers requests that are not GraphQL at all (unparseable JSON, no query,
        ``variables`` not an object, a batch — JSON array — while batching is off, a wrong content
        type) with a plain-text 400. Ours is JSON with ``extensions.code`` like every other error, so
        that a frontend's ``res.json()`` and error mapping keep working."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            await multipart_form(request, max_field_bytes=self.max_form_field_bytes)
            response = await self.run(request)
        except HTTPException as exc:
            response = JSONResponse(
                {
                    "data": None,
                    "errors": [
                        {
                            "message": f"{DEFAULT_MESSAGES[Code.BAD_REQUEST]} ({exc.reason})",
                            "extensions": {"code": Code.BAD_REQUEST},
                        }
                    ],
                },
                status_code=exc.status_code,
            )
        finally:
            await request.close()  # an upload's spooled temporary file
        await response(scope, receive, send)

    async def parse_multipart(self, request: object) -> dict[str, object]:  # type: ignore[override]
        """Strawberry's, for uploads only: a multipart body is a simple request that any site's
        form can send, so it may carry nothing but a mutation whose root fields take uploads
        (``uploadFile``), with every file mapped to an ``Upload`` variable."""
        form = (await request.get_form_data()).form  # type: ignore[attr-defined]
        return upload_operation(form, self.upload_fields, self.parse_json)

    def parse_json(self, data: str | bytes) -> object:
        """Strawberry's, minus two 500s found by fuzzing: a body that is not UTF-8
        (UnicodeDecodeError) and a JSON body that is neither an object nor an array (``null``, a
        number: Strawberry calls ``.get`` on it). Both are the client's mistake: 400, BAD_REQUEST."""
        try:
            parsed = super().parse_json(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(parsed, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        request.state.graphql_started = time.perf_counter()
        context = Context(request=request, response=response, services=self.services)
        if request.headers.get("authorization"):
            # Verified once here (cached on the context) so that every log line of the request
            # names the caller; an invalid token is the resolvers' business, not ours.
            user_id = context.user_id
            if user_id is not None:
                structlog.contextvars.bind_contextvars(user_id=user_id)
        return context

    @property
    def graphql_ide_html(self) -> str:
        # Our own page with locally served assets: GraphiQL must work offline.
        if _GRAPHIQL_HTML.exists():
            return _GRAPHIQL_HTML.read_text(encoding="utf-8")
        return super().graphql_ide_html

    async def process_result(  # type: ignore[override]
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [format_error(e) for e in result.errors]
        _count(request, result)
        return await super().process_result(request, result)


def _count(request: Request, result: ExecutionResult) -> None:
    state = request.scope.get("state") or {}
    operation = state.get(STATE_KEY, metrics.OTHER)
    outcome = "ok"
    if result.errors:
        code = (result.errors[0].extensions or {}).get("code")
        outcome = metrics.bounded_code(code if isinstance(code, str) else None)
    metrics.GRAPHQL_REQUESTS.labels(operation, outcome).inc()
    started = state.get("graphql_started")
    if started is not None:
        metrics.GRAPHQL_DURATION.labels(operation).observe(time.perf_counter() - started)
