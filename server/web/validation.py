"""Request bodies are checked against the very schemas the OpenAPI document publishes."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import orjson
import yaml
from flask import request
from jsonschema import Draft202012Validator

from server.queue.engine import parse_label
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


@cache
def _passes(schema_name: str) -> Any:
    """Return the schema compiled to Python (fastjsonschema), for the usual valid body.

    A tenth of jsonschema's time per body. Like jsonschema here, it fills in no defaults and
    checks no formats; a body it refuses goes to jsonschema, which words the refusal (and
    has the last word: what jsonschema accepts is accepted).
    """
    schema = copy.deepcopy(openapi_document()["components"]["schemas"][schema_name])
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


# Deeper than any body this API takes; the parser itself would stop near 1,000 with an error.
MAX_JSON_DEPTH = 32
CONTAINERS = frozenset({dict, list})
IS_CONTAINER = CONTAINERS.__contains__
# The escape of a UTF-16 surrogate, \uD800 to \uDFFF, in any case.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def decode_json(data: bytes) -> Any:
    """Decode a JSON body, or raise BadRequest naming what is wrong with it; never a 500.

    One decoder for every JSON body, the center's API and HQ's signed records alike: bad JSON
    or UTF-8, nesting deeper than MAX_JSON_DEPTH (a 100,000-deep array made the parser recurse
    to death), and a lone surrogate (an escaped U+D800 alone: valid JSON that no UTF-8
    database or page can hold) are each refused.
    """
    too_deep = BadRequest("too_deep", f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.")
    try:  # orjson: a third of json's time on a center's batch, the same values when it parses
        body = orjson.loads(data)
    except orjson.JSONDecodeError:  # stricter (NaN, a lone surrogate): json says what is wrong
        try:
            body = json.loads(data)
        except RecursionError as exc:
            raise too_deep from exc
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
            raise BadRequest("bad_json", f"The body is not JSON in UTF-8: {exc}.") from exc
    # A lone surrogate can only come from an escape (\uD800-\uDFFF): UTF-8 cannot carry one.
    # Without such an escape in the bytes, only the nesting is walked (a center's 1.3 MB
    # batch: 2.3 ms a record walking every text, 0.23 walking containers only).
    texts = SURROGATE_ESCAPE.search(data) is not None
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise too_deep
        if isinstance(value, dict):
            if texts:
                for key in value:
                    _check_text(key)
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:  # the body itself is a lone scalar
            if texts:
                _check_text(value)
            continue
        # Most children are numbers and texts (an HQ day record: 2,400 values in 70
        # containers): whether any is a container is asked in C (map, any, the set's own
        # test), and only then are the containers listed in Python.
        if any(map(IS_CONTAINER, map(type, children))):
            deeper = depth + 1
            pending += [(item, deeper) for item in children if type(item) in CONTAINERS]
        if texts:
            for item in children:
                _check_text(item)
    return body


def _check_text(value: Any) -> None:
    if not isinstance(value, str):
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            "bad_text", "A text in the body holds a character that is not valid Unicode."
        ) from exc


def json_body(schema_name: str) -> dict[str, Any]:
    """Return the request's JSON body if it matches the named schema, else raise BadRequest."""
    if not request.is_json:
        raise BadRequest("bad_json", "Send a JSON object with Content-Type: application/json.")
    body = decode_json(request.get_data(cache=True))
    try:
        _passes(schema_name)(body)
        return dict(body)
    except fastjsonschema.JsonSchemaException:
        pass
    error = min(_validator(schema_name).iter_errors(body), key=str, default=None)
    if error is not None:
        field = ".".join(str(part) for part in error.absolute_path) or None
        if error.validator == "required":
            field = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            field = error.message.split("'")[1] if "'" in error.message else field
        raise BadRequest("invalid_field", f"{field or 'body'}: {error.message}", field)
    return dict(body)


def typed_label(text: str, field: str = "ticket") -> str:
    """Return a ticket's label as staff type it (a7, A 07, A-007) as printed, else BadRequest.

    One reading for every field that names a ticket: the finder took ``a22`` while "call
    this ticket" refused it with the schema's regex, in English, on an Azerbaijani page.
    """
    label = parse_label(text)
    if label is None:
        raise BadRequest("invalid_field", f"{field}: a ticket number such as A-007.", field)
    return label


def query_text(name: str, max_length: int) -> str | None:
    """Return an optional query parameter of 1 to ``max_length`` characters, else BadRequest."""
    value = request.args.get(name)
    if value is not None and not 1 <= len(value) <= max_length:
        raise BadRequest("invalid_field", f"{name}: 1 to {max_length} characters.", name)
    return value
