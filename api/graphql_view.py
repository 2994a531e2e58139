"""The Strawberry ASGI view: builds the typed context per request."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from schema.app_services import Services
from schema.context import Context
from schema.errors import format_error

_GRAPHIQL_HTML = Path(__file__).with_name("graphiql.html")


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, *args: object, services: Services, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.services = services

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        return Context(request=request, response=response, services=self.services)

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
        return await super().process_result(request, result)
