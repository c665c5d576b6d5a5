"""The phone off the premises, in headless Chromium: a browser that reaches only HQ follows a
ticket the center relays through a whole visit, rates it, leaves the queue with another; HQ
down and back; a center not heard for an hour. Screenshots: phone-hq-<state>-<lang>.png."""

import json
import sqlite3
import time

import pytest
import requests

from server.hq_link import signing, sync
from server.hq_link.phones import TICKETS_PATH, public_id
from server.office.demo import DEMO_LOGINS
from tests.conftest import center_today, wait_until
from tests.live import start_hq, start_live_center
from tests.smsc import Smsc
from tests.test_phone_browser import issue, keep_phone, rating
from tests.test_staff_browser import LANGUAGES

pytestmark = [pytest.mark.live, pytest.mark.browser]


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """A real HQ and a real center linked to it, relaying its tickets' pages there."""
    work = tmp_path_factory.mktemp("relay")
    smsc = Smsc()
    hq = start_hq(work / "hq", serve=False)
    hq.start_with({"HQ_SMPP_URL": f"smpp://dostq:secret@127.0.0.1:{smsc.port}"})
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST mərkəzi")

    def link(store):
        with store.write() as conn:
            sync.set_up(conn, work / "center", hq.url, "baku-1", key)

    relayed = {"HQ_PUBLIC_URL": hq.url, "HQ_PHONES_EVERY_S": "1"}
    center = start_live_center(work / "center", prepare=link, settings=relayed)
    hq.smsc = smsc
    yield hq, center, key
    center.stop()
    hq.stop()


def off_premises(browser, center, hq, token):
    """A phone on mobile data: it reaches HQ, and nothing of the center's network."""
    context = browser.new_context(viewport={"width": 360, "height": 640})
    context.route(f"{center.url}/**", lambda route: route.abort())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    assert wait_until(lambda: requests.get(f"{hq.url}/hq/t/{token}/status", timeout=5).ok, 10)
    page.goto(f"{hq.url}/hq/t/{token}")
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_phone_that_reaches_only_hq_follows_its_visit_and_rates_it(browser, linked, language):
    hq, center, _ = linked
    mine = issue(center, language)
    page = off_premises(browser, center, hq, mine["token"])
    page.wait_for_selector("#ahead")
    keep_phone(page, "hq-waiting", language)
    # An SMS when the turn is near and when called: the number typed as a visitor would.
    page.fill("#sms input[name=phone]", "050 123 45 67")
    page.click("#sms-send")
    page.wait_for_selector("#sms-note:has-text('67')")
    keep_phone(page, "hq-sms", language)
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10)
    while page.get_attribute("#phone", "data-state") != "called":
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
        if clerk.get(f"{center.url}/api/v1/tickets/status/{mine['token']}",
                     timeout=10).json()["state"] == "called":  # fmt: skip
            break
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
    page.wait_for_selector("#phone[data-state=called]", timeout=10_000)  # pushed, no reload
    assert "Masa 1" in page.text_content(".state.called")
    keep_phone(page, "hq-called", language)
    label = mine["label"]
    assert wait_until(lambda: any(label in t and "Masa 1" in t for t in hq.smsc.texts()), 15)
    near = [t for t in hq.smsc.texts() if label in t and "Masa 1" not in t]
    assert len(near) == 1  # told near once, however often the center said it
    clerk.post(f"{base}/start", timeout=10).raise_for_status()
    clerk.post(f"{base}/finish", json={"delivered": []}, timeout=10).raise_for_status()
    page.wait_for_selector("#feedback:not([hidden])", timeout=10_000)
    assert page.is_hidden("#feedback-comment")  # no free text through HQ
    page.click(".face-5")
    page.wait_for_selector("#asked:not(:empty)")
    assert wait_until(lambda: rating(center, mine) == (5, "", None), timeout=15)
    page.wait_for_selector(".face-5[aria-pressed=true]", timeout=10_000)
    keep_phone(page, "hq-rated", language)
    clerk.delete(f"{base}/session", timeout=10)
    assert page.errors == []


def test_leaving_the_queue_from_hq_reaches_the_center_even_after_hq_was_down(browser, linked):
    hq, center, _ = linked
    leaving, staying = issue(center, "ru"), issue(center, "ru")
    page = off_premises(browser, center, hq, leaving["token"])
    page.click("#cancel-ask")
    page.click("#cancel-yes")
    page.wait_for_selector("#phone[data-state=cancelled]", timeout=15_000)
    assert state_at_center(center, leaving) == "cancelled"
    # HQ down: the center keeps serving; back, the next word reaches the page.
    hq.stop()
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    clerk.post(f"{center.url}/api/v1/counters/1/session", timeout=10)
    called = clerk.post(f"{center.url}/api/v1/counters/1/call-next", timeout=10).json()
    assert called["ticket"]["label"] == staying["label"]
    hq.start()
    other = off_premises(page.context.browser, center, hq, staying["token"])
    other.wait_for_selector("#phone[data-state=called]", timeout=15_000)
    assert page.errors == [] and other.errors == []


def test_a_center_not_heard_for_an_hour_says_since_when(browser, linked):
    hq, center, key = linked
    token = "a-ticket-of-a-center-that-went-quiet"
    message = {"center": "baku-1", "day": center_today().isoformat(), "at": time.time() - 3600,
               "done": [], "tickets": [{"id": public_id(token), "status": {
                   "label": "C012", "service": {"code": "4.4", "name": {"az": "Pensiya"}},
                   "language": "az", "state": "waiting", "people_ahead": 6,
                   "estimated_wait_min": 20, "estimated_wait_range_min": [15, 25]}}]}  # fmt: skip
    body = json.dumps(message).encode()
    headers = signing.signed_headers(key, "baku-1", int(time.time()), "POST", TICKETS_PATH, body)
    headers["Content-Type"] = "application/json"
    assert requests.post(hq.url + TICKETS_PATH, data=body, headers=headers, timeout=10).ok
    page = off_premises(browser, center, hq, token)
    page.wait_for_selector("#heard:not([hidden])")
    assert ":" in page.text_content("#heard")  # the time it was last heard
    keep_phone(page, "hq-not-heard", "az")


def state_at_center(center, ticket):
    return requests.get(f"{center.url}/api/v1/tickets/status/{ticket['token']}", timeout=10).json()[
        "state"
    ]


def test_a_number_left_at_the_kiosk_reaches_the_visitor_by_sms_through_hq(linked):
    # The whole way: HQ told the center it sends SMS, the kiosk takes the number, the relay
    # hands it to HQ, the center forgets it, and the SMSC gets the "called" message.
    hq, center, _ = linked
    kiosk = center.kiosk()
    assert wait_until(lambda: kiosk.get(f"{center.url}/kiosk/state", timeout=10).json()["sms"], 15)
    ticket = issue(center, "en")
    left = kiosk.post(f"{center.url}/api/v1/tickets/{ticket['id']}/sms",
                      json={"phone": "+994 70 765 43 21"}, timeout=10)  # fmt: skip
    assert left.status_code == 201 and left.json() == {"sms_to": "••• 21"}
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10)
    clerk.post(f"{base}/no-show", timeout=10)  # whoever an earlier test left at the desk
    while state_at_center(center, ticket) != "called":
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
        if state_at_center(center, ticket) != "called":
            clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
    sent = lambda: [p for p in hq.smsc.submitted if p["to"] == "994707654321"]  # noqa: E731
    assert wait_until(lambda: any(ticket["label"] in t and "Masa 1" in t
                                  for t in hq.smsc.texts()) and sent(), 15)  # fmt: skip
    with sqlite3.connect(center.data_dir / "dostq.db") as db:
        assert db.execute("SELECT count(*) FROM sms_numbers").fetchone()[0] == 0
