"""Every staff page in headless Chromium, in Azerbaijani, Russian and English, at the two
screen sizes centers have (1440×900, 1280×800): no element box overlapping another, no label
broken one word per line, no sideways scrolling, no script error, no axe-core violation
(tests/accessibility.py). The 1280×800 views are the
screenshots in docs/screenshots/, named <page>-<state>-<lang>.png."""

import json
import sqlite3
from datetime import timedelta

import pytest

from server.office.demo import DEMO_LOGINS
from tests.accessibility import keep_screen
from tests.conftest import center_today, wait_until
from tests.layout import layout_problems
from tests.live import start_live_center

LANGUAGES = ("az", "ru", "en")
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 1440, "height": 900})


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    live = start_live_center(tmp_path_factory.mktemp("staff") / "center", history_days=20)
    kiosk = live.kiosk()
    for service in ("4.4", "4.4", "6", "2.1"):
        kiosk.post(
            f"{live.url}/api/v1/tickets", json={"service": service, "print": False}, timeout=10
        ).raise_for_status()
    clerk = live.session("clerk1", DEMO_LOGINS["clerk1"])
    clerk.post(f"{live.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
    with sqlite3.connect(live.data_dir / "dostq.db") as db:  # lunch in two waves
        waves = [{"starts": "12:30", "minutes": 30, "counters": [1, 3]},
                 {"starts": "13:00", "minutes": 30, "counters": [2, 4]}]  # fmt: skip
        db.execute("INSERT INTO settings (key, value) VALUES ('break_waves', ?)",
                   (json.dumps(waves),))  # fmt: skip
    yield live
    live.stop()


def signed_in(browser, live, username, language, path):
    """A page of ``username``, the staff pages' language chosen with the switch in the page."""
    page = browser.new_page(viewport=VIEWPORTS[0])
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}/login?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_LOGINS[username])
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"**{path}*")
    page.click(f".language-switch button[value={language}]")
    page.wait_for_selector(f"html[lang={language}]")
    page.errors = errors
    return page


def check_layout(page, name, ready=None):
    """Look at the page at both sizes; keep the 1280×800 view as ``name``."""
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        if ready:
            page.wait_for_selector(ready)
        if viewport == VIEWPORTS[0]:
            keep_screen(page, name, full_page=True)
        overlaps, broken, sideways = layout_problems(page)
        where = f"{name} at {viewport['width']}×{viewport['height']}"
        assert overlaps == [], f"{where}: {overlaps}"
        assert broken == [], f"{where}: {broken}"
        assert not sideways, where
    assert page.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_manager_and_admin_pages(browser, center, language):
    page = signed_in(browser, center, "admin", language, "/manager/")
    assert wait_until(lambda: page.text_content("#waiting") == "4", timeout=10)
    check_layout(page, f"manager-floor-{language}", "#counters tr")
    if language == "en":  # once the last ticket is out: the next open day's counters
        counters = (5, 9, 9, 8, 6, 7, 7, 6, 5, 5)
        advice = {"day": "2026-12-08", "day_label": "Dec 8, 2026", "visitors": 431,
                  "counters_now": 5, "goal_percent": 80, "goal_min": 15, "added": 7,
                  "peak": {"hour": 10, "counters": 9},
                  "hours": [{"hour": h, "counters": c}
                            for h, c in zip(range(9, 19), counters, strict=True)]}  # fmt: skip
        page.route("**/manager/floor/next-day.json",
                   lambda route: route.fulfill(json={"advice": advice}))  # fmt: skip
        page.reload()
        page.wait_for_selector("#next-day:not([hidden])")
        assert "10:00: 9" in page.text_content("#next-day-text")
        assert page.get_attribute("#next-day-link", "href").endswith("?day=2026-12-08")
        check_layout(page, "manager-floor-next-day-en", "#counters tr")
    yesterday = center_today() - timedelta(days=1)
    first = yesterday - timedelta(days=13)
    page.goto(f"{center.url}/manager/report?from={first}&to={yesterday}")
    check_layout(page, f"manager-report-{language}", "svg.chart")
    weekday = center_today() + timedelta(days=1)
    while weekday.weekday() >= 5:  # the history has working days only: a weekday to plan
        weekday += timedelta(days=1)
    # Two counters more in the morning, Masa 2 serving area A too, the first lunch wave later.
    page.goto(f"{center.url}/manager/planner?day={weekday}&add=2&from=9&to=12&widen=2"
              "&widen_area=A&wave=0&wave_at=13:30")  # fmt: skip
    check_layout(page, f"manager-planner-{language}", "#plan")
    for part in ("catalog", "counters", "people", "rules", "lines"):
        page.goto(f"{center.url}/manager/admin/{part}")
        check_layout(page, f"admin-{part}-{language}")
    page.goto(f"{center.url}/")
    check_layout(page, f"home-menu-{language}")
    page.goto(f"{center.url}/printers/kiosk-1/")
    check_layout(page, f"printer-jobs-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_counter_page_serving(browser, center, language):
    center.kiosk().post(
        f"{center.url}/api/v1/tickets", json={"service": "2.1", "print": False}, timeout=10
    ).raise_for_status()  # for Masa 2 (area B) to call
    page = signed_in(browser, center, "clerk2", language, "/counter/")
    page.click(".choice[data-counter='2'] >> button")
    page.wait_for_selector(".call-next")
    page.keyboard.press("Space")
    page.wait_for_selector("#current-label")
    page.wait_for_timeout(1100)  # the timers tick once
    check_layout(page, f"counter-serving-{language}", "#current-label")
    page.keyboard.press("n")  # let the next language's clerk call again
    page.wait_for_selector(".call-next")
    # A break says how long: the wait told to visitors counts the counter back then.
    words = json.loads(page.text_content("#staff-text"))
    page.click(f"button:text-is('{words['counter.break_start']}')")
    page.check("#form-break input[name=minutes][value='30']")
    check_layout(page, f"counter-break-{language}", "#form-break")
    page.click(f"#form-break button:text-is('{words['common.cancel']}')")
    page.wait_for_selector("#form-break", state="detached")
    page.click(
        "text="
        + page.evaluate(
            "JSON.parse(document.getElementById('staff-text').textContent)['counter.sign_out']"
        )
    )
    page.wait_for_selector(".choice")
    check_layout(page, f"counter-choice-{language}", ".choice")


@pytest.mark.parametrize("language", LANGUAGES)
def test_reception_issues_a_priority_ticket_and_finds_it(browser, center, language):
    page = signed_in(browser, center, "volunteer", language, "/reception/")
    page.wait_for_selector("#reception select[name=service] option", state="attached")
    # The kiosk's search: "ushaq" finds "uşaq" (a substring of its own found nothing).
    page.fill("#reception input[name=find]", "ushaq")
    page.wait_for_function(
        "[...document.querySelectorAll('#reception select[name=service] option')]"
        ".some((o) => /uşaq|дет|child/i.test(o.textContent))"
    )
    page.fill("#reception input[name=find]", "pensiya")
    page.select_option("#reception select[name=category]", "disability")
    page.check(f"#reception input[name=language][value={language}]")
    page.select_option("#reception select[name=printer]", "")  # none: write the number down
    page.click("#reception button[type=submit]")
    label = page.locator("#issued-label")
    label.wait_for()
    number = label.text_content()
    check_layout(page, f"reception-issue-{language}", "#issued-label")
    with sqlite3.connect(center.data_dir / "dostq.db") as db:
        category, state, area = db.execute(
            "SELECT t.category, t.state, a.letter FROM tickets t "
            "JOIN services s ON s.id = t.service_id JOIN areas a ON a.id = s.area_id "
            "WHERE t.label = ? ORDER BY t.id DESC LIMIT 1",
            (number,),  # the newest: the demo's history has the same numbers on other days
        ).fetchone()
        who = db.execute(
            "SELECT u.username FROM audit_log l JOIN users u ON u.id = l.user_id "
            "WHERE l.action = 'ticket_issued_for_visitor' AND l.detail LIKE ?",
            (f'%"{number}"%',),
        ).fetchone()
    assert (category, state, who) == ("disability", "waiting", ("volunteer",))
    assert number.startswith(area)
    page.fill("#ticket-finder input[name=label]", number)
    page.click("#ticket-finder button[type=submit]")
    page.wait_for_selector("#ticket-finder .ticket-state")
    check_layout(page, f"reception-found-{language}", "#ticket-finder .ticket-state")


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_before_sign_in_follow_the_browsers_language(browser, center, language):
    locale = {"az": "az-AZ", "ru": "ru-RU", "en": "en-GB"}[language]
    page = browser.new_page(viewport=VIEWPORTS[0], locale=locale)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{center.url}/login")
    assert page.get_attribute("html", "lang") == language  # the browser's language chooses
    check_layout(page, f"login-form-{language}")
    page.goto(f"{center.url}/display/enrol")
    check_layout(page, f"enrol-display-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_phone_page_in_the_tickets_language(browser, center, language):
    ticket = (
        center.kiosk()
        .post(
            f"{center.url}/api/v1/tickets",
            json={"service": "6", "print": False, "language": language},
            timeout=10,
        )
        .json()
    )
    page = browser.new_page(viewport={"width": 360, "height": 640})  # a small phone
    page.goto(f"{center.url}/t/{ticket['token']}")
    assert page.get_attribute("html", "lang") == language
    assert page.text_content("h1") == ticket["label"]
    assert layout_problems(page) == ([], [], False)
    keep_screen(page, f"phone-waiting-{language}", full_page=True)
