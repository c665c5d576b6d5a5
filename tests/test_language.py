"""The staff pages' one translation mechanism: three catalogs with the same keys, no staff
template word outside them, every key a page or script asks for present, and the choice of
language stored per user."""

import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hardware.printers import PrinterState
from server.office import accounts
from server.queue import feedback
from server.queue.engine import State
from server.web import language
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
STAFF_TEMPLATES = [
    *sorted((ROOT / "server/web/templates").glob("*.html")),
    *sorted((ROOT / "manager/templates/manager").glob("*.html")),
    *sorted((ROOT / "reception/templates/reception").glob("*.html")),
    *sorted((ROOT / "hq/templates/hq").glob("*.html")),
    ROOT / "counter/templates/counter/index.html",
]
# The skeleton of every page; the kiosk and display translate through their own catalogs.
VISITOR_TEMPLATES = {"screen.html"}
STAFF_SCRIPTS = [
    ROOT / "server/web/static/ticket_actions.js",
    ROOT / "manager/static/manager/floor.js",
    ROOT / "counter/static/counter/counter.js",
    ROOT / "reception/static/reception/reception.js",
]
PYTHON = [p for folder in ("server", "manager", "reception", "hq", "counter")
          for p in (ROOT / folder).rglob("*.py")]  # fmt: skip
# Words that are the same in every language: formats, units, codes, names of languages.
NEUTRAL = {
    "CSV", "JSON", "XLSX", "DOST", "dost-queue", "Ad (az)", "Имя (ru)", "Name (en)", "new_code",
}  # fmt: skip


def catalogs():
    return {lang: language.catalog(lang) for lang in language.LANGUAGES}


def test_the_three_catalogs_hold_the_same_keys_each_filled_with_the_same_slots():
    texts = catalogs()
    keys = set(texts["az"])
    assert len(keys) > 300
    for lang, catalog in texts.items():
        assert set(catalog) == keys, (lang, keys ^ set(catalog))
        for key, text in catalog.items():
            assert text.strip(), (lang, key)
            slots = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            az_slots = {n for _, n, _, _ in string.Formatter().parse(texts["az"][key]) if n}
            assert slots == az_slots, (lang, key, slots, az_slots)
    # Not a copy: Russian and English differ from Azerbaijani in most texts.
    assert sum(texts["ru"][k] != texts["az"][k] for k in keys) > 0.9 * len(keys)
    assert sum(texts["en"][k] != texts["az"][k] for k in keys) > 0.8 * len(keys)


def _used_keys():
    """Every literal key a template (``_("…")``), script (``t("…")``) or view asks for."""
    pattern = re.compile(r"""(?<![\w.])(?:_|t|tr|text)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")
    used = set()
    for path in [*STAFF_TEMPLATES, *STAFF_SCRIPTS, *PYTHON]:
        used |= set(pattern.findall(path.read_text("utf-8")))
    return used


def test_every_key_a_page_script_or_view_asks_for_is_in_the_catalog():
    used = _used_keys()
    assert len(used) > 250
    assert sorted(used - set(catalogs()["az"])) == []


@pytest.mark.parametrize(
    ("prefix", "names"),
    [
        ("role", accounts.ROLES),
        ("device", accounts.DEVICE_KINDS),
        ("enrol.title", accounts.DEVICE_KINDS),
        ("enrol.bad_token", accounts.DEVICE_KINDS),
        ("ticket.state", [s.value for s in State]),
        ("printer.state", [s.value for s in PrinterState]),
        ("counter.status", ["open", "closed", "break"]),
        ("floor.alert", ["wait_over_target", "counter_idle"]),
        ("actions.reason", ["visitor_left", "not_printed", "duplicate", "wrong_service"]),
        ("counter.outcome", ["done", "documents_missing", "referred"]),
        ("phone.state", [s.value for s in State if s.value not in ("issued", "waiting", "called")]),
        ("feedback.reason", feedback.REASONS),
        ("feedback.face", [str(rating) for rating in feedback.RATINGS]),
    ],
)
def test_keys_built_from_a_value_exist_for_every_value(prefix, names):
    assert [n for n in names if f"{prefix}.{n}" not in catalogs()["az"]] == []


class _VisibleText(HTMLParser):
    """Collects text nodes and the attributes people read or hear, outside script blocks."""

    READ = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "code", "pre")
        self.found += [value for name, value in attrs if name in self.READ and value]

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "code", "pre") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def _words_outside_the_catalog(source):
    """Jinja expressions and tags removed, what words a reader would still see."""
    plain = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", source, flags=re.S)
    parser = _VisibleText()
    parser.feed(plain)
    words = []
    for text in parser.found:
        text = " ".join(text.split()).strip("·→← ")
        if text in NEUTRAL or text.startswith("/") or not re.search(r"[^\W\d_]{2,}", text):
            continue
        # A technical hint beside a translated label (a URL scheme, a port) is the same in
        # every language.
        if re.fullmatch(r"\(?[\w:/?=&;.,… -]*(tcp|serial|usb|socket|virtual|/dev)[^)]*\)?", text):
            continue
        words.append(text)
    return words


@pytest.mark.parametrize(
    "path", [p for p in STAFF_TEMPLATES if p.name not in VISITOR_TEMPLATES], ids=lambda p: p.name
)
def test_no_staff_template_carries_a_word_outside_the_catalog(path):
    assert _words_outside_the_catalog(path.read_text("utf-8")) == []


def test_the_check_finds_a_word_left_in_a_template():
    assert _words_outside_the_catalog('<p title="Close it">{{ _("x.y") }} Save</p>') == [
        "Close it", "Save",
    ]  # fmt: skip


def test_each_user_reads_the_staff_pages_in_their_own_language(app_center):
    app = app_center.app
    manager = app.test_client()
    headers = login(manager, "manager", "floor-boss-secret")
    assert 'lang="az"' in manager.get("/manager/report").get_data(as_text=True)
    switched = manager.post(
        "/language", data={"language": "ru", "next": "/manager/report"}, headers=headers
    )
    assert switched.status_code == 302 and switched.headers["Location"] == "/manager/report"
    page = manager.get("/manager/report").get_data(as_text=True)
    assert 'lang="ru"' in page and "Отчёт" in page and "Hesabat" not in page
    # Stored with the account: another browser of the same user reads Russian too.
    again = app.test_client()
    login(again, "manager", "floor-boss-secret")
    assert "Отчёт" in again.get("/manager/report").get_data(as_text=True)
    # Another user keeps Azerbaijani; texts in the page's scripts follow the same language.
    clerk = app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    counter_page = clerk.get("/counter/").get_data(as_text=True)
    data = re.search(r'id="staff-text">(.*?)</script>', counter_page, re.S).group(1)
    assert json.loads(data)["counter.call_next"].startswith("Növbəti")


def test_before_sign_in_the_browser_or_a_cookie_chooses(app_center):
    client = app_center.app.test_client()
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Username" in english.get_data(as_text=True)
    russian = client.get("/login", headers={"Accept-Language": "ru"})
    assert "Имя пользователя" in russian.get_data(as_text=True)
    assert "İstifadəçi adı" in client.get("/login").get_data(as_text=True)  # no preference
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    chosen = client.post("/language", data={"language": "en", "next": "//evil.example/"},
                         headers={"X-CSRFToken": token})  # fmt: skip
    assert chosen.headers["Location"] == "/"  # never an open redirect
    assert "Username" in client.get("/login", headers={"Accept-Language": "ru"}).text


def test_a_language_that_is_not_offered_is_refused(app_center):
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    refused = client.post("/language", data={"language": "fr"}, headers=headers)
    assert refused.status_code == 422
    assert "az, ru, en" in refused.get_json()["error"]["message"]


def test_dates_and_numbers_follow_the_language(app_center):
    with app_center.app.test_request_context(headers={"Accept-Language": "ru"}):
        # CLDR's Russian puts no-break spaces in both (U+202F, U+00A0): they never wrap.
        assert language.day("2026-12-02") == "2 дек. 2026\u202fг."
        assert language.number(1646.5) == "1\xa0646,5"
    with app_center.app.test_request_context(headers={"Accept-Language": "az"}):
        assert language.day("2026-12-02") == "2 dek 2026"
        assert language.number(1646.5) == "1.646,5"
    with app_center.app.test_request_context(headers={"Accept-Language": "en"}):
        assert language.number(1646.5) == "1,646.5"
        assert language.weekdays()[0] == "Mon"


def test_an_existing_center_keeps_its_staff_and_their_counters_through_the_upgrade(tmp_path):
    from server.queue.schema import MIGRATIONS
    from server.queue.storage import Store

    old = Store(tmp_path / "dostq.db", migrations=MIGRATIONS[:11])  # before languages
    with old.write() as conn:
        conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role, created_at) "
            "VALUES ('leyla', 'Leyla', 'x', 'clerk', 0)"
        )
        conn.execute("INSERT INTO counters (name, clerk_user_id) VALUES ('Masa 1', 1)")
    old.close()
    store = Store(tmp_path / "dostq.db")  # the users table rebuilt, foreign keys kept
    with store.write() as conn:
        assert tuple(conn.execute("SELECT username, language FROM users").fetchone()) == (
            "leyla",
            "az",
        )
        assert conn.execute("SELECT clerk_user_id FROM counters").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        accounts.create_user(conn, "aynur", "entrance-help-secret", "volunteer", 0)
    with pytest.raises(Exception, match="CHECK"), store.write() as conn:
        conn.execute("UPDATE users SET language = 'fr'")
    store.close()


def test_the_phone_page_speaks_the_tickets_language_and_switches(app_center):
    from server.queue import visits

    center = app_center.app.extensions["dostq.center"]
    ticket, _ = visits.issue_ticket(center, "2.1", device=None, language="ru")
    client = app_center.app.test_client()
    page = client.get(f"/t/{ticket['token']}", headers={"Accept-Language": "en"}).text
    assert '<html lang="ru">' in page and "Перед вами:" in page
    assert 'class="bar"' not in page  # a visitor's page: no staff bar
    english = client.get(f"/t/{ticket['token']}?lang=en").text
    assert '<html lang="en">' in english and "Ahead of you:" in english
    assert '<html lang="ru">' in client.get(f"/t/{ticket['token']}?lang=fr").text
