"""The national catalog: published at HQ, fetched by centers, shown as a diff, applied at day start.

HQ's side runs on SQLite and PostgreSQL (the admin's pages, the signed API); the center's
side on its own database with a clock the test moves; and the whole path once with real
processes: an HQ, a center that goes offline during two publications, restarts and applies
the latest at the start of its day, keeping its counters and what it closed.
"""

import hashlib
import io
import json
import re
import sqlite3
import time
from datetime import timedelta

import pytest
import requests

from hq import catalog
from hq.storage import add_center
from server.hq_link import signing, sync
from server.hq_link.catalog import PATH, fetch_catalog
from server.office import accounts, admin, national_catalog
from server.office.catalog import import_catalog
from server.office.catalog_files import catalog_data, default_catalog_path, load_catalog
from server.queue.errors import Invalid
from server.queue.visits import issue_ticket
from server.settings import LANGUAGES
from tests.conftest import KEY, center_today, wait_until
from tests.live import HTTP_TIMEOUT_S, start_hq, start_live_center
from tests.test_staff_browser import VIEWPORTS, check_layout, signed_in
from tests.test_sync import post, record

ADMIN_PASSWORD = "milli-kataloq-ürək-47"  # noqa: S105  # a test account's


def edited(change):
    """Return the shipped catalog as JSON with ``change(data)`` applied."""
    data = catalog_data(load_catalog(default_catalog_path()))
    change(data)
    return json.dumps(data, ensure_ascii=False)


def with_new_service(data):
    area = next(a for a in data["areas"] if a["code"] == "4")
    area["services"].append(
        {"code": "4.99", "name": {"az": "Məşğulluq proqramına yazılma"}, "target_minutes": 12}
    )


def renamed_too(data):
    with_new_service(data)
    service = next(s for a in data["areas"] for s in a["services"] if s["code"] == "2.1")
    service["name"]["az"] = "Əmək pensiyasının təyin edilməsi (yeni ad)"


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, username, password):
    token = form_token(client.get("/hq/login").get_data(as_text=True))
    response = client.post(
        "/hq/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302


def publish(client, text, effective_day, filename="catalog.json"):
    """Check a catalog at HQ as an admin does, then publish what the diff showed."""
    token = form_token(client.get("/hq/catalog").get_data(as_text=True))
    checked = client.post(
        "/hq/catalog/check",
        data={
            "csrf_token": token,
            "effective_day": effective_day,
            "catalog": (io.BytesIO(text.encode()), filename),
        },
        content_type="multipart/form-data",
    )
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200, page
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    fields["catalog"] = text
    published = client.post("/hq/catalog/publish", data=fields)
    assert published.status_code == 302
    return page


def ask(client, runs=None, holds=None, local=False, key=KEY):
    question = {"center": "baku-1", "at": time.time(), "runs": runs, "holds": holds, "local": local}
    body = json.dumps(question).encode()
    headers = signing.signed_headers(key, "baku-1", int(time.time()), "POST", PATH, body)
    center = client.application.test_client()  # a center holds no HQ session cookie
    return center.post(PATH, data=body, headers=headers, content_type="application/json")


@pytest.fixture
def hq_admin(hq_client):
    with hq_client.store.write() as conn:
        accounts.create_user(conn, "hq-admin", ADMIN_PASSWORD, "admin", time.time())
    sign_in(hq_client, "hq-admin", ADMIN_PASSWORD)
    return hq_client


def tomorrow():
    return (center_today() + timedelta(days=1)).isoformat()


def test_an_hq_admin_sees_the_change_then_publishes_numbered_versions(hq_admin):
    first = publish(hq_admin, edited(lambda data: None), tomorrow())
    assert "14 sahə, 42 xidmət." in first  # the first version: all of it is new
    assert re.findall(r'data-section="(\w+)"', first) == ["added"]
    diff = publish(hq_admin, edited(renamed_too), tomorrow())
    assert re.findall(r'data-section="(\w+)"', diff) == ["added", "renamed"]
    assert "Əlavə olunur (1)" in diff and "<li>4.99 Məşğulluq proqramına yazılma</li>" in diff
    assert "Adı dəyişir (1)" in diff and "<li>2.1: " in diff
    page = hq_admin.get("/hq/catalog").get_data(as_text=True)
    assert 'data-version="2"' in page and 'data-version="1"' in page
    download = hq_admin.get("/hq/catalog/2.json")
    assert download.mimetype == "application/json"
    assert any(s["code"] == "4.99" for a in download.get_json()["areas"] for s in a["services"])
    assert hq_admin.get("/hq/catalog/9.json").status_code == 404
    assert hq_admin.get(f"/hq/catalog/{2**64}.json").status_code == 404  # no database integer


def test_a_publication_made_against_an_older_version_or_for_a_past_day_is_refused(hq_admin):
    publish(hq_admin, edited(lambda data: None), tomorrow())
    token = form_token(hq_admin.get("/hq/catalog").get_data(as_text=True))
    text = edited(with_new_service)
    for fields in (
        {"compared_with": "0", "effective_day": tomorrow()},  # version 1 came in between
        {"compared_with": "1", "effective_day": "2020-01-01"},
        {"compared_with": "1", "effective_day": "not a day"},
    ):
        response = hq_admin.post(
            "/hq/catalog/publish",
            data={"csrf_token": token, "catalog": text, "filename": "c.json", **fields},
            follow_redirects=True,
        )
        assert response.status_code == 200 and "flash error" in response.get_data(as_text=True)
    for day in ("not a day", "2020-01-01"):  # refused at the check, before the change page
        checked = hq_admin.post(
            "/hq/catalog/check",
            data={"csrf_token": token, "effective_day": day,
                  "catalog": (io.BytesIO(text.encode()), "c.json")},
            content_type="multipart/form-data",
            follow_redirects=True,
        )  # fmt: skip
        assert checked.status_code == 200 and "flash error" in checked.get_data(as_text=True)
    with hq_admin.store.read() as conn:
        assert [v["version"] for v in catalog.versions(conn)] == [1]


def test_only_an_hq_admin_publishes(hq_client):
    with hq_client.store.write() as conn:
        accounts.create_user(conn, "analyst", ADMIN_PASSWORD, "manager", time.time())
    sign_in(hq_client, "analyst", ADMIN_PASSWORD)
    page = hq_client.get("/hq/catalog").get_data(as_text=True)
    assert 'id="publish"' not in page  # an analyst sees the versions, not the form
    response = hq_client.post(
        "/hq/catalog/publish", data={"csrf_token": form_token(page), "catalog": "{}"}
    )
    assert response.status_code == 403


def test_a_center_gets_the_newest_version_in_one_step_signed_with_its_key(hq_admin):
    assert ask(hq_admin).get_json() == {"version": None}  # nothing published yet
    for change in (lambda data: None, with_new_service, renamed_too):
        publish(hq_admin, edited(change), tomorrow())
    answer = ask(hq_admin, runs=1)  # offline during versions 2 and 3
    offer = answer.get_json()
    assert offer["version"] == 3 and offer["effective_day"] == tomorrow()
    assert hashlib.sha256(offer["catalog"].encode()).hexdigest() == offer["digest"]
    why = signing.check(
        KEY,
        "baku-1",
        answer.headers[signing.TIMESTAMP_HEADER],
        answer.headers[signing.SIGNATURE_HEADER],
        signing.ANSWER,
        PATH,
        answer.get_data(),
        time.time(),
    )
    assert why is None
    assert ask(hq_admin, runs=2, holds=3).get_json() == {"version": None}
    assert ask(hq_admin, runs=3, local=True).get_json() == {"version": None}
    rows = hq_admin.get("/hq/").get_data(as_text=True)
    assert re.search(r'class="num catalog" data-value="3">3 · ', rows)  # runs 3, with changes


def test_a_question_that_is_not_signed_or_not_a_question_is_refused(hq_admin):
    assert ask(hq_admin, key="wrong" * 9).status_code == 401
    body = json.dumps({"center": "baku-1", "runs": "latest"}).encode()
    headers = signing.signed_headers(KEY, "baku-1", int(time.time()), "POST", PATH, body)
    center = hq_admin.application.test_client()
    refused = center.post(PATH, data=body, headers=headers, content_type="application/json")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "bad_catalog_ask"


def offer_of(text, version, effective_day):
    return {
        "version": version,
        "effective_day": effective_day,
        "catalog": text,
        "digest": hashlib.sha256(text.encode()).hexdigest(),
    }


def counters_served(conn):
    return {
        (r[0], r[1])
        for r in conn.execute(
            "SELECT cs.counter_id, s.code FROM counter_services cs "
            "JOIN services s ON s.id = cs.service_id"
        )
    }


def test_a_version_applies_before_the_first_ticket_of_its_day_keeping_local_choices(center, clock):
    today = center.day(clock())
    with center.transaction() as (conn, now):
        import_catalog(conn, load_catalog(default_catalog_path()), force=True)
        counter = accounts.create_counter(conn, "Masa 9", {"2.1": 1.0, "4.4": 2.0})
        admin.update_service(conn, "2.2", {"az": "Xidmət 2.2"}, 8, active=False)
        served = counters_served(conn)
        text = edited(renamed_too)
        assert national_catalog.hold(conn, offer_of(text, 2, today), now)
        assert not national_catalog.hold(conn, offer_of(text, 1, today), now)  # older: ignored
    issue_ticket(center, "2.1", device=None)
    with center.store.read() as conn:
        assert not national_catalog.due(conn, today)  # today has begun: not under a visitor
        change = national_catalog.page(conn)["change"]
        assert [line.split(" ", 1)[0] for line in change.added] == ["4.99"]
        assert change.reactivated == []  # 2.2, closed here, stays closed
    clock.advance(86400)
    with center.transaction() as (conn, now):
        assert national_catalog.due(conn, center.day(now))
        national_catalog.apply_held(conn, now)
        rows = dict(conn.execute("SELECT code, active FROM services").fetchall())
        assert rows["4.99"] == 1 and rows["2.2"] == 0
        # Every counter keeps what it served; the new service goes to area 4's counters.
        after = counters_served(conn)
        assert served <= after and {code for _, code in after - served} == {"4.99"}
        assert (counter, "4.99") in after
        assert national_catalog.ask(conn) == {"runs": 2, "holds": None, "local": False}
        national_catalog.imported_locally(conn)  # a file imported here: HQ is told
        assert national_catalog.ask(conn)["local"]


def test_a_version_that_would_close_most_services_waits_for_the_admin(center):
    tiny = json.dumps(
        {"areas": [{"code": "1", "letter": "A", "name": {"az": "Sahə"},
                    "services": [{"code": "1.0", "name": {"az": "Xidmət"}}]}]}
    )  # fmt: skip
    with center.transaction() as (conn, now):
        national_catalog.hold(conn, offer_of(tiny, 4, "2000-01-01"), now)
        with pytest.raises(Invalid) as refused:
            national_catalog.apply_held(conn, now)
        assert refused.value.code == "import_deactivates_most"
        assert national_catalog.ask(conn)["holds"] == 4  # still there, for the admin


def test_a_damaged_or_unreadable_version_is_refused(center):
    text = edited(with_new_service)
    with center.transaction() as (conn, now):
        for offer in (
            {**offer_of(text, 2, "2026-01-01"), "digest": "0" * 64},
            offer_of('{"areas": []}', 2, "2026-01-01"),
            offer_of("not json", 2, "2026-01-01"),
            offer_of(text, 2, "soon"),
        ):
            with pytest.raises(Invalid):
                national_catalog.hold(conn, offer, now)
        assert national_catalog.ask(conn)["holds"] is None


def test_an_answer_not_signed_by_hq_is_refused(center, tmp_path, monkeypatch):
    class Forged:
        status_code = 200
        headers = {"Date": "", signing.TIMESTAMP_HEADER: str(int(time.time()))}
        content = json.dumps(offer_of(edited(with_new_service), 2, "2026-01-01")).encode()

    monkeypatch.setattr("server.hq_link.catalog.post_signed", lambda *args, **kwargs: Forged())
    hq = sync.HqLink("http://127.0.0.1:9", "baku-1", KEY)
    with pytest.raises(sync.SyncRefused, match="not signed by HQ"):
        fetch_catalog(center, hq, requests.Session())
    with center.store.read() as conn:
        assert national_catalog.ask(conn)["holds"] is None


def held_version(live):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        rows = dict(db.execute("SELECT key, value FROM settings").fetchall())
    held = json.loads(rows.get(national_catalog.HELD, "null"))
    return (
        json.loads(rows.get(national_catalog.RUNS, "null")),
        held["version"] if held else None,
    )


def test_published_at_hq_it_reaches_a_live_center_offline_in_between_and_applies_at_day_start(
    tmp_path, browser
):
    hq = start_hq(tmp_path / "hq")
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST mərkəzi")
    hq.create_user("hq-admin", ADMIN_PASSWORD, role="admin")

    def set_up(store):
        with store.write() as conn:
            sync.set_up(conn, tmp_path / "center", hq.url, "baku-1", key)
            admin.update_service(conn, "2.2", {"az": "Müavinət 2.2"}, 8, active=False)
            counter = conn.execute("SELECT id FROM counters ORDER BY id").fetchone()[0]
            admin.set_counter(conn, counter, "main", {"2.1": 1.0, "4.4": 1.0}, None)

    live = start_live_center(
        tmp_path / "center",
        prepare=set_up,
        settings={"HQ_SYNC_POLL_S": "0.2", "HQ_RETRY_MAX_S": "1", "HQ_CATALOG_EVERY_S": "0.2"},
    )
    try:
        with sqlite3.connect(live.data_dir / "dostq.db") as db:
            served_before = counters_served(db)
        # Version 1, for tomorrow, published in a browser as an HQ admin does it.
        page = browser.new_page(viewport=VIEWPORTS[0])
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{hq.url}/hq/login?next=/hq/catalog")
        page.fill("input[name=username]", "hq-admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector("#publish")
        first = tmp_path / "catalog-v1.json"
        first.write_text(edited(with_new_service), encoding="utf-8")
        page.set_input_files("#publish input[type=file]", str(first))
        page.click("#publish button[type=submit]")
        page.wait_for_selector("#catalog-change")
        check_layout(page, "hq-catalog-change-az")
        page.click("#catalog-change button[type=submit]")
        page.wait_for_selector("#versions [data-version='1']")
        # The center holds it and shows its admin what it changes.
        live.kiosk().get(f"{live.url}/api/v1/catalog", timeout=HTTP_TIMEOUT_S)  # starts sync
        assert wait_until(lambda: held_version(live) == (None, 1), 60)
        center_admin = signed_in(browser, live, "admin", "az", "/manager/admin/catalog")
        held = center_admin.inner_text("#national-catalog")
        assert "4.99 Məşğulluq proqramına yazılma" in held and "Əlavə olunur (1)" in held
        for language in LANGUAGES:
            for shown in (page, center_admin):
                shown.click(f".language-switch button[value={language}]")
                shown.wait_for_selector(f"html[lang={language}]")
            page.goto(f"{hq.url}/hq/catalog")
            check_layout(page, f"hq-catalog-{language}")
            check_layout(center_admin, f"admin-national-catalog-{language}")
        assert page.errors == [] and center_admin.errors == []
        hq_admin_in = _hq_session(hq.url, "hq-admin")

        live.stop()  # offline while HQ publishes twice; the second takes effect today
        _publish_live(hq_admin_in, hq.url, edited(renamed_too), tomorrow())
        _publish_live(hq_admin_in, hq.url, edited(renamed_too), center_today().isoformat())
        live.restart()  # the next morning: the server starts before the first ticket
        wait_until(lambda: _answers(live.url), 60)
        live.kiosk().get(f"{live.url}/api/v1/catalog", timeout=HTTP_TIMEOUT_S)
        assert wait_until(lambda: held_version(live) == (3, None), 60)

        catalog_now = live.kiosk().get(f"{live.url}/api/v1/catalog", timeout=HTTP_TIMEOUT_S)
        services = {s["code"]: s for a in catalog_now.json()["areas"] for s in a["services"]}
        assert "4.99" in services and "(yeni ad)" in services["2.1"]["name"]["az"]
        assert "2.2" not in services  # closed here, stays closed
        with sqlite3.connect(live.data_dir / "dostq.db") as db:
            served_after = counters_served(db)
            received = [
                json.loads(detail)["version"]
                for (detail,) in db.execute(
                    "SELECT detail FROM audit_log WHERE action = 'national_catalog_received' "
                    "ORDER BY id"
                )
            ]
        assert received == [1, 3]  # version 2 skipped: the latest in one step
        assert served_before <= served_after
        assert {code for _, code in served_after - served_before} == {"4.99"}
        # HQ learns at the next question which version the center runs.
        database = hq.open_database()
        try:

            def runs_at_hq():
                with database.read() as conn:
                    row = conn.execute(
                        "SELECT catalog_version, catalog_held FROM centers WHERE code = 'baku-1'"
                    ).fetchone()
                return tuple(row)

            assert wait_until(lambda: runs_at_hq() == (3, None), 60)
        finally:
            database.close()
    finally:
        live.stop()
        hq.stop()


def _answers(url):
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code in (200, 503)
    except requests.RequestException:
        return False


def _hq_session(url, username):
    http = requests.Session()
    token = form_token(http.get(f"{url}/hq/login", timeout=HTTP_TIMEOUT_S).text)
    response = http.post(
        f"{url}/hq/login",
        data={"username": username, "password": ADMIN_PASSWORD, "csrf_token": token},
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    return http


def _publish_live(http, url, text, effective_day):
    token = form_token(http.get(f"{url}/hq/catalog", timeout=HTTP_TIMEOUT_S).text)
    checked = http.post(
        f"{url}/hq/catalog/check",
        data={"csrf_token": token, "effective_day": effective_day},
        files={"catalog": ("catalog.json", text.encode())},
        timeout=HTTP_TIMEOUT_S,
    )
    checked.raise_for_status()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', checked.text))
    fields["catalog"] = text
    published = http.post(f"{url}/hq/catalog/publish", data=fields, timeout=HTTP_TIMEOUT_S)
    assert "flash done" in published.text, published.text


def cells_of(page, code):
    row = re.search(rf'<tr data-service="{re.escape(code)}">(.*?)</tr>', page, re.S).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def test_by_service_hq_adds_every_centers_figures_under_one_national_code(hq_admin):
    publish(hq_admin, edited(with_new_service), tomorrow())
    with hq_admin.store.write() as conn:
        sealed = hq_admin.application.extensions["dostq.hq_keys"].seal(KEY)
        add_center(conn, "gence-1", "Gəncə 1", sealed, time.time())
    served = {"code": "4.99", "name": "a center's own name", "visits": 10, "called": 10,
              "served": 8, "no_show": 2, "within_target": 5, "wait_mean_s": 300.0,
              "service_mean_s": 600.0}  # fmt: skip
    for center, wait in (("baku-1", 300.0), ("gence-1", 900.0)):
        day = {
            **record("2026-03-02"),
            "services": [
                {**served, "wait_mean_s": wait},
                {"code": "L.9", "name": "Yerli xidmət", "visits": 1, "called": 1},
                {"code": ["not", "a", "code"]},  # unchecked at intake: never a 500
                {"code": "2.1", "visits": "many", "served": True, "called": -3},
            ],
        }
        center_client = hq_admin.application.test_client()  # no HQ session cookie
        assert post(center_client, [day], center=center).status_code == 200
    page = hq_admin.get("/hq/services?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    cells = cells_of(page, "4.99")
    assert cells[1].strip() == "Məşğulluq proqramına yazılma"  # the national name
    assert cells[2:5] == ["2", "20", "16"]  # two centers, visits, served
    assert "10:00" in cells[7]  # mean wait (300 s and 900 s, 10 visits each): 600 s
    assert "yoxdur" in cells_of(page, "L.9")[1]  # "not in the national catalog"
    assert cells_of(page, "2.1")[2:5] == ["2", "0", "0"]  # figures that are none count 0
    export = hq_admin.get("/hq/services.csv?from=2026-03-02&to=2026-03-02")
    assert "4.99,Məşğulluq proqramına yazılma,2,20,16" in export.get_data(as_text=True)
    long = hq_admin.get("/hq/services?from=2026-01-01&to=2026-03-02").get_data(as_text=True)
    assert "flash error" in long and 'value="2026-01-31"' in long  # the last 31 days only
    dawn = hq_admin.get("/hq/services?from=0001-01-01&to=0001-03-01")  # cut, not below day 1
    assert dawn.status_code == 200 and 'value="0001-01-30"' in dawn.get_data(as_text=True)
