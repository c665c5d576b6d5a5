"""The clerk's counter page in headless Chromium: a full cycle, and two clerks at once."""

import sqlite3

import pytest

from server.office.demo import DEMO_LOGINS
from tests.accessibility import keep_screen
from tests.live import start_live_center


@pytest.fixture
def center(tmp_path):
    live = start_live_center(tmp_path / "center")
    yield live
    live.stop()


def issue(live, service, count=1, category=None):
    body = {"service": service, "print": False, **({"category": category} if category else {})}
    for _ in range(count):
        live.kiosk().post(f"{live.url}/api/v1/tickets", json=body, timeout=10).raise_for_status()


def clerk_page(browser, live, username, counter_name):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}/counter/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_LOGINS[username])
    page.click("form.login button[type=submit]")
    page.click(f".choice:has-text('{counter_name}') >> button")
    page.wait_for_selector(".call-next")
    page.errors = errors
    return page


def states(live):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        return dict(db.execute("SELECT label, state FROM tickets").fetchall())


def test_a_clerks_full_cycle(browser, center):
    issue(center, "4.4", 3)
    page = clerk_page(browser, center, "clerk1", "Masa 1")
    page.keyboard.press("Space")  # call next
    page.wait_for_selector("#current-label:text-is('D-001')")
    page.click("text=Təkrar çağır (R)")  # recall
    page.click("text=Qəbula başla (S)")
    page.wait_for_selector("#current-state:text-is('qəbulda')")
    page.click("text=Bitir (F)")
    page.check("input[name=delivered][value='4.7']")  # a second service delivered
    page.fill("#form-finish input[name=find]", "yasa gore pensiya")  # not this counter's
    page.check("input[name=delivered][value='5.x1']")
    page.fill("#form-finish input[name=find]", "")  # ticked ones stay, on top
    page.wait_for_selector("input[name=delivered][value='4.1']")
    assert page.is_checked("input[name=delivered][value='5.x1']")
    page.select_option("select[name=outcome]", "documents_missing")
    keep_screen(page, "counter-finish")
    page.click("#form-finish >> text=Təsdiq et")
    page.wait_for_selector("#served:text-is('Qəbul olunub: 1')")
    page.click(".call-next")
    page.wait_for_selector("#current-label:text-is('D-002')")
    page.click("text=Yönləndir")
    page.select_option("select[name=service]", "1.0")
    page.click("#form-transfer >> text=Təsdiq et")  # D-002 goes to service 1.0, keeps its place
    page.wait_for_selector(".call-next")
    page.keyboard.press("Space")
    page.wait_for_selector("#current-label:text-is('D-002')")  # arrived first, so first again
    page.keyboard.press("n")  # no-show
    page.wait_for_selector(".call-next")
    page.click("text=Fasilə")
    page.fill("#form-break input[name=reason]", "nahar")
    page.check("#form-break input[name=minutes][value='30']")  # how long: visitors are told
    page.click("#form-break >> text=Təsdiq et")
    page.wait_for_selector("text=Fasilədə: nahar")
    assert "qayıdış:" in page.text_content(".badge:has-text('Fasilədə')")
    page.keyboard.press("Space")  # calling on a break is refused with a clear message
    page.wait_for_selector("#message:has-text('fasilədən qayıdın')")  # in the clerk's language
    page.click("text=Fasilədən qayıt")
    # "text=Fasilə" would also match the break's own badge and button: wait for the break to end
    page.wait_for_selector("button:text-is('Fasilə')")
    page.keyboard.press("Space")
    page.wait_for_selector("#current-label:text-is('D-003')")
    page.click("text=Qəbula başla (S)")
    page.wait_for_selector("#current-state:text-is('qəbulda')")
    assert states(center) == {"D-001": "done", "D-002": "no_show", "D-003": "serving"}
    with sqlite3.connect(center.data_dir / "dostq.db") as db:
        delivered = db.execute(
            "SELECT s.code FROM delivered_services d JOIN services s "
            "ON s.id = d.service_id ORDER BY s.code"
        ).fetchall()
        outcome = db.execute("SELECT outcome FROM tickets WHERE label = 'D-001'").fetchone()
    assert sorted(d[0] for d in delivered) == ["4.4", "4.7", "5.x1"]
    assert outcome[0] == "documents_missing"
    assert page.errors == []


def test_two_clerks_pressing_call_next_together_get_different_visitors(browser, center):
    # Masa 1 and Masa 5 (priority visitors only) both serve 1.0; priority goes first at Masa 1
    # too, so with two priority visitors waiting both clerks want one at the same moment.
    issue(center, "1.0", 1)
    issue(center, "1.0", 2, category="elderly")
    first = clerk_page(browser, center, "clerk1", "Masa 1")
    second = clerk_page(browser, center, "clerk2", "Masa 5")
    # Both requests leave the browsers before either answer comes back.
    press = "() => document.querySelector('.call-next').click()"
    first.evaluate(f"setTimeout({press}, 200)")
    second.evaluate(f"setTimeout({press}, 200)")
    first.wait_for_selector("#current-label")
    second.wait_for_selector("#current-label")
    labels = {first.text_content("#current-label"), second.text_content("#current-label")}
    assert len(labels) == 2
    assert sorted(states(center).values()) == ["called", "called", "waiting"]


def test_calling_with_nobody_waiting_says_so(browser, center):
    page = clerk_page(browser, center, "clerk1", "Masa 1")
    page.click(".call-next")
    page.wait_for_selector("#message:has-text('növbədə heç kim yoxdur')")


def test_a_clerk_finds_a_ticket_and_prints_it_again(browser, center):
    issue(center, "4.4", 2)
    page = clerk_page(browser, center, "clerk1", "Masa 1")
    page.fill("#ticket-finder input[name=label]", "D-001")
    page.press("#ticket-finder input[name=label]", "Enter")
    page.wait_for_selector("#ticket-finder .ticket-state >> text=gözləyir")
    page.click("#ticket-finder >> text=Yenidən çap")  # kiosk-1's printer: virtual
    page.wait_for_selector("#ticket-finder >> text=D-001: yenidən çapa göndərildi")
    assert states(center) == {"D-001": "waiting", "D-002": "waiting"}  # no key reached the desk
    assert page.errors == []


def test_the_choice_shows_each_counters_services_and_holder_and_a_visit_goes_to_a_named_counter(
    browser, center
):
    issue(center, "4.4", 1)
    first = clerk_page(browser, center, "clerk1", "Masa 1")
    second = browser.new_page(viewport={"width": 1440, "height": 900})
    second.goto(f"{center.url}/counter/")
    second.fill("input[name=username]", "clerk2")
    second.fill("input[name=password]", DEMO_LOGINS["clerk2"])
    second.click("form.login button[type=submit]")
    held = second.locator(".choice[data-counter='1']")
    held.wait_for()
    assert "Masada: clerk1" in held.text_content()  # who holds it, before trying
    served = second.locator(".choice[data-counter='2']").text_content()
    assert "B · Əmək münasibətləri (5)" in served
    held.locator("button").click()  # taken: said in Azerbaijani, not English
    second.wait_for_selector("#message:has-text('Bu masada başqa işçi işləyir')")
    second.click(".choice[data-counter='2'] >> button")
    second.wait_for_selector(".call-next")
    first.keyboard.press("Space")
    first.wait_for_selector("#current-label:text-is('D-001')")
    first.click("text=Yönləndir")
    first.select_option("#form-transfer select[name=service]", "2.1")
    first.select_option("#form-transfer select[name=counter]", "2")  # to Masa 2 by name
    first.click("#form-transfer >> text=Təsdiq et")
    first.wait_for_selector(".call-next")
    second.keyboard.press("Space")
    second.wait_for_selector("#current-label:text-is('D-001')")
