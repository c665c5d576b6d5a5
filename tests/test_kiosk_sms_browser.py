"""The kiosk's "send me an SMS" step in headless Chromium (1080×1920), in each language: the
number typed on the screen's own keys, a wrong one refused in words, the number said back
masked; kept at the center until the relay hands it to HQ. Screenshots:
kiosk-sms-<lang>.png and kiosk-sms-set-<lang>.png."""

import sqlite3

import pytest

from server.hq_link import sync
from server.hq_link.phones import HQ_SENDS_SMS
from server.queue.storage import put_setting
from tests.accessibility import keep_screen
from tests.conftest import KEY
from tests.live import start_live_center
from tests.test_kiosk_browser import LANGUAGES, enrolled_kiosk

pytestmark = [pytest.mark.live, pytest.mark.browser]
NOWHERE = "https://127.0.0.1:9"  # an HQ that never answers: the number stays at the center


@pytest.fixture(scope="module")
def relayed_center(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kiosk-sms") / "center"

    def linked_to_an_hq_that_sends_sms(store):
        with store.write() as conn:
            sync.set_up(conn, folder, NOWHERE, "baku-1", KEY)
            put_setting(conn, HQ_SENDS_SMS, True)  # as HQ said at the last exchange

    live = start_live_center(folder, prepare=linked_to_an_hq_that_sends_sms,
                             settings={"HQ_PUBLIC_URL": "https://hq.dost.example"})  # fmt: skip
    yield live
    live.stop()


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_a_visitor_leaves_a_number_for_an_sms_at_the_kiosk(browser, relayed_center, language):
    button, area, service, _ = LANGUAGES[language]
    for kiosk in enrolled_kiosk(browser, relayed_center, fake_clock=True):
        kiosk.click(f"button.lang:text-is('{button}')")
        kiosk.click(f".area:has-text('{area}')")
        kiosk.click(f".service:has-text('{service}')")
        kiosk.click(".general")
        kiosk.wait_for_selector("#ticket-number")
        label = kiosk.text_content("#ticket-number")
        kiosk.click(".sms")
        for key in "0501":  # too short: refused in words
            kiosk.click(f".key:text-is('{key}')")
        kiosk.click(".check-in")
        kiosk.wait_for_selector("#sms-refusal")
        assert "050 123 45 67" in kiosk.text_content("#sms-refusal")
        for key in "234567":
            kiosk.click(f".key:text-is('{key}')")
        assert kiosk.text_content("#sms-number") == "0501234567"
        keep_screen(kiosk, f"kiosk-sms-{language}")
        kiosk.click(".check-in")
        kiosk.wait_for_selector("#sms-set")
        assert "67" in kiosk.text_content("#sms-set") and "050123" not in kiosk.content()
        keep_screen(kiosk, f"kiosk-sms-set-{language}")
        with sqlite3.connect(relayed_center.data_dir / "dostq.db") as db:
            (phone,) = db.execute(
                "SELECT n.phone FROM sms_numbers n JOIN tickets t ON t.id = n.ticket_id "
                "WHERE t.label = ? ORDER BY t.id DESC LIMIT 1",
                (label,),
            ).fetchone()
        assert phone == "994501234567"
