"""The waiting-room display in headless Chromium: calls appear, are announced, none is lost."""

import threading
import time

import pytest
import requests

from server.office import accounts
from tests.accessibility import keep_screen
from tests.live import start_live_center


def add_hall2(store):
    with store.write() as conn:
        accounts.create_counter(conn, "Masa 7", {"4.4": 1, "4.7": 1}, zone="hall2")
        accounts.create_user(conn, "clerk7", "masa-seven-secret", "clerk", time.time())


@pytest.fixture
def center(tmp_path):
    live = start_live_center(tmp_path / "center", prepare=add_hall2)
    yield live
    live.stop()


def wait_js(page, expression, timeout=10.0):
    """Poll a JS expression until truthy. (The page's CSP forbids eval, which Playwright's
    wait_for_function needs; evaluate goes through the DevTools protocol instead.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)


def open_display(browser, live, token_name):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{live.url}/display/")
    page.fill("input[name=token]", live.tokens[token_name])
    page.click("form.login button[type=submit]")
    wait_js(page, "window.dostqDisplay && window.dostqDisplay.socket.connected")
    return page


def clerk_at(live, username, password, counter_id):
    http = live.session(username, password)
    http.post(f"{live.url}/api/v1/counters/{counter_id}/session", timeout=10).raise_for_status()
    return http


def issue(live, service, count=1):
    for _ in range(count):
        live.kiosk().post(
            f"{live.url}/api/v1/tickets", json={"service": service, "print": False}, timeout=10
        ).raise_for_status()


def call_next(live, http, counter_id):
    response = http.post(f"{live.url}/api/v1/counters/{counter_id}/call-next", timeout=10)
    response.raise_for_status()
    http.post(f"{live.url}/api/v1/counters/{counter_id}/no-show", timeout=10).raise_for_status()
    return response.json()["call"]


def announced(page):
    return page.evaluate("window.dostqDisplay.announced.map(a => a.label)")


def test_call_appears_at_once_and_is_queued_for_announcement(browser, center):
    page = open_display(browser, center, "display-1")
    issue(center, "4.4", 5)
    clerk = clerk_at(center, "clerk1", "demo-counter-1", 1)
    labels = [call_next(center, clerk, 1)["label"] for _ in range(5)]
    wait_js(page, "document.querySelectorAll('#current li, #history li').length === 5")
    assert page.text_content("#current li .label") == labels[-1]
    assert page.text_content("#current li .counter") == "Masa 1"
    assert announced(page) == labels
    page.wait_for_timeout(300)
    keep_screen(page, "display-calls")
    page.close()


def test_two_clerks_calling_in_the_same_second_are_both_shown_and_announced(browser, center):
    page = open_display(browser, center, "display-1")
    issue(center, "4.4", 2)
    clerks = [
        clerk_at(center, "clerk1", "demo-counter-1", 1),
        clerk_at(center, "clerk7", "masa-seven-secret", 6),
    ]
    start = threading.Barrier(2)
    calls = []

    def call(http, counter_id):
        start.wait()
        calls.append(call_next(center, http, counter_id))

    threads = [
        threading.Thread(target=call, args=(clerks[0], 1)),
        threading.Thread(target=call, args=(clerks[1], 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_js(page, "window.dostqDisplay.announced.length === 2")
    in_order = [c["label"] for c in sorted(calls, key=lambda c: c["seq"])]
    assert announced(page) == in_order
    assert sorted(page.locator("#current li .counter").all_text_contents()) == ["Masa 1", "Masa 7"]
    page.close()


def test_display_that_was_disconnected_shows_and_announces_the_missed_calls(browser, center):
    page = open_display(browser, center, "display-1")
    issue(center, "4.4", 3)
    clerk = clerk_at(center, "clerk1", "demo-counter-1", 1)
    first = call_next(center, clerk, 1)["label"]
    wait_js(page, "window.dostqDisplay.announced.length === 1")
    page.evaluate("window.dostqDisplay.socket.disconnect()")  # the TV's network drops
    page.wait_for_selector("#connection:not([hidden])")
    missed = [call_next(center, clerk, 1)["label"] for _ in range(2)]
    page.evaluate("window.dostqDisplay.socket.connect()")
    wait_js(page, "window.dostqDisplay.announced.length === 3")
    assert announced(page) == [first, *missed]
    labels = page.locator("#current li .label").all_text_contents()
    assert labels[:3] == [missed[1], missed[0], first]
    page.close()


def test_a_zone_display_shows_only_its_hall(browser, center):
    hall2 = open_display(browser, center, "display-hall2")
    everywhere = open_display(browser, center, "display-1")
    issue(center, "4.4", 2)
    main_call = call_next(center, clerk_at(center, "clerk1", "demo-counter-1", 1), 1)
    hall_call = call_next(center, clerk_at(center, "clerk7", "masa-seven-secret", 6), 6)
    wait_js(everywhere, "window.dostqDisplay.announced.length === 2")
    wait_js(hall2, "window.dostqDisplay.announced.length === 1")
    assert announced(hall2) == [hall_call["label"]]
    assert announced(everywhere) == [main_call["label"], hall_call["label"]]
    hall2.close()
    everywhere.close()


def test_voice_is_served_to_displays_only(browser, center):
    page = open_display(browser, center, "display-1")
    issue(center, "4.4")
    call_next(center, clerk_at(center, "clerk1", "demo-counter-1", 1), 1)
    status = page.evaluate("""async () => {
        const r = await fetch('/display/voice.wav?label=D-001&counter=1&lang=az');
        return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
    }""")
    assert status[0] in (200, 503)  # 503: no espeak-ng on this server, the chime plays alone
    if status[0] == 200:
        assert status[1] == "audio/wav" and status[2] > 20_000
    anonymous = requests.get(f"{center.url}/display/voice.wav?label=D-001&counter=1", timeout=10)
    assert anonymous.status_code == 403
    # Only a number called today is spoken (and cached): a strict label, a real counter.
    asked = page.evaluate(
        """async (labels) => Promise.all(labels.map(async (label) =>
        (await fetch(`/display/voice.wav?label=${encodeURIComponent(label)}&counter=1&lang=az`))
          .status))""",
        ["D-002", "A-10000", "A-\u00b2", "D-001x", "d-001"],
    )
    assert asked == [404, 400, 400, 400, 400]
    page.close()


def test_a_recall_is_announced_again(browser, center):
    page = open_display(browser, center, "display-1")
    issue(center, "4.4")
    clerk = clerk_at(center, "clerk1", "demo-counter-1", 1)
    first = clerk.post(f"{center.url}/api/v1/counters/1/call-next", timeout=10).json()["call"]
    clerk.post(f"{center.url}/api/v1/counters/1/recall", timeout=10).raise_for_status()
    wait_js(page, "window.dostqDisplay.announced.length === 2")
    recalls = page.evaluate("window.dostqDisplay.announced.map(a => [a.label, a.recall])")
    assert recalls == [[first["label"], False], [first["label"], True]]
    page.close()


def test_the_spoken_call_is_fetched_while_the_chime_plays(browser, center):
    # Every Audio the page makes and plays, in order: the voices are made (their files start
    # loading) before the chime plays, not after it ended (the voice started 1.05 s after a
    # call: the chime's 0.9 s, then the fetch).
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.add_init_script("""
        window.audioLog = [];
        const Made = window.Audio;
        window.Audio = function (url) {
          const audio = new Made(url);
          window.audioLog.push(`made ${url}`);
          const play = audio.play.bind(audio);
          audio.play = () => { window.audioLog.push(`play ${url}`); return play(); };
          return audio;
        };
    """)
    page.goto(f"{center.url}/display/")
    page.fill("input[name=token]", center.tokens["display-1"])
    page.click("form.login button[type=submit]")
    wait_js(page, "window.dostqDisplay && window.dostqDisplay.socket.connected")
    issue(center, "4.4")
    clerk = clerk_at(center, "clerk1", "demo-counter-1", 1)
    call_next(center, clerk, 1)
    wait_js(
        page, "window.audioLog.some((line) => line.startsWith('play') && line.includes('voice'))"
    )
    log = page.evaluate("window.audioLog")
    chime = next(n for n, line in enumerate(log) if line.startswith("play") and "chime" in line)
    voices = [n for n, line in enumerate(log) if line.startswith("made") and "voice" in line]
    assert voices and all(n < chime for n in voices), log
    page.close()
