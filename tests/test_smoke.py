"""The one whole visit the quick tier keeps: kiosk issues, counter calls, display shows.

A live `dostq serve` and real Chromium pages, as a center runs them; every other browser test
walks one screen in depth, and runs in the whole suite only.
"""

import pytest

from hardware.decode import decode
from tests.test_counter_browser import clerk_page
from tests.test_display_browser import open_display, wait_js
from tests.test_kiosk_browser import enrolled_kiosk

pytestmark = [pytest.mark.smoke]


def test_a_ticket_from_the_kiosk_is_called_at_the_counter_and_shown(browser, live_center):
    display = open_display(browser, live_center, "display-1")
    kiosk = next(enrolled_kiosk(browser, live_center, fake_clock=False))
    kiosk.click(".area:has-text('Məşğulluq')")
    kiosk.click(".service:has-text('ictimai işlərə')")
    kiosk.click(".general")
    kiosk.wait_for_selector("#print-status:text-is('Biletinizi götürün')")
    label = kiosk.text_content("#ticket-number")
    (job,) = (live_center.data_dir / "printer").glob("*.bin")
    assert label in decode(job.read_bytes()).lines

    counter = clerk_page(browser, live_center, "clerk1", "Masa 1")
    counter.click(".call-next")
    counter.wait_for_selector(f"#current-label:text-is('{label}')")

    wait_js(display, "document.querySelectorAll('#current li').length === 1")
    assert display.text_content("#current li .label") == label
    assert display.text_content("#current li .counter") == "Masa 1"
