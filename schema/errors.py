"""Every error a client sees has a stable ``extensions.code`` and a Korean message.

Domain errors pass through with their code; parse and validation errors get Apollo's codes; any
other exception is a bug: it is logged server-side with its traceback and replaced by a generic
message so no stack trace, SQL or secret reaches a client. Formatting happens at the very end (the
HTTP view's ``process_result``) so that it covers errors raised before execution starts too.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout
from strawberry.types import ExecutionContext

from services.errors import DEFAULT_MESSAGES, Code, DomainError


log = logging.getLogger("pointcharge.graphql")


def _root_cause(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    # Strawberry may wrap a raised exception in further located GraphQLErrors.
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


_CONNECTION_ERRORS = frozenset({
    "TooManyConnectionsError", "CannotConnectNowError", "ConnectionDoesNotExistError",
    "ConnectionFailureError", "AdminShutdownError", "ConnectionRefusedError", "ConnectionResetError",
})


def _database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return True
    # The exception and what it wraps: SQLAlchemy's DBAPIError → its adapter's error → the driver's
    # own (statements on the driver connection, services.db.raw, raise the driver's directly).
    cause: BaseException | None = exc
    for _ in range(4):
        if cause is None:
            return False
        if (
            type(cause).__name__ in _CONNECTION_ERRORS
            or isinstance(cause, (ConnectionRefusedError, ConnectionResetError))
            # SQLite's busy timeout ran out behind another process's writer.
            or "database is locked" in str(cause)
        ):
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__
    return False


def format_error(error: GraphQLError) -> GraphQLError:
    original = _root_cause(error)
    if isinstance(original, DomainError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code, **original.extensions},
        )
    if original is None or isinstance(original, GraphQLError):
        if (error.extensions or {}).get("code"):
            return error
        if isinstance(error, GraphQLSyntaxError):
            code, detail = Code.GRAPHQL_PARSE_FAILED, error.message
        elif error.message.startswith("Variable '$"):
            code, detail = Code.BAD_USER_INPUT, error.message
        elif error.path:
            # The executor's own complaint about our output (e.g. a null in a non-null field).
            code, detail = Code.INTERNAL_SERVER_ERROR, None
        else:
            code, detail = Code.GRAPHQL_VALIDATION_FAILED, error.message
        message = DEFAULT_MESSAGES[code] + (f" {detail}" if detail else "")
        return GraphQLError(message, nodes=error.nodes, path=error.path, extensions={"code": code})
    if _database_unavailable(original):
        # Overload or an outage, not a bug: no database connection in time (pool timeout, the
        # server's connection limit, a lost connection). Nothing was committed by this request; the
        # client may retry (the charge is idempotent).
        code = Code.SERVICE_UNAVAILABLE
    else:
        code = Code.INTERNAL_SERVER_ERROR
    return GraphQLError(DEFAULT_MESSAGES[code], nodes=error.nodes, path=error.path, extensions={"code": code})


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures (bad password, unpaid payment…) are answers, not incidents.
        unexpected = [e for e in errors if not isinstance(_root_cause(e), DomainError)]
        for error in unexpected:
            cause = _root_cause(error)
            if cause is None or isinstance(cause, GraphQLError):
                log.info("graphql request error: %s", error.message)
            else:
                log.error("unexpected error in %s", error.path, exc_info=cause)
