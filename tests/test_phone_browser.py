"""The visitor's phone page in headless Chromium (a 360×640 phone): live without reloading,
the call with its counter, "your turn is near", and leaving the queue."""

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


def test_the_phone_follows_its_ticket_to_the_call_without_reloading(browser, center):
    tickets = [issue(center, "en") for _ in range(5)]
    mine = tickets[4]
    page = phone_page(browser, center, mine)
    assert page.text_content("#ahead") == "4"
    assert page.is_hidden(".near")
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
    page.wait_for_selector("#ahead:text-is('3')", timeout=10_000)  # pushed, no reload
    page.wait_for_selector(".near", timeout=10_000)  # 3 ahead: come back
    keep_screen(page, "phone-near-en", full_page=True)
    for _ in range(4):  # the four before mine come no more
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
    page.wait_for_selector("text=Your turn: please go to Masa 1", timeout=10_000)
    assert page.get_attribute("#phone", "data-state") == "called" and page.is_hidden("#cancel")
    keep_screen(page, "phone-called-en", full_page=True)
    assert page.errors == []


def test_the_visitor_leaves_the_queue_and_the_counter_sees_it(browser, center):
    mine, after = issue(center, "ru"), issue(center, "ru")
    page = phone_page(browser, center, mine)
    page.click("#cancel-ask")
    keep_screen(page, "phone-cancel-ru", full_page=True)
    page.click("#cancel-no")  # changed their mind: still in the queue
    assert page.is_hidden("#cancel-confirm") and page.text_content("#ahead") == "0"
    page.click("#cancel-ask")
    page.click("#cancel-yes")
    page.wait_for_selector("text=Талон отменён.", timeout=10_000)
    assert page.is_hidden("#cancel")
    with sqlite3.connect(center.data_dir / "dostq.db") as db:
        states = dict(db.execute("SELECT label, state FROM tickets").fetchall())
    assert states == {mine["label"]: "cancelled", after["label"]: "waiting"}
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    clerk.post(f"{center.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
    called = clerk.post(f"{center.url}/api/v1/counters/1/call-next", timeout=10).json()
    assert called["ticket"]["label"] == after["label"]  # the counter goes on to the next
    assert page.errors == []
