"""Request bodies are checked against the very schemas the OpenAPI document publishes."""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import request
from jsonschema import Draft202012Validator

from server.queue.errors import QueueError


class BadRequest(QueueError):
    """The body or a parameter is malformed."""

    status = 400


@cache
def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of /api/v1 (loaded once)."""
    text = (resources.files("server.web") / "openapi.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    schema = copy.deepcopy(openapi_document()["components"]["schemas"][schema_name])
    return Draft202012Validator(schema)


def json_body(schema_name: str) -> dict[str, Any]:
    """Return the request's JSON body if it matches the named schema, else raise BadRequest."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("bad_json", "Send a JSON object with Content-Type: application/json.")
    validator = _validator(schema_name)
    if validator.is_valid(body):  # the usual case: skip collecting and sorting errors
        return dict(body)
    error = min(validator.iter_errors(body), key=str, default=None)
    if error is not None:
        field = ".".join(str(part) for part in error.absolute_path) or None
        if error.validator == "required":
            field = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            field = error.message.split("'")[1] if "'" in error.message else field
        raise BadRequest("invalid_field", f"{field or 'body'}: {error.message}", field)
    return dict(body)


def query_text(name: str, max_length: int) -> str | None:
    """Return an optional query parameter of 1 to ``max_length`` characters, else BadRequest."""
    value = request.args.get(name)
    if value is not None and not 1 <= len(value) <= max_length:
        raise BadRequest("invalid_field", f"{name}: 1 to {max_length} characters.", name)
    return value
