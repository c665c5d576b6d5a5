"""Staff see words, never internals: every refusal has a sentence in az, ru and en, and no
page shows the server's raw text (a schema's regex, a library's message, JSON)."""

import json
import re
from pathlib import Path

import pytest

from server.queue.errors import QueueError
from server.web.validation import BadRequest
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = re.compile(
    r"\b(?:QueueError|Invalid|NotFound|Forbidden|BadRequest|Unauthorized|Replayed|"
    r"TooManyAttempts|StorageUnavailable|KeyFileMismatch|DatabaseUnavailable)\(\s*\"([a-z_]+)\""
)
# Between machines only (a center and HQ, a partner system, a client's malformed JSON): these
# answer programs, and no staff page sends what earns them.
MACHINE = {"bad_batch", "bad_request", "center_mismatch", "bad_signature", "replayed",
           "not_json", "unknown_partner", "too_deep", "bad_text", "bad_json"}  # fmt: skip
CATALOGS = {lang: json.loads((ROOT / "server/web/text" / f"{lang}.json").read_text())
            for lang in ("az", "ru", "en")}  # fmt: skip


def refusal_codes():
    found = {}
    for folder in ("server", "hq", "manager", "kiosk", "counter", "display", "reception"):
        for path in (ROOT / folder).rglob("*.py"):
            for code in REFUSAL.findall(path.read_text()):
                found.setdefault(code, path.relative_to(ROOT))
    return found


def test_every_refusal_code_has_a_sentence_in_each_language():
    codes = refusal_codes()
    assert len(codes) > 100  # the scan sees them
    missing = {
        f"{code} ({where})": [
            lang for lang, texts in CATALOGS.items() if f"error.{code}" not in texts
        ]
        for code, where in codes.items()
        if code not in MACHINE and any(f"error.{code}" not in t for t in CATALOGS.values())
    }
    assert missing == {}


def test_no_staff_script_shows_the_servers_own_message():
    scripts = [p for folder in ("counter", "manager", "reception", "server/web/static")
               for p in (ROOT / folder).rglob("*.js") if "vendor" not in p.parts]  # fmt: skip
    shown = [f"{p.relative_to(ROOT)}:{n}" for p in scripts
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"(error|refusal|data\.error)\.message", line)]  # fmt: skip
    assert shown == []  # screen.js's refusal() is the one way a refusal becomes words


@pytest.mark.parametrize(("language", "words"), [("az", "A-007"), ("ru", "Номер талона")])
def test_a_ticket_number_typed_loosely_is_read_and_a_wrong_one_is_said_in_words(
    app_center, language, words
):
    from server.web import language as page_language

    client = app_center.app.test_client()
    headers = login(client, "clerk1", "masa-one-secret")
    client.post("/api/v1/counters/1/session", headers=headers)
    # a22 is read as A-022 (the finder took it, "call this ticket" refused it with a regex).
    loose = client.post("/api/v1/counters/1/call", json={"ticket": "d22", "reason": "x"},
                        headers=headers)  # fmt: skip
    assert loose.get_json()["error"]["code"] == "unknown_ticket"  # read, then not found
    wrong = client.post("/api/v1/counters/1/call", json={"ticket": "??", "reason": "x"},
                        headers=headers)  # fmt: skip
    error = wrong.get_json()["error"]
    assert (wrong.status_code, error["code"], error["field"]) == (400, "invalid_field", "ticket")
    with app_center.app.test_request_context(headers={"Accept-Language": language}):
        said = page_language.refusal(BadRequest(error["code"], error["message"], error["field"]))
        assert words in said and "^" not in said and "match" not in said
        unknown = page_language.refusal(QueueError("brand_new_code", "KeyError: 'x'"))
        assert "KeyError" not in unknown and "409" in unknown


def test_a_clerk_who_opens_a_managers_page_reads_why_not_json(app_center):
    client = app_center.app.test_client()
    login(client, "clerk1", "masa-one-secret")
    page = client.get("/manager/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 403 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Bu səhifə sizin üçün deyil" in text and '{"error"' not in text
    api = client.get("/manager/floor.json", headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "role_required"


def test_catalog_names_follow_the_page_language_on_the_report(app_center):
    from server.queue import visits

    center = app_center.app.extensions["dostq.center"]
    visits.issue_ticket(center, "2.1", device=None)
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    client.post("/language", data={"language": "en"}, headers=headers)
    with center.store.read() as conn:
        area = conn.execute(
            "SELECT a.name_az, a.name_en FROM areas a JOIN services s ON s.area_id = a.id "
            "WHERE s.code = '2.1'"
        ).fetchone()
    page = client.get(f"/manager/report?from={center.day(center.now())}").get_data(as_text=True)
    assert area["name_en"] in page and area["name_az"] not in page


def test_pages_before_sign_in_carry_no_staff_text_catalog(app_center):
    client = app_center.app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert 'id="staff-text"' not in login_page and "error.last_admin" not in login_page
    login(client, "manager", "floor-boss-secret")
    assert 'id="staff-text"' in client.get("/manager/").get_data(as_text=True)


def test_every_audited_action_has_words_and_the_log_shows_no_json(app_center):
    audited = set()
    pattern = re.compile(r"\baudit(?:ed)?\(\s*(?:conn,\s*)?\"([a-z_]+)\"", re.S)
    for folder in ("server", "manager", "hq"):
        for path in (ROOT / folder).rglob("*.py"):
            audited |= set(pattern.findall(path.read_text()))
    assert len(audited) > 30
    missing = sorted(a for a in audited for t in CATALOGS.values() if f"audit.{a}" not in t)
    assert missing == []
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    client.post("/logout", headers=headers)
    login(client, "manager", "floor-boss-secret")
    page = client.get("/manager/admin/rules").get_data(as_text=True)
    log = page[page.index('id="audit"') :]
    assert "Çıxdı" in log and "username: manager" in log and "{&#34;" not in log
