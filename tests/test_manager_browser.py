"""Manager pages in headless Chromium: the live floor follows the queue; a report downloads."""

import csv
import io
import sqlite3
from datetime import timedelta
from urllib.parse import quote

import pytest

from server.office.demo import DEMO_LOGINS
from tests.conftest import center_today, wait_until
from tests.live import start_live_center


@pytest.fixture
def center(tmp_path):
    live = start_live_center(tmp_path / "center", history_days=30)
    yield live
    live.stop()


def manager_page(browser, live, path, username="manager", language=None):
    """Sign in (and pick the page's language with the switch in the bar, stored for the user)."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}/login?next={quote(path)}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_LOGINS[username])
    page.click("form.login button[type=submit]")
    if language:
        page.click(f".language-switch button[value={language}]")
        page.wait_for_selector(f"html[lang={language}]")
    page.errors = errors
    return page


def text(page, selector):
    """The element's text, or None while the page has not drawn it yet (waits poll this)."""
    return page.evaluate(f"document.querySelector({selector!r})?.textContent ?? null")


def test_live_floor_follows_issues_and_calls(browser, center):
    page = manager_page(browser, center, "/manager/", language="en")
    assert wait_until(lambda: text(page, "#link") == "live", timeout=10)
    assert wait_until(lambda: text(page, "#waiting") == "0", timeout=10)
    kiosk = center.kiosk()
    for service in ("4.4", "4.4", "6"):
        kiosk.post(
            f"{center.url}/api/v1/tickets", json={"service": service, "print": False}, timeout=10
        ).raise_for_status()
    # Issued over the API: the page hears it over its socket and shows it, no reload.
    assert wait_until(lambda: text(page, "#waiting") == "3", timeout=10)
    area_d = "#areas tr[data-letter='D'] td:nth-child(2)"
    assert text(page, area_d) == "2"
    clerk = center.session("clerk1", "demo-counter-1")
    clerk.post(f"{center.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
    clerk.post(f"{center.url}/api/v1/counters/1/call-next", timeout=10).raise_for_status()
    assert wait_until(lambda: text(page, "#waiting") == "2", timeout=10)
    assert wait_until(lambda: text(page, "#calls") == "1", timeout=10)
    assert "D-001" in text(page, "#counters")
    kiosk.post(f"{center.url}/api/v1/assistance", timeout=10).raise_for_status()
    page.wait_for_selector("#alerts >> text=Help needed: kiosk-1")
    page.click("#alerts >> text=Answered")
    page.wait_for_selector("#alerts >> text=Help needed", state="detached")
    assert page.errors == []


def test_report_shows_history_sorts_and_downloads(browser, center):
    yesterday = center_today() - timedelta(days=1)
    first = yesterday - timedelta(days=13)
    page = manager_page(
        browser, center, f"/manager/report?from={first}&to={yesterday}", language="en"
    )
    page.wait_for_selector("svg.chart rect.arrived")
    total = int(page.get_attribute("#total-visits", "data-value"))  # shown as 4,539
    assert total >= 400 and text(page, "#total-visits") == f"{total:,}"
    # Sorting the services table by visits puts the busiest service first.
    page.click("#services th:has-text('Visits')")
    page.click("#services th:has-text('Visits')")
    visits = page.evaluate(
        "[...document.querySelectorAll('#services tbody tr')].map(r => +r.cells[2].dataset.value)"
    )
    assert visits == sorted(visits, reverse=True)
    with page.expect_download() as download_info:
        page.click("#visits-csv")
    download = download_info.value
    assert download.suggested_filename == f"dostq-visits-{first}-{yesterday}.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == total
    assert {row["day"] for row in rows} <= {
        (first + timedelta(days=n)).isoformat() for n in range(14)
    }
    assert page.errors == []


def test_admin_edits_a_service_in_the_page_and_the_kiosk_catalog_follows(browser, center):
    page = manager_page(browser, center, "/manager/admin/", username="admin", language="en")
    page.fill("input[aria-label='4.4: target wait, min']", "25")
    page.fill("input[aria-label='4.4: name (az)']", "Məşğulluq üzrə məsləhət")
    page.click("button[form='service-4.4']")
    page.wait_for_selector(".flash.done >> text=Service 4.4 saved")
    catalog = center.kiosk().get(f"{center.url}/api/v1/catalog", timeout=10).json()
    service = next(s for a in catalog["areas"] for s in a["services"] if s["code"] == "4.4")
    assert (service["target_minutes"], service["name"]["az"]) == (25, "Məşğulluq üzrə məsləhət")
    page.fill("input[aria-label='Letter of area 4']", "B")  # area 2's: refused, nothing lost
    page.click("button[form='area-4']")
    page.wait_for_selector(".flash.error >> text=Letter B belongs to area 2")
    assert page.input_value("input[aria-label='Letter of area 4']") == "D"
    assert page.errors == []


def test_a_ticket_is_found_by_its_number_and_cancelled_from_the_floor(browser, tmp_path):
    live = start_live_center(tmp_path / "center")
    try:
        kiosk = live.kiosk()
        for _ in range(2):
            kiosk.post(
                f"{live.url}/api/v1/tickets", json={"service": "4.4", "print": False}, timeout=10
            ).raise_for_status()
        page = manager_page(browser, live, "/manager/")
        assert wait_until(lambda: text(page, "#waiting") == "2", timeout=10)
        page.fill("#ticket-finder input[name=label]", "d2")  # as typed in a hurry
        page.click("#ticket-finder button[type=submit]")
        page.wait_for_selector("#ticket-finder .ticket-state >> text=gözləyir")
        assert "D-002" in text(page, "#ticket-finder")
        page.select_option("#ticket-finder select", "visitor_left")
        page.click("#ticket-finder >> text=Bileti ləğv et")
        page.wait_for_selector("#ticket-finder >> text=D-002: ləğv edildi")
        assert text(page, "#ticket-finder .ticket-state") == "ləğv edilib"
        assert wait_until(lambda: text(page, "#waiting") == "1", timeout=10)
        page.fill("#ticket-finder input[name=label]", "??")
        page.click("#ticket-finder button[type=submit]")
        page.wait_for_selector("#ticket-finder >> text=Bilet nömrəsi belə yazılır: A-007")
        assert page.errors == []
    finally:
        live.stop()


def test_a_day_run_with_a_cancel_and_a_reprint_then_closed_with_what_was_left_unserved(
    browser, tmp_path
):
    live = start_live_center(tmp_path / "center")
    try:
        kiosk = live.kiosk()
        for _ in range(4):  # D-001 … D-004, printed by kiosk-1's (virtual) printer
            kiosk.post(
                f"{live.url}/api/v1/tickets", json={"service": "4.4"}, timeout=10
            ).raise_for_status()
        clerk = live.session("clerk1", DEMO_LOGINS["clerk1"])
        clerk.post(f"{live.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
        clerk.post(f"{live.url}/api/v1/counters/1/call-next", timeout=10).raise_for_status()
        clerk.post(f"{live.url}/api/v1/counters/1/start", timeout=10).raise_for_status()
        page = manager_page(browser, live, "/manager/", language="en")
        assert wait_until(lambda: text(page, "#waiting") == "3", timeout=10)
        finder = "#ticket-finder"
        page.fill(f"{finder} input[name=label]", "D-002")
        page.click(f"{finder} button[type=submit]")
        page.click(f"{finder} >> text=Reprint")
        page.wait_for_selector(f"{finder} >> text=D-002: sent to print again")
        page.fill(f"{finder} input[name=label]", "D-003")
        page.click(f"{finder} button[type=submit]")
        page.wait_for_selector(f"{finder} .ticket-state >> text=waiting")
        page.select_option(f"{finder} select", "visitor_left")
        page.click(f"{finder} >> text=Cancel ticket")
        page.wait_for_selector(f"{finder} >> text=D-003: cancelled")
        assert wait_until(lambda: text(page, "#waiting") == "2", timeout=10)
        page.click(".close-day button")  # not ticked: the browser asks for the tick first
        assert page.evaluate(
            "document.querySelector('.close-day input[name=confirm]').validity.valueMissing"
        )
        page.check(".close-day input[name=confirm]")
        page.click(".close-day button")
        page.wait_for_selector(".flash.done >> text=tickets closed as unserved: 2")
        assert wait_until(lambda: text(page, "#waiting") == "0", timeout=10)
        page.goto(f"{live.url}/manager/report")
        assert text(page, "#unserved") == "2"  # D-002 and D-004; D-001 was being served
        with sqlite3.connect(live.data_dir / "dostq.db") as db:
            states = dict(db.execute("SELECT label, state FROM tickets").fetchall())
            audited = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY id")]
        assert states == {"D-001": "serving", "D-002": "closed_unserved",
                          "D-003": "cancelled", "D-004": "closed_unserved"}  # fmt: skip
        assert {"ticket_reprinted", "ticket_cancelled", "day_closed"} <= set(audited)
        assert page.errors == []
    finally:
        live.stop()


def test_the_floor_says_in_the_managers_language_when_the_clock_is_off_hqs(browser, tmp_path):
    from server.queue.storage import put_setting

    def clock_seven_minutes_ahead(store):  # as the last sync to HQ measured it
        with store.write() as conn:
            put_setting(conn, "hq_sync_state", {"clock_offset_s": -420.0, "clock_checked_at": 1})

    live = start_live_center(tmp_path / "center", prepare=clock_seven_minutes_ahead)
    try:
        page = manager_page(browser, live, "/manager/", language="az")
        page.wait_for_selector("#clock-off")
        assert text(page, "#clock-off") == (
            "Bu kompüterin saatı Baş ofisin saatından 7 dəq irəlidədir: bilet vaxtları ondan "
            "asılıdır, saatı düzəldin."
        )
        assert page.errors == []
    finally:
        live.stop()


def test_the_floor_names_a_ticket_that_did_not_print_and_frees_a_clerks_counter(browser, tmp_path):
    from tests.accessibility import keep_screen

    live = start_live_center(tmp_path / "center", settings={"PRINT_GIVE_UP_S": "1"})
    try:
        printer = live.data_dir / "printer"
        printer.mkdir(exist_ok=True)
        (printer / "STATE").write_text("paper_out")
        kiosk = live.kiosk()
        ticket = kiosk.post(f"{live.url}/api/v1/tickets", json={"service": "4.4"}, timeout=10)
        label = ticket.json()["label"]
        clerk = live.session("clerk1", DEMO_LOGINS["clerk1"])
        clerk.post(f"{live.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
        page = manager_page(browser, live, "/manager/", language="en")
        page.wait_for_selector(f".alert.not-printed[data-ticket='{label}']")
        assert "did not print" in text(page, f".alert.not-printed[data-ticket='{label}']")
        page.wait_for_selector("#counters .release")
        keep_screen(page, "floor-not-printed-and-release")
        page.on("dialog", lambda dialog: dialog.accept())  # "Release Masa 1?"
        page.click("#counters tr:has-text('Masa 1') .release")
        page.wait_for_selector("#counters tr:has-text('Masa 1'):not(:has(.release))")
        counters = clerk.get(f"{live.url}/api/v1/counters", timeout=10).json()
        assert [c["status"] for c in counters if c["id"] == 1] == ["closed"]
        (printer / "STATE").unlink()  # paper loaded: reprint from the alert
        page.click(f".alert.not-printed[data-ticket='{label}'] >> text=Reprint")
        page.wait_for_selector(f".alert.not-printed[data-ticket='{label}']", state="detached")
        assert page.errors == []
    finally:
        live.stop()
