"""The OpenAPI document API Gateway imports: derived from openapi.yaml, within what API Gateway
documents it supports, and the same API.

The documented restrictions, as listed in "Amazon API Gateway important notes for REST APIs"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
#api-gateway-known-issues-rest-apis), are written out here again, independently of build.py:
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

import build

ROOT = Path(__file__).resolve().parents[2]
STACK_FIXTURE = ROOT / "environments/stack/tests/fixtures/dist" / build.APIGATEWAY_OPENAPI

# "The additionalProperties and anyOf keywords are not supported in Models", "The allOf field is
# not supported in Models" (earlier versions of the notes), "The discriminator keyword is not
# supported in any schema object", "The example keyword is not supported", "exclusiveMinimum is
# not supported", "oneOf is not supported", "pattern is not supported", "The readOnly field is
# not supported", "The deprecated field is not supported".
DOCUMENTED_UNSUPPORTED = {
    "additionalProperties",
    "anyOf",
    "allOf",
    "discriminator",
    "example",
    "exclusiveMinimum",
    "oneOf",
    "pattern",
    "readOnly",
    "deprecated",
}
# "Numbers of the Int32 or Int64 type are not supported", "Decimal number format type is not
# supported in a schema definition".
DOCUMENTED_UNSUPPORTED_FORMATS = {"int32", "int64", "decimal"}
# "For input parameters, only the following attributes are supported: name, in, required, type,
# description" (OpenAPI 3 puts the type in the parameter's schema).
DOCUMENTED_PARAMETER_FIELDS = {"name", "in", "required", "description", "schema"}
# "Model names can only contain alphanumeric characters."
MODEL_NAME = re.compile(r"^[A-Za-z0-9]+$")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _service() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "openapi.yaml").read_text()))


def _derived() -> dict[str, Any]:
    return dict(build.apigateway_openapi(_service()))


def _schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in a document (component schemas, ``schema`` values, and the schemas
    nested in them), with where it is."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _schemas(item, f"{where}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key == "schema" and isinstance(value, dict):
                yield from _schema_tree(value, here)
            elif key == "schemas" and where == "/components" and isinstance(value, dict):
                for name, schema in value.items():
                    yield from _schema_tree(schema, f"{here}/{name}")
            else:
                yield from _schemas(value, here)


def _schema_tree(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield where, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _schema_tree(sub, f"{where}/properties/{name}")
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield from _schema_tree(schema[key], f"{where}/{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key) or []):
            yield from _schema_tree(sub, f"{where}/{key}[{i}]")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _refs(item)
    elif isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def unsupported(document: dict[str, Any]) -> list[str]:
    """What API Gateway's import documents as unsupported, found in ``document``."""
    found = []
    for where, schema in _schemas(document):
        found += [f"{where}: {k}" for k in sorted(DOCUMENTED_UNSUPPORTED & set(schema))]
        if schema.get("format") in DOCUMENTED_UNSUPPORTED_FORMATS:
            found.append(f"{where}: format {schema['format']}")
    found += [
        f"$ref {ref}" for ref in _refs(document) if not ref.startswith("#/components/schemas/")
    ]
    for path, method, operation in _operations(document):
        item_parameters = document["paths"][path].get("parameters", [])
        for parameter in [*item_parameters, *operation.get("parameters", [])]:
            extra = set(parameter) - DOCUMENTED_PARAMETER_FIELDS
            if extra:
                found.append(f"{method} {path} parameter: {sorted(extra)}")
            if set(parameter.get("schema", {})) - {"type"}:
                found.append(f"{method} {path} parameter schema: {parameter['schema']}")
        for key in DOCUMENTED_UNSUPPORTED & set(operation):
            found.append(f"{method} {path}: {key}")
        for code, response in operation.get("responses", {}).items():
            for media_type, entry in response.get("content", {}).items():
                schema = entry.get("schema")
                if schema is not None and "$ref" not in schema and schema.get("type") != "object":
                    found.append(f"{method} {path} {code} {media_type}: primitive schema")
    for name in document.get("components", {}).get("schemas", {}):
        if not MODEL_NAME.match(name):
            found.append(f"model name {name}")
    return found


def test_the_public_contract_uses_forms_api_gateway_does_not_import() -> None:
    # Why the derivation exists, and proof that the check below can fail.
    found = unsupported(_service())
    assert any("additionalProperties" in f for f in found), found
    assert any(f.startswith("$ref #/components/responses/") for f in found), found
    assert any("pattern" in f for f in found), found


def test_the_import_document_has_nothing_api_gateway_does_not_support() -> None:
    assert unsupported(_derived()) == []


def test_every_parameter_has_a_schema_with_a_type() -> None:
    """API Gateway's import refuses a parameter without a schema ("... is not valid under any of
    the schemas listed in the 'oneOf' keyword"), and the service's ids are a schema by reference
    (components/schemas): its type must come through."""
    for path, item in _derived()["paths"].items():
        operations = [op for key, op in item.items() if isinstance(op, dict)]
        for parameter in [*item.get("parameters", [])] + [
            p for op in operations for p in op.get("parameters", [])
        ]:
            assert parameter["schema"]["type"] in ("string", "integer"), (path, parameter)
    ids = [
        p
        for item in _derived()["paths"].values()
        for p in item.get("parameters", [])
        if p["name"] == "id"
    ]
    assert ids, "the image paths take an id"


def _parameters(document: dict[str, Any], path: str, operation: dict[str, Any]) -> set[Any]:
    def resolved(parameter: dict[str, Any]) -> dict[str, Any]:
        ref = parameter.get("$ref")
        if ref:
            return dict(document["components"]["parameters"][ref.rsplit("/", 1)[1]])
        return parameter

    shared = document["paths"][path].get("parameters", [])
    return {
        (p["name"], p["in"], p.get("required", False))
        for p in map(resolved, [*shared, *operation.get("parameters", [])])
    }


def test_the_import_document_is_the_same_api() -> None:
    service, derived = _service(), _derived()
    assert sorted(derived["paths"]) == sorted(service["paths"])
    assert derived["components"]["securitySchemes"] == service["components"]["securitySchemes"]
    pairs = 0
    for path, method, operation in _operations(service):
        mine = derived["paths"][path][method]
        for key in ("operationId", "x-imgsvc-function", "security", "summary", "tags"):
            assert mine.get(key) == operation.get(key), (method, path, key)
        assert _parameters(derived, path, mine) == _parameters(service, path, operation)
        assert sorted(mine["responses"]) == sorted(operation["responses"]), (method, path)
        for code, response in operation["responses"].items():
            if "$ref" in response:
                response = service["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            content = response.get("content", {})
            assert sorted(mine["responses"][code].get("content", {})) == sorted(content)
        body = operation.get("requestBody")
        if body is not None:
            if "$ref" in body:
                body = service["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
            assert sorted(mine["requestBody"]["content"]) == sorted(body["content"])
            assert mine["requestBody"].get("required") == body.get("required")
        pairs += 1
    assert pairs == len(list(_operations(derived))) >= 10
    # The models keep their fields and which are required.
    for name, schema in service["components"]["schemas"].items():
        model = derived["components"]["schemas"][name]
        assert sorted(model.get("properties", {})) == sorted(schema.get("properties", {})), name
        assert model.get("required") == schema.get("required"), name


def test_dropping_a_keyword_keeps_a_property_of_that_name() -> None:
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "paths": {},
        "components": {
            "schemas": {
                "Rule": {
                    "type": "object",
                    "properties": {"pattern": {"type": "string", "pattern": "^a"}},
                    "additionalProperties": False,
                }
            }
        },
    }
    derived: dict[str, Any] = build.apigateway_openapi(spec)
    assert derived["components"]["schemas"]["Rule"] == {
        "type": "object",
        "properties": {"pattern": {"type": "string"}},
    }


def test_build_writes_the_import_document(tmp_path: Path) -> None:
    first = build.write_apigateway_openapi(tmp_path)
    assert first.name == build.APIGATEWAY_OPENAPI
    assert json.loads(first.read_text()) == _derived()
    again = build.write_apigateway_openapi(tmp_path).read_bytes()
    assert again == first.read_bytes()


def test_the_stacks_stand_in_artifacts_hold_todays_import_document(tmp_path: Path) -> None:
    # The stack's tests and the stage plans read the stand-in dist/: it must not go stale.
    # Refresh it with: python -c "import build, pathlib; build.write_apigateway_openapi(
    # pathlib.Path('environments/stack/tests/fixtures/dist'))"
    assert STACK_FIXTURE.read_bytes() == build.write_apigateway_openapi(tmp_path).read_bytes()
