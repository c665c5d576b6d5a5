"""The visitor's phone page in headless Chromium (a 360×640 phone), in each language: live
without reloading, "your turn is near", the call with its counter, the rating after the visit,
and leaving the queue. Each state's screenshot is docs/screenshots/phone-<state>-<lang>.png."""

import sqlite3

import pytest

from server.office.demo import DEMO_LOGINS
from tests.accessibility import keep_screen
from tests.conftest import wait_until
from tests.layout import layout_problems
from tests.live import start_live_center
from tests.test_staff_browser import LANGUAGES


@pytest.fixture
def center(tmp_path):
    live = start_live_center(tmp_path / "center")
    yield live
    live.stop()


def issue(live, language="az"):
    body = {"service": "4.4", "print": False, "language": language}
    answer = live.kiosk().post(f"{live.url}/api/v1/tickets", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def phone_page(browser, live, ticket):
    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{live.url}/t/{ticket['token']}")
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_phone_follows_its_ticket_from_the_queue_to_a_rating(browser, center, language):
    tickets = [issue(center, language) for _ in range(5)]
    mine = tickets[4]
    page = phone_page(browser, center, mine)
    assert page.text_content("#ahead") == "4"
    assert page.is_hidden(".near") and page.is_hidden("#feedback")
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
    page.wait_for_selector("#ahead:text-is('3')", timeout=10_000)  # pushed, no reload
    page.wait_for_selector(".near", timeout=10_000)  # 3 ahead: come back
    keep_phone(page, "near", language)
    for _ in range(4):  # the four before mine come no more
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
    page.wait_for_selector("#phone[data-state=called]", timeout=10_000)
    assert "Masa 1" in page.text_content(".state.called") and page.is_hidden("#cancel")
    keep_phone(page, "called", language)
    clerk.post(f"{base}/start", timeout=10).raise_for_status()
    clerk.post(f"{base}/finish", json={"delivered": []}, timeout=10).raise_for_status()
    # Done: five faces ask at once; one tap rates, reasons and a comment may follow.
    page.wait_for_selector("#feedback:not([hidden])", timeout=10_000)
    keep_phone(page, "feedback", language)
    page.click(".face-4")
    page.wait_for_selector(".face-4[aria-pressed=true]")
    assert rating(center, mine) == (4, "", None)
    page.check("input[value=waiting_time]")
    page.fill("#feedback-comment", "Növbə uzun idi, zəng edin 050 123 45 67")
    page.click("#feedback-send")
    # The note already thanks for the tap: the stored row, not the page, says the send landed.
    stored = (4, "waiting_time", "Növbə uzun idi, zəng edin •••")
    assert wait_until(lambda: rating(center, mine) == stored, timeout=10)
    keep_phone(page, "rated", language)
    page.reload()  # the rating stays on the page, still changeable
    assert page.get_attribute(".face-4", "aria-pressed") == "true"
    assert page.is_checked("input[value=waiting_time]")
    assert page.errors == []


def rating(live, ticket):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        return db.execute(
            "SELECT rating, reasons, comment FROM feedback f JOIN tickets t ON t.id = f.ticket_id"
            " WHERE t.token = ?",
            (ticket["token"],),
        ).fetchone()


def keep_phone(page, state, language):
    """Keep the state's screenshot once nothing overlaps or runs off a small phone's screen."""
    assert layout_problems(page) == ([], [], False), state
    keep_screen(page, f"phone-{state}-{language}", full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_visitor_leaves_the_queue_and_the_counter_sees_it(browser, center, language):
    mine, after = issue(center, language), issue(center, language)
    page = phone_page(browser, center, mine)
    page.click("#cancel-ask")
    keep_phone(page, "cancel", language)
    page.click("#cancel-no")  # changed their mind: still in the queue
    assert page.is_hidden("#cancel-confirm") and page.text_content("#ahead") == "0"
    page.click("#cancel-ask")
    page.click("#cancel-yes")
    page.wait_for_selector("#phone[data-state=cancelled]", timeout=10_000)
    assert page.is_hidden("#cancel")
    with sqlite3.connect(center.data_dir / "dostq.db") as db:
        states = dict(db.execute("SELECT label, state FROM tickets").fetchall())
    assert states == {mine["label"]: "cancelled", after["label"]: "waiting"}
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    clerk.post(f"{center.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
    called = clerk.post(f"{center.url}/api/v1/counters/1/call-next", timeout=10).json()
    assert called["ticket"]["label"] == after["label"]  # the counter goes on to the next
    assert page.errors == []


def test_the_counters_feedback_tablet_asks_in_the_visitors_language(browser, center):
    tablet = browser.new_page(viewport={"width": 1280, "height": 800})
    tablet.errors = []
    tablet.on("pageerror", lambda error: tablet.errors.append(str(error)))
    tablet.goto(f"{center.url}/counter/feedback")  # not enrolled yet: the enrolment form
    tablet.fill("input[name=token]", center.tokens["tablet-1"])
    tablet.click("form.login button[type=submit]")
    tablet.wait_for_selector("#tablet[data-state=idle]")
    mine = issue(center, "ru")
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    for step in ("session", "call-next", "start"):
        clerk.post(f"{base}/{step}", timeout=10).raise_for_status()
    clerk.post(f"{base}/finish", json={"delivered": []}, timeout=10).raise_for_status()
    tablet.wait_for_selector("#tablet[data-state=asking]", timeout=10_000)
    assert tablet.text_content("#question") == "Вы довольны обслуживанием?"
    assert tablet.text_content("#label") == mine["label"]
    keep_screen(tablet, "feedback-tablet-asking-ru")
    tablet.click(".face-5")
    tablet.wait_for_selector("#tablet[data-state=rated]")
    tablet.check("input[value=politeness]")
    tablet.click("#send")
    assert wait_until(lambda: rating(center, mine) == (5, "politeness", None), timeout=10)
    keep_screen(tablet, "feedback-tablet-rated-ru")
    assert tablet.errors == []
