"""Call-to-display latency measured inside real display pages in headless Chromium.

From just before the clerk's HTTP request to the moment the page has put the call on screen
(the page stamps it with Date.now(); same machine, same clock).
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import requests

from bench.realtime import percentile
from tests.live import CHROMIUM_ARGS, LiveCenter, start_live_center

PAGES = 5
CALLS = 40


def calls_waiting(live: LiveCenter, count: int) -> tuple[requests.Session, str]:
    """Issue ``count`` tickets the demo's Masa 1 serves and sign its clerk in there.

    Returns the clerk's session and the counter's API address (call-next, no-show...).
    """
    kiosk = live.kiosk()
    for _ in range(count):
        kiosk.post(
            f"{live.url}/api/v1/tickets", json={"service": "4.4", "print": False}, timeout=10
        ).raise_for_status()
    clerk = live.session("clerk1", "demo-counter-1")
    base = f"{live.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    return clerk, base


def display_pages(browser: Any, live: LiveCenter, count: int, **context: Any) -> list[Any]:
    """Open ``count`` pages of the hall display, as the demo's display-1, once connected."""
    opened = browser.new_context(**context)
    opened.add_cookies(
        [{"name": "dostq_device", "value": live.tokens["display-1"], "url": live.url}]
    )
    return [opened.new_page() for _ in range(count)]


def wait_connected(pages: list[Any]) -> None:
    """Wait until every display page's socket is connected (20 s at most)."""
    deadline = time.monotonic() + 20
    while not all(
        p.evaluate("!!(window.dostqDisplay && window.dostqDisplay.socket.connected)") for p in pages
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("display pages did not connect")
        time.sleep(0.05)


def run(work_dir: Path) -> dict[str, float]:
    """Open display pages, make calls, return page-side latency figures (empty without Chromium)."""
    executable = shutil.which("chromium")
    if executable is None:
        print("chromium not installed: skipping the display-page latency")
        return {}
    from playwright.sync_api import sync_playwright

    live = start_live_center(
        work_dir / "display-center", settings={"KIOSK_TICKETS_PER_MINUTE": "1000000"}
    )
    try:
        clerk, base = calls_waiting(live, CALLS)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            pages = display_pages(browser, live, PAGES, viewport={"width": 1920, "height": 1080})
            for page in pages:
                page.goto(f"{live.url}/display/")
            wait_connected(pages)
            sent: dict[int, float] = {}
            for _ in range(CALLS):
                started = time.time() * 1000
                call = clerk.post(f"{base}/call-next", timeout=10).json()["call"]
                sent[call["seq"]] = started
                clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
                time.sleep(0.1)
            time.sleep(1)
            latencies = [
                entry["shownAt"] - sent[entry["seq"]]
                for page in pages
                for entry in page.evaluate("window.dostqDisplay.announced")
                if entry["seq"] in sent
            ]
            browser.close()
    finally:
        live.stop()
    return {
        "call_to_display_page_deliveries": len(latencies),
        "call_to_display_page_p50_ms": round(statistics.median(latencies), 2),
        "call_to_display_page_p99_ms": round(percentile(latencies, 0.99), 2),
    }
