"""What a GraphQL request is about, for logs and metrics.

``label_operation`` (called by the ``OperationGuards`` extension once the document is parsed) names
the operation: the client's operation name for the logs, and — for metrics, whose labels must stay
bounded — the first root field if it is one of the schema's, else ``"other"``. The HTTP view
(``api.graphql_view``) counts the request when it has the final, formatted errors.
"""

from __future__ import annotations

import re
from functools import lru_cache

import structlog
from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from strawberry.types import ExecutionContext

from services.metrics import OTHER

# Where the label is left for the HTTP view (Starlette's request.state, i.e. scope["state"]).
STATE_KEY = "graphql_field"
_CLIENT_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")


@lru_cache(maxsize=32)
def root_fields(schema: GraphQLSchema) -> frozenset[str]:
    names: set[str] = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            names.update(root.fields)
    return frozenset(names)


def root_field_label(execution_context: ExecutionContext) -> str:
    document = execution_context.graphql_document
    if document is None:
        return OTHER
    try:
        operation = get_operation_ast(document, execution_context.operation_name)
    except Exception:  # noqa: BLE001 - a malformed document is labelled, not a crash
        return OTHER
    if not isinstance(operation, OperationDefinitionNode):
        return OTHER
    known = root_fields(execution_context.schema._schema)
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value != "__typename":
            name = selection.name.value
            return name if name in known else OTHER
    return OTHER


def label_operation(ec: ExecutionContext) -> None:
    label = root_field_label(ec)
    client_name = ec.operation_name
    if client_name is not None and not _CLIENT_NAME.fullmatch(client_name):
        client_name = None  # not a GraphQL name: not worth a log field
    structlog.contextvars.bind_contextvars(graphql_operation=client_name or label, graphql_field=label)
    request = getattr(ec.context, "request", None)
    if request is not None:
        request.scope.setdefault("state", {})[STATE_KEY] = label
