"""Live waits across centers: each center's hall now, signed to HQ, on a public page.

In one process first (HQ on SQLite and on PostgreSQL: what is kept, what is refused, what the
page shows and never shows), then a real center and a real HQ in Chromium.
"""

import json
import time

import requests

from server.hq_link import signing, sync
from server.queue.views import hall_now
from tests.conftest import KEY, wait_until
from tests.live import start_hq, start_live_center
from tests.test_staff_browser import check_layout

NOW_PATH = sync.NOW_PATH


def hall(at, waiting=3, open_=True):
    return {
        "center": "baku-1", "at": at, "open": open_, "open_counters": 2,
        "areas": [
            {"code": "2", "name": {"az": "Əmək və məşğulluq", "en": "Labour and employment"},
             "waiting": waiting, "wait_min": 4 * waiting},
            {"code": "4", "name": {"az": "Sosial müavinətlər"}, "waiting": 0, "wait_min": 0},
        ],
    }  # fmt: skip


def post_now(client, message, key=KEY):
    body = json.dumps(message).encode()
    headers = signing.signed_headers(key, "baku-1", int(time.time()), "POST", NOW_PATH, body)
    return client.post(NOW_PATH, data=body, headers=headers, content_type="application/json")


def test_the_newest_hall_is_kept_and_shown_and_an_older_one_changes_nothing(hq_client):
    assert "Hələ məlumat yoxdur" in hq_client.get("/hq/waits").get_data(as_text=True)
    now = time.time()
    assert post_now(hq_client, hall(now, waiting=3)).get_json() == {"kept": True}
    assert post_now(hq_client, hall(now - 60, waiting=9)).get_json() == {"kept": False}
    page = hq_client.get("/hq/waits", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Labour and employment" in page and "3 waiting" in page and "about 12 min (7–17)" in page
    assert "no wait" in page and "9 waiting" not in page
    assert "open_counters" not in page and "2 counters" not in page  # not a public figure


def test_a_closed_center_says_so_and_a_silent_one_shows_no_figure(hq_client, monkeypatch):
    post_now(hq_client, hall(time.time(), open_=False))
    page = hq_client.get("/hq/waits", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Closed now" in page
    post_now(hq_client, hall(time.time() + 1, waiting=5))
    hq_client.application.config["HQ_NOW_STALE_S"] = 0  # heard from too long ago
    time.sleep(0.01)
    page = hq_client.get("/hq/waits", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Нет данных с" in page and "ждут: 5" not in page and "data-waiting" not in page


def test_a_hall_hq_cannot_trust_is_refused(hq_client):
    assert post_now(hq_client, hall(time.time()), key="x" * 43).status_code == 401
    bad = hall(time.time())
    bad["areas"][0]["visitor"] = "Əliyev Əli"  # nothing personal, nothing unknown
    refused = post_now(hq_client, bad)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "bad_now"
    other = {**hall(time.time()), "center": "sumqayit"}
    assert post_now(hq_client, other).get_json()["error"]["code"] == "center_mismatch"
    replayed = hall(time.time())
    assert post_now(hq_client, replayed).status_code == 200
    assert post_now(hq_client, replayed).status_code == 409


def test_the_halls_figures_are_the_queues_own(center):
    from server.queue.visits import issue_ticket

    for service in ("2.1", "2.1", "2.2", "4.4"):
        issue_ticket(center, service, device=None)
    with center.store.read() as conn:
        now = hall_now(conn, center.day(center.now()))
    by_code = {area["code"]: area for area in now["areas"]}
    assert by_code["2"]["waiting"] == 3 and by_code["4"]["waiting"] == 1
    assert by_code["2"]["wait_min"] > 0 and all(set(a) == {"code", "name", "waiting", "wait_min"}
                                               for a in now["areas"])  # fmt: skip
    assert sum(area["waiting"] for area in now["areas"]) == 4


def test_a_real_center_shows_on_hqs_page_live_and_never_once_it_stops(tmp_path, browser):
    hq = start_hq(tmp_path / "hq", serve=False)
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST mərkəzi")
    hq.start_with({"HQ_WAITS_REFRESH_S": "1"})  # the page re-reads each second, not each 30
    live = None
    try:

        def set_up(store):
            with store.write() as conn:
                sync.set_up(conn, tmp_path / "center", hq.url, "baku-1", key)

        fast = {"HQ_NOW_EVERY_S": "1", "HQ_SYNC_POLL_S": "0.5"}
        live = start_live_center(tmp_path / "center", prepare=set_up, settings=fast)
        live.kiosk().get(f"{live.url}/healthz", timeout=10)  # a first request starts the sender
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{hq.url}/hq/waits")
        waiting = page.locator("[data-center=baku-1] li[data-waiting]")
        page.wait_for_selector("[data-center=baku-1][data-state=open]", timeout=60_000)
        assert waiting.count() > 0 and all(w == "0" for w in _waiting(waiting))
        kiosk = live.kiosk()
        for _ in range(3):
            kiosk.post(f"{live.url}/api/v1/tickets", json={"service": "2.1", "print": False},
                       timeout=10).raise_for_status()  # fmt: skip
        assert wait_until(lambda: "3" in _waiting(waiting), timeout=120)
        for language in ("az", "ru", "en"):
            _in_language(page, language)
            check_layout(page, f"hq-waits-{language}")
        live.stop()
        live = None
        hq.stop()  # HQ restarted with a short silence: the stopped center goes grey
        hq.start_with({"HQ_NOW_STALE_S": "2", "HQ_WAITS_REFRESH_S": "1"})
        page.goto(f"{hq.url}/hq/waits")
        page.wait_for_selector("[data-center=baku-1][data-state=no_data]", timeout=30_000)
        assert page.locator("[data-center=baku-1] li[data-waiting]").count() == 0
        # "no data since 04:05", not "no data yet": the center's last look is still held
        assert ":" in page.locator("[data-center=baku-1] .waits-state").inner_text()
    finally:
        if live is not None:
            live.stop()
        hq.stop()


def _waiting(items):
    return [items.nth(i).get_attribute("data-waiting") for i in range(items.count())]


def _in_language(page, language):
    page.click(f".language-switch button[value={language}]")
    page.wait_for_selector(f"html[lang={language}]")


def test_hq_pages_ask_nothing_of_the_network_beyond_hq(hq_client):
    page = hq_client.get("/hq/waits").get_data(as_text=True)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    script = hq_client.get("/hq/static/waits.js")
    script.close()
    assert script.status_code == requests.codes.ok
