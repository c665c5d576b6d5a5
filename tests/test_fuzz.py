"""The fuzz tier: every route of the center and of HQ, hostile inputs, and not one 500.

For each route and method Hypothesis draws who asks (anonymous, a kiosk, a display, a clerk,
a manager, an admin; staff always with their CSRF token, so requests reach the handlers),
values for the path, a query string and a body: JSON of any shape, a form over every field
name the pages and handlers use with hostile values, raw bytes, or a file upload. HQ's signed
endpoint gets hostile batches that are correctly signed, so they pass the signature and meet
the field checks. Any 5xx other than a device fault fails; the figure (routes, cases, 500s)
is printed. schemathesis covers the documented API with the schemas' own cases
(tests/test_openapi.py).
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hq.app import create_hq_app
from hq.storage import add_center
from server.hq_link import signing
from server.office import accounts

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / d for d in ("server", "manager", "counter", "kiosk", "display", "hq")]
# Every field name a page's form carries or a handler reads: the fuzzer's vocabulary.
FIELD_NAMES = sorted(
    {
        name
        for folder in SOURCES
        for path in [*folder.rglob("*.html"), *folder.rglob("*.py")]
        for name in re.findall(
            r'name="([a-z_0-9]+)"|request\.(?:form|args|files)[^"\n]{0,12}"([a-z_0-9]+)"|'
            r'_int\("([a-z_0-9]+)"\)|query_text\("([a-z_0-9]+)"',
            path.read_text(encoding="utf-8"),
        )
        for name in name
        if name
    }
    | {f"{prefix}_{lang}" for prefix in ("name", "documents") for lang in ("az", "ru", "en")}
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "", "0", "-1", "1e309", "NaN", str(2**63), str(2**64 + 1), "9" * 40, "null", "[]",
            "{}", "true", "=cmd|' /C calc'!A0", "<script>x</script>", "../../etc/passwd",
            "A-10000", "A-²", "2026-02-30", "9999-99-99", "0001-01-01", "ə" * 400, " ",
            "%00", "\x00", "\u202e", "ﬁ", "İı", "main", "4.4", "clerk1", "kiosk", "display",
        ]
    ),
)  # fmt: skip
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)  # fmt: skip
RAW_BODIES = st.sampled_from(
    [b"", b"{", b"[" * 5000, b'{"a": "\\ud800"}', b"\xff\xfe\x00", b"null", b"0" * 10_000]
)
FORM = st.dictionaries(
    st.sampled_from(FIELD_NAMES), st.lists(HOSTILE_TEXT, min_size=1, max_size=3), max_size=6
)
EXAMPLES = 2500


def routes(app) -> list[tuple[str, str, Any]]:
    """Every (method, rule) the app serves, but static files."""
    return sorted(
        (method, rule.rule, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    )


def path_for(rule, data) -> str:
    """Fill a rule's variables with drawn values (ints of any size, hostile text)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        if type(converter).__name__ in ("IntegerConverter", "RowId"):
            value = str(data.draw(st.integers(0, 2**70) | st.sampled_from([1, 2, 3])))
        else:
            value = quote(data.draw(HOSTILE_TEXT), safe="")
        path = re.sub(rf"<[^>]*\b{name}>", lambda _m, v=value: v, path)
    return path


def request_kwargs(data) -> dict[str, Any]:
    """Draw a query string and a body of one of the shapes a route may be sent."""
    query = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), HOSTILE_TEXT, max_size=4))
    shape = data.draw(st.sampled_from(["none", "json", "form", "raw", "file"]))
    kwargs: dict[str, Any] = {"query_string": query}
    if shape == "json":
        kwargs["data"] = json.dumps(data.draw(JSON_VALUE)).encode()
        kwargs["content_type"] = "application/json"
    elif shape == "form":
        kwargs["data"] = data.draw(FORM)
    elif shape == "raw":
        kwargs["data"] = data.draw(RAW_BODIES)
        kwargs["content_type"] = data.draw(
            st.sampled_from(["application/json", "text/plain", "multipart/form-data"])
        )
    elif shape == "file":
        upload = data.draw(st.binary(max_size=300) | RAW_BODIES)
        field = data.draw(st.sampled_from(["catalog", "file", *FIELD_NAMES[:3]]))
        kwargs["data"] = {field: (io.BytesIO(upload), data.draw(HOSTILE_TEXT) + ".json")}
        kwargs["content_type"] = "multipart/form-data"
    return kwargs


def fuzz(
    app, principals: dict[str, tuple[Any, dict[str, str]]], extra=None, relogin=None
) -> Counter:
    """Send EXAMPLES drawn requests over every route; return the counts by status class.

    ``relogin(who)`` signs a member of staff in again after a drawn request signed them out,
    so the rest of the run still reaches the pages behind sign-in.
    """
    counts: Counter = Counter()
    served = routes(app)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def one(data):
        method, _rule_text, rule = data.draw(st.sampled_from(served))
        who = data.draw(st.sampled_from(sorted(principals)))
        client, headers = principals[who]
        kwargs = request_kwargs(data)
        if extra is not None and rule.rule in extra:
            kwargs = extra[rule.rule](data, method)
        path = path_for(rule, data)
        headers = {**headers, **kwargs.pop("headers", {})}
        response = client.open(path, method=method, headers=headers, **kwargs)
        if relogin is not None and who.startswith("fuzz-") and rule.endpoint.endswith("logout"):
            principals[who] = relogin(who)
        counts["cases"] += 1
        counts[f"{response.status_code // 100}xx"] += 1
        counts.setdefault("routes", len(served))
        assert response.status_code < 500, (
            f"{method} {path} as {who}: {response.status_code} "
            f"{response.get_data(as_text=True)[:300]}"
        )

    one()
    return counts


@pytest.mark.slow
def test_no_center_route_answers_500_to_hostile_input(tmp_path):
    from server.app import create_app
    from tests.conftest import seed

    app = create_app({"DATA_DIR": str(tmp_path), "WORKER": "threads"})  # 500s as responses
    store = app.extensions["dostq.center"].store
    seed(store)
    now = time.time()
    # Staff of their own, whose ids (past the seeded 1-3) the fuzzer's ids do not pick: a drawn
    # request disabling a user or resetting a password then leaves the run its principals.
    staff = {"fuzz-clerk": "clerk", "fuzz-manager": "manager", "fuzz-admin": "admin"}
    with store.write() as conn:
        kiosk = accounts.enrol_device(conn, "kiosk-1", "kiosk", now, prints=False)
        display = accounts.enrol_device(conn, "display-1", "display", now, zone="main")
        for username, role in staff.items():
            accounts.create_user(conn, username, "fuzz-staff-secret", role, now)

    def signed_in(who: str) -> tuple[Any, dict[str, str]]:
        client = app.test_client()
        csrf = client.get("/api/v1/session").get_json()["csrf_token"]
        answer = client.post(
            "/api/v1/session", json={"username": who, "password": "fuzz-staff-secret"},
            headers={"X-CSRFToken": csrf},
        )  # fmt: skip
        if answer.status_code != 200:
            # Drawn sign-ins with wrong passwords may have throttled this address (as they
            # should): the rest of the run goes on with this principal signed out.
            return client, {"X-CSRFToken": csrf}
        headers = {"X-CSRFToken": answer.get_json()["csrf_token"]}
        if who == "fuzz-clerk":  # at a counter, so the counter's operations are reached
            client.post("/api/v1/counters/1/session", headers=headers)
        return client, headers

    principals: dict[str, tuple[Any, dict[str, str]]] = {
        "anonymous": (app.test_client(), {}),
        "kiosk": (app.test_client(), {"Authorization": f"Device {kiosk}"}),
        "display": (app.test_client(), {"Authorization": f"Device {display}"}),
        **{who: signed_in(who) for who in staff},
    }
    counts = fuzz(app, principals, relogin=signed_in)
    print(f"\nfuzz, center: {counts['routes']} routes, {counts['cases']} cases, "
          f"{counts['5xx']} × 500; by class {dict(counts)}")  # fmt: skip
    assert counts["5xx"] == 0


@pytest.mark.slow
def test_no_hq_route_answers_500_to_hostile_input(tmp_path):
    app = create_hq_app({"HQ_DATA_DIR": str(tmp_path)})  # 500s as responses
    store = app.extensions["dostq.hq_store"]
    key = signing.new_key()
    now = time.time()
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", app.extensions["dostq.hq_keys"].seal(key), now)
        accounts.create_user(conn, "analyst", "hq-reader-secret", "manager", now)
        accounts.create_user(conn, "hq-admin", "hq-reader-secret", "admin", now)

    def signed_in(username):
        client = app.test_client()
        page = client.get("/hq/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/hq/login", data={"username": username, "password": "hq-reader-secret",
                                       "csrf_token": token})  # fmt: skip
        return client, {"X-CSRFToken": token}

    principals = {
        "anonymous": (app.test_client(), {}),
        "analyst": signed_in("analyst"),
        "admin": signed_in("hq-admin"),  # who publishes the catalog
    }
    batch = st.fixed_dictionaries(
        {"center": st.just("baku-1") | HOSTILE_TEXT, "pending": JSON_VALUE,
         "records": st.lists(JSON_VALUE | st.fixed_dictionaries(
             {"day": HOSTILE_TEXT, "revision": JSON_VALUE, "final": JSON_VALUE,
              "totals": st.dictionaries(st.sampled_from(
                  ["visits", "served", "no_show", "transferred", "priority", "called",
                   "within_target", "wait_mean_s", "service_mean_s"]), JSON_VALUE),
              "hours": st.lists(st.dictionaries(
                  st.sampled_from(["hour", "arrived", "served"]), JSON_VALUE), max_size=3)}),
             max_size=3)},
    )  # fmt: skip

    question = st.fixed_dictionaries(
        {"center": st.just("baku-1") | HOSTILE_TEXT, "at": JSON_VALUE, "runs": JSON_VALUE,
         "holds": JSON_VALUE, "local": JSON_VALUE},
    )  # fmt: skip

    def signed(body_of, path):
        def draw(data, method):
            """A hostile message (or raw bytes) signed with the center's right key."""
            body = data.draw(body_of.map(lambda b: json.dumps(b).encode()) | RAW_BODIES)
            headers = signing.signed_headers(key, "baku-1", int(time.time()), method, path, body)
            return {"data": body, "headers": headers, "content_type": "application/json"}

        return draw

    counts = fuzz(
        app,
        principals,
        extra={
            "/hq/api/v1/records": signed(batch, "/hq/api/v1/records"),
            "/hq/api/v1/catalog": signed(question, "/hq/api/v1/catalog"),
        },
    )
    print(f"\nfuzz, HQ: {counts['routes']} routes, {counts['cases']} cases, "
          f"{counts['5xx']} × 500; by class {dict(counts)}")  # fmt: skip
    assert counts["5xx"] == 0
