"""GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec), the
way apollo-upload-client sends them: ``operations`` (the JSON request, files as ``null``), ``map``
(``{"1": ["variables.file"]}``) and the file parts.

Strawberry's handling is on (``multipart_uploads_enabled``) and has no CSRF check of its own, and
apollo-upload-client sends no preflight-forcing header (``Apollo-Require-Preflight``) unless the app
adds it, so requiring one would break the codecamp apps. A ``multipart/form-data`` POST is what any
site's ``<form>`` can send with the visitor's cookies, so instead the request must be an upload and
nothing else: a mutation whose root fields all take an ``Upload`` argument (``uploadFile``, which
needs ``Authorization: Bearer`` — a header no form can set), with every file mapped to an ``Upload``
variable. Cookie-authenticated mutations (``restoreAccessToken``, ``logoutUser``) never run from one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cross_web import HTTPException
from graphql import (
    FieldNode,
    GraphQLError,
    ListTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    TypeNode,
    get_named_type,
    parse,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.datastructures import UploadFile
from starlette.requests import Request
from strawberry.file_uploads.utils import replace_placeholders_with_files

MULTIPART = "multipart/form-data"
UPLOAD_SCALAR = "Upload"
MAX_FILES = 1  # uploadFile takes one file; more parts are refused while parsing
_PATH = re.compile(r"variables\.([A-Za-z_][A-Za-z0-9_]*)(?:\.\d+)?")


def upload_fields(schema: Any) -> frozenset[str]:
    """The mutation fields that take an ``Upload`` argument."""
    mutation = schema._schema.mutation_type
    if mutation is None:
        return frozenset()
    return frozenset(
        name
        for name, field in mutation.fields.items()
        if any(get_named_type(arg.type).name == UPLOAD_SCALAR for arg in field.args.values())
    )


async def multipart_form(request: Request, *, max_field_bytes: int) -> None:
    """Parses a multipart body once, with tight limits (Starlette caches it for Strawberry): one
    file (spooled to disk past 1 MB, its size bounded by api.middleware.BodySizeLimit), two fields."""
    if not request.headers.get("content-type", "").lower().startswith(MULTIPART):
        return
    try:
        await request.form(max_files=MAX_FILES, max_fields=2, max_part_size=max_field_bytes)
    except (MultiPartException, StarletteHTTPException) as exc:
        raise HTTPException(400, f"Unable to parse the multipart body: {getattr(exc, 'detail', exc)}") from None


def _type_name(node: TypeNode) -> str:
    while isinstance(node, (NonNullTypeNode, ListTypeNode)):
        node = node.type
    return node.name.value  # type: ignore[attr-defined]


def upload_operation(
    form: Mapping[str, Any], allowed: frozenset[str], parse_json: Callable[[str], object]
) -> dict[str, Any]:
    raw_operations, raw_map = form.get("operations"), form.get("map")
    if not isinstance(raw_operations, str) or not isinstance(raw_map, str):
        raise HTTPException(400, "A multipart request needs the `operations` and `map` fields")
    operations, files_map = parse_json(raw_operations), parse_json(raw_map)
    if not isinstance(operations, dict) or not isinstance(operations.get("query"), str):
        raise HTTPException(400, "`operations` must be one GraphQL request (no batches)")
    if not isinstance(files_map, dict) or not files_map:
        raise HTTPException(400, "A multipart request must carry a file (`map` is empty)")
    upload_variables = _upload_variables(operations["query"], operations.get("operationName"), allowed)
    for part, paths in files_map.items():
        if not isinstance(paths, list) or not paths:
            raise HTTPException(400, f"`map` entry {part!r} must be a list of paths")
        for path in paths:
            match = _PATH.fullmatch(path) if isinstance(path, str) else None
            if match is None or match.group(1) not in upload_variables:
                raise HTTPException(400, f"`map` path {path!r} is not an Upload variable of the mutation")
    files = {k: v for k, v in form.items() if isinstance(v, UploadFile)}  # a text part is no file
    try:
        return replace_placeholders_with_files(operations, files_map, files)
    except (KeyError, IndexError, TypeError, ValueError):
        raise HTTPException(400, "File(s) missing in form data") from None


def _upload_variables(query: str, operation_name: object, allowed: frozenset[str]) -> set[str]:
    try:
        document = parse(query)
    except GraphQLError:
        raise HTTPException(400, "`operations.query` is not a GraphQL document") from None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or len(document.definitions) != 1:
        # Fragments or several operations: nothing an upload needs, and harder to see through.
        raise HTTPException(400, "A multipart request carries exactly one operation and no fragments")
    op = ops[0]
    if op.operation is not OperationType.MUTATION:
        raise HTTPException(400, "Only a mutation may be sent as a multipart request")
    if operation_name is not None and (op.name is None or op.name.value != operation_name):
        raise HTTPException(400, "`operationName` does not name the operation")
    for selection in op.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in allowed:
            raise HTTPException(400, "A multipart request may only upload files (uploadFile)")
    return {
        v.variable.name.value for v in op.variable_definitions or () if _type_name(v.type) == UPLOAD_SCALAR
    }
