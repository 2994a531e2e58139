"""Validate sandbox responses against PortOne's official OpenAPI files (third_party/portone/).

V1 (Swagger 2.0) `definitions` are JSON Schema draft 4. Two adaptations, both explicit here:
  * Swagger 2.0 has no `nullable`, yet PortOne sends null for absent optional fields (see the
    official sample in docs/v1-js-sdk-request-pay-response.md: "bank_name": null). Optional
    properties therefore also accept null; required ones never do.
  * `PaymentPrepareAnnotation.required` lists total/previous/next, fields it does not define
    (copied from PagedPaymentAnnotation). We require merchant_uid and amount instead.
V2 (OpenAPI 3.0) uses oneOf + discriminator, which plain JSON Schema cannot pick between
(the variants only differ by the discriminator value), so each discriminator becomes an
if/then on that property before validating with draft 2020-12.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml


REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "third_party" / "portone"  # a copy of ../shared/portone's specs (test_spec_files.py)
REFERENCE = (REPO / ".." / "shared" / "portone").resolve()  # beside the clone, where there is one


def spec_dir() -> Path:
    env = os.environ.get("POINTCHARGE_PORTONE_SPEC_DIR")
    return Path(env) if env else VENDORED


def _load(name: str) -> dict:
    path = spec_dir() / "openapi" / name
    if not path.is_file():
        raise FileNotFoundError(
            f"PortOne spec not found at {path}; set POINTCHARGE_PORTONE_SPEC_DIR to a folder with openapi/*.yml"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


# ---------------------------------------------------------------------- V1
_NUMERIC_KEYWORDS = {"maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems"}


def _nullable_optionals(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_nullable_optionals(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable_optionals(v) for k, v in schema.items()}
    for key in _NUMERIC_KEYWORDS & set(out):
        if isinstance(out[key], str):  # the YAML quotes some limits ('32'); they mean numbers
            out[key] = float(out[key]) if "." in out[key] else int(out[key])
    props = out.get("properties")
    if isinstance(props, dict):
        required = set(out.get("required", []))
        for name, prop in props.items():
            if name in required:
                continue
            if "type" in prop and "$ref" not in prop:
                types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
                prop["type"] = [*types, "null"]
            else:
                props[name] = {"anyOf": [prop, {"type": "null"}]}
    return out


class V1Spec:
    def __init__(self) -> None:
        self.doc = _load("v1.openapi.yml")
        defs = copy.deepcopy(self.doc["definitions"])
        defs["PaymentPrepareAnnotation"]["required"] = ["merchant_uid", "amount"]  # see module doc
        self.raw_definitions = self.doc["definitions"]
        self.definitions = {name: _nullable_optionals(s) for name, s in defs.items()}

    def properties(self, definition: str) -> set[str]:
        return set(self.raw_definitions[definition]["properties"])

    def responses(self, path: str, method: str) -> dict:
        return self.doc["paths"][path][method.lower()]["responses"]

    def validate(self, path: str, method: str, status: int, body: Any, *, ok: bool | None = None) -> None:
        """`path` is the spec's template (no /v1 prefix); `ok` asserts code == 0 (or != 0).

        PortOne reports some failures as HTTP 200 with code != 0, so success is the code, not
        the status: code 0 carries a response, any other code carries null.
        """
        responses = self.responses(path, method)
        assert str(status) in responses, f"{method} {path} answered {status}; the spec documents {sorted(responses)}"
        assert isinstance(body, dict) and set(body) == {"code", "message", "response"}, body
        schema = responses[str(status)].get("schema", {"$ref": "#/definitions/ResponseAnnotation"})
        root = {"definitions": self.definitions, **schema}
        jsonschema.Draft4Validator(root).validate(body)
        if body["code"] == 0:
            assert 200 <= status < 300 and body["response"] is not None, body
        else:
            assert body["response"] is None, body
        if ok is not None:
            assert (body["code"] == 0) is ok, body


@functools.cache
def v1_spec() -> V1Spec:
    return V1Spec()


# ---------------------------------------------------------------------- V2
def _resolve_discriminators(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_resolve_discriminators(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _resolve_discriminators(v) for k, v in schema.items() if not k.startswith("x-")}
    disc = out.pop("discriminator", None)
    if disc is not None and "oneOf" in out:
        prop, mapping = disc["propertyName"], disc["mapping"]
        out.pop("oneOf")
        out["required"] = sorted(set(out.get("required", [])) | {prop})
        out.setdefault("properties", {})[prop] = {"enum": sorted(mapping)}
        out["allOf"] = [
            {"if": {"properties": {prop: {"const": key}}}, "then": {"$ref": ref}} for key, ref in mapping.items()
        ]
    return out


class V2Spec:
    def __init__(self) -> None:
        doc = _load("v2.openapi.yml")
        self.doc = doc
        self.components = {"schemas": _resolve_discriminators(doc["components"]["schemas"])}

    def validate(self, schema_name: str, body: Any) -> None:
        root = {"components": self.components, "$ref": f"#/components/schemas/{schema_name}"}
        jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker()).validate(body)

    def documented_statuses(self, path: str, method: str) -> set[int]:
        return {int(s) for s in self.doc["paths"][path][method.lower()]["responses"]}


@functools.cache
def v2_spec() -> V2Spec:
    return V2Spec()
