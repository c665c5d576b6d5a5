"""schemathesis against HQ's signed API: every operation, generated bodies, each request signed.

HQ's document (hq/web/openapi.py) is built from the schemas HQ checks with, so a generated
body is a valid one or one just beside it; each is signed as baku-1 (or the partner e-social)
signs, so it reaches the handler, not only the signature check. Every answer must be one the
document names, never a 500.
"""

import json
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from hq.app import create_hq_app
from hq.bookings import add_partner
from hq.storage import add_center
from hq.web.openapi import openapi_document
from server.hq_link import signing

CENTER_KEY, PARTNER_KEY = "c" * 43, "p" * 43
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    app = create_hq_app({"HQ_DATA_DIR": str(tmp_path_factory.mktemp("hq")), "TESTING": True,
                         "HQ_BOOKINGS_PER_HOUR": 10**6})  # fmt: skip
    keys, store = app.extensions["dostq.hq_keys"], app.extensions["dostq.hq_store"]
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", keys.seal(CENTER_KEY), time.time())
        add_partner(conn, "e-social", keys.seal(PARTNER_KEY), time.time())
    yield app.test_client()
    store.close()


def test_hq_serves_its_own_document(hq):
    served = hq.get("/hq/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == json.loads(
        json.dumps(openapi_document())
    )


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_signed_operation_answers_as_documented(hq, case):
    if case.body is NOT_SET:
        body = b""
    elif isinstance(case.body, bytes):  # a body of another media type, as a client may send
        body = case.body
    else:
        body = json.dumps(case.body).encode()
    partner = case.path.endswith("/bookings")
    key, signer = (PARTNER_KEY, "e-social") if partner else (CENTER_KEY, "baku-1")
    headers = signing.signed_headers(key, signer, int(time.time()), "POST", case.path, body)
    if partner:
        headers[signing.PARTNER_HEADER] = headers.pop(signing.CENTER_HEADER)
    kind = case.media_type or "application/json"
    response = hq.post(case.path, data=body, headers=headers, content_type=kind)
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance, content_type_conformance]
    )


def test_a_partner_action_that_is_not_text_is_a_422_not_a_500(hq):
    # Found by the run above: {"action": {}} reached a set lookup (unhashable: 500).
    for action in ({}, [], 5, None):
        body = json.dumps({"action": action, "at": 0, "code": "0"}).encode()
        headers = signing.signed_headers(PARTNER_KEY, "e-social", int(time.time()), "POST",
                                         "/hq/api/v1/bookings", body)  # fmt: skip
        headers[signing.PARTNER_HEADER] = headers.pop(signing.CENTER_HEADER)
        answer = hq.post("/hq/api/v1/bookings", data=body, headers=headers,
                         content_type="application/json")  # fmt: skip
        assert answer.status_code == 422, (action, answer.status_code)
