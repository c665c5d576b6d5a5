"""HQ's JSON API described as OpenAPI 3.1, from the very schemas HQ checks requests with.

Served at /hq/api/v1/openapi.json; tests/test_hq_openapi.py runs schemathesis on it, each
generated request signed as a center or a partner signs it.
"""

from __future__ import annotations

from typing import Any

from hq.batches import (
    APPOINTMENTS_SCHEMA,
    BATCH_SCHEMA,
    CATALOG_ASK_SCHEMA,
    NOW_SCHEMA,
    PARTNER_SCHEMA,
)
from server import VERSION
from server.hq_link import signing

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
REFUSALS = {
    "401": "an unknown signer, or a bad or stale signature",
    "404": "a center or booking HQ does not know (a partner's request)",
    "409": "the exact request again",
    "413": "a request over HQ_MAX_BATCH_BYTES",
    "422": "a body that is not what the operation takes (the field named)",
    "503": "HQ's database is out of reach",
}
OPERATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "/hq/api/v1/records": ("receive_records", "A center's day records", BATCH_SCHEMA),
    "/hq/api/v1/now": ("receive_now", "A center's hall now", NOW_SCHEMA),
    "/hq/api/v1/catalog": ("offer_catalog", "A newer catalog, asked", CATALOG_ASK_SCHEMA),
    "/hq/api/v1/appointments": ("trade_bookings", "Slots up, bookings down", APPOINTMENTS_SCHEMA),
    "/hq/api/v1/bookings": ("partner_bookings", "A partner books", PARTNER_SCHEMA),
}


def _operation(
    operation_id: str, summary: str, body: dict[str, Any], signer: str
) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "200": {
            "description": "done",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
    for status, why in REFUSALS.items():
        answers[status] = {"description": why, "content": {"application/json": {"schema": ERROR}}}
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [{signer: [], "timestamp": [], "signature": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": answers,
    }


def openapi_document() -> dict[str, Any]:
    """Return HQ's signed API as an OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "dost-queue HQ", "version": VERSION},
        "paths": {
            path: {
                "post": _operation(
                    op, summary, body, "partner" if path.endswith("/bookings") else "center"
                )
            }
            for path, (op, summary, body) in OPERATIONS.items()
        },  # fmt: skip
        "components": {
            "securitySchemes": {
                "center": {"type": "apiKey", "in": "header", "name": signing.CENTER_HEADER},
                "partner": {"type": "apiKey", "in": "header", "name": signing.PARTNER_HEADER},
                "timestamp": {"type": "apiKey", "in": "header", "name": signing.TIMESTAMP_HEADER},
                "signature": {"type": "apiKey", "in": "header", "name": signing.SIGNATURE_HEADER},
            }
        },
    }
