"""The HQ dashboard in headless Chromium, over centers that really synced their history."""

import csv
import io
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests

from server.hq_link import sync
from server.office import history, reports
from server.office.catalog import import_catalog
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.center import Center
from server.queue.storage import Store
from tests.conftest import center_today, wait_until
from tests.live import start_hq
from tests.test_staff_browser import check_layout

pytestmark = pytest.mark.live

CENTERS = {
    "baku-1": "Bakı 1 saylı DOST mərkəzi",
    "sumqayit": "Sumqayıt DOST mərkəzi",
    "ganja": "Gəncə DOST mərkəzi",
    "lankaran": "Lənkəran DOST mərkəzi",
    "shaki": "Şəki DOST mərkəzi",
}
DAYS = 15


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def synced(tmp_path_factory, request):
    """An HQ process and five centers' last DAYS working days, sent over the real protocol.

    HQ on its SQLite file, then on PostgreSQL.
    """
    work = tmp_path_factory.mktemp("hq")
    database = (
        "" if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()
    )
    hq = start_hq(work / "hq", database=database)
    hq.create_user("analyst", "hq-reader-secret")
    own_totals, own_satisfaction, own_honesty = {}, {}, {}
    for seed, (code, name) in enumerate(CENTERS.items(), start=1):
        key = hq.add_center(code, name)
        center = Center(Store(work / code / "dostq.db"))
        with center.store.write() as conn:
            import_catalog(conn, load_catalog(default_catalog_path()))
            first = history.working_days_before(center_today(), DAYS)
            history.generate(conn, first, DAYS, center.timezone, seed=seed)
            sync.set_up(conn, work / code, hq.url, code, key)
            own_totals[code] = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
            rated, satisfied = conn.execute(
                "SELECT count(*), sum(rating >= 4) FROM feedback"
            ).fetchone()
            own_satisfaction[code] = round(100 * satisfied / rated, 1)
            totals = reports.report(conn, first.isoformat(), center_today().isoformat(),
                                    center.timezone)["totals"]  # fmt: skip
            own_honesty[code] = totals["told_within_5min_percent"]
        link = sync.HqLink(hq.url, code, key)
        session = requests.Session()
        while sync.send_batch(center, link, session, batch_days=7):
            pass
        center.store.close()
    yield hq, own_totals, first, own_satisfaction, own_honesty
    hq.stop()


def analyst_page(browser, hq, path, language=None):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{hq.url}/hq/login?next={quote(path)}")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", "hq-reader-secret")
    page.click("form.login button[type=submit]")
    if language:  # the switch in the bar: stored with the analyst's account
        page.wait_for_url(f"**{path.split('?')[0]}*")
        page.click(f".language-switch button[value={language}]")
        page.wait_for_selector(f"html[lang={language}]")
    page.errors = errors
    return page


def test_all_centers_side_by_side_match_their_own_figures(browser, synced):
    hq, own_totals, first, own_satisfaction, own_honesty = synced
    last = center_today().isoformat()
    page = analyst_page(browser, hq, f"/hq/?from={first}&to={last}", language="en")
    page.wait_for_selector("#centers tbody tr")
    shown = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#centers tbody tr')]"
        ".map(r => [r.dataset.center, +r.querySelector('.visits').dataset.value]))"
    )
    assert shown == own_totals
    page.click("#centers th:has-text('Visits')")
    with page.expect_download() as download_info:
        page.click("text=CSV")
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text("utf-8-sig"))))
    assert {row["code"]: int(row["visits"]) for row in rows} == own_totals
    # Visitors' satisfaction beside throughput: the share of 4 and 5 among each one's ratings.
    assert {row["code"]: float(row["satisfied_percent"]) for row in rows} == own_satisfaction
    shown = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#centers tbody tr')]"
        ".map(r => [r.dataset.center, +r.querySelector('.satisfied').dataset.value]))"
    )
    assert shown == own_satisfaction
    # How honest each center's waits were: the share called within ±5 min of the wait told.
    assert {row["code"]: float(row["told_within_5min_percent"]) for row in rows} == own_honesty
    assert len(set(own_honesty.values())) > 1 and page.locator("#centers td.told").count() == 10
    assert {row["code"]: int(row["sms_sent"]) for row in rows} == dict.fromkeys(own_totals, 0)
    # By service, over every center: the national codes' sums are the centers' own totals.
    page.goto(f"{hq.url}/hq/services?from={first}&to={last}")
    by_service = page.evaluate(
        "[...document.querySelectorAll('#services tbody tr .visits')].map(c => +c.dataset.value)"
    )
    assert sum(by_service) == sum(own_totals.values()) and len(by_service) > 10
    assert page.errors == []


def test_one_centers_trend_over_weeks(browser, synced):
    hq, *_ = synced
    page = analyst_page(browser, hq, "/hq/centers/ganja")
    page.wait_for_selector("svg.chart rect.arrived")
    days = page.evaluate("document.querySelectorAll('#days tbody tr').length")
    assert days == DAYS
    assert wait_until(lambda: page.title().startswith("Gəncə"), timeout=5)
    assert page.errors == []


# Layout is the pages' own: laid out once, on HQ's SQLite file (the figures are compared on
# both databases above).
@pytest.mark.parametrize("synced", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_hq_pages_in_each_language_lay_out_cleanly(browser, synced, language):
    hq, _, first, *_ = synced
    page = analyst_page(browser, hq, f"/hq/?from={first}&to={center_today()}", language=language)
    check_layout(page, f"hq-centers-{language}", "#centers tbody tr")
    page.goto(f"{hq.url}/hq/centers/ganja")
    check_layout(page, f"hq-trend-{language}", "svg.chart rect.arrived")
    page.goto(f"{hq.url}/hq/services?from={first}&to={center_today()}")
    check_layout(page, f"hq-services-{language}", "#services tbody tr")


def test_dashboard_needs_a_sign_in(synced):
    hq, *_ = synced
    response = requests.get(f"{hq.url}/hq/", timeout=10, allow_redirects=False)
    assert response.status_code == 302 and "/hq/login" in response.headers["Location"]
    old = (center_today() - timedelta(days=400)).isoformat()
    export = requests.get(f"{hq.url}/hq/centers.csv?from={old}", timeout=10, allow_redirects=False)
    assert export.status_code == 302
