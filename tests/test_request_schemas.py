"""The compiled request schemas accept nothing the published schemas refuse.

Bodies are checked by fastjsonschema first (server/web/validation.py); jsonschema words a
refusal. A body the compiled check passes must be one jsonschema passes too: here every
request schema the API uses meets bodies near its edges (each property's type, lengths and
values around their bounds, missing and unknown keys).
"""

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from server.web.validation import _passes, openapi_document

ROOT = Path(__file__).resolve().parent.parent
USED = sorted(
    set(
        re.findall(
            r'json_body\("([A-Za-z]+)"',
            "".join(p.read_text(encoding="utf-8") for p in ROOT.glob("*/**/*.py")),
        )
    )
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**31),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.text(min_size=195, max_size=205),
    st.sampled_from(["", " ", "A-001", "a22", "2.1", "+994501234567", "az", "ru", "x" * 1000]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def bodies(schema):
    keys = list(schema.get("properties", {})) + ["unknown"]
    return st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))


def test_every_request_schema_the_api_uses_is_covered():
    assert len(USED) >= 15 and "IssueTicket" in USED


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_compiled_check_passes_only_what_the_published_schema_passes(data):
    schemas = openapi_document()["components"]["schemas"]
    for name in USED:
        body = data.draw(bodies(schemas[name]), label=name)
        try:
            _passes(name)(body)
        except Exception:  # refused: jsonschema has the last word and the message
            continue
        assert Draft202012Validator(schemas[name]).is_valid(body), (name, body)
