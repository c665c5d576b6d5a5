"""From a clerk's call to the voice starting on a real display page (headless Chromium).

The page plays the chime, then the spoken call (espeak-ng at the server). Chromium runs with
autoplay allowed, as a display's kiosk-mode browser is set up; the page notes, on its own
clock, when each voice starts playing ("playing"). Calls are spaced so that one is announced
before the next comes. Without espeak-ng there is no voice to time: nothing is printed.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.display_page import calls_waiting, display_pages, wait_connected
from bench.realtime import percentile
from tests.live import CHROMIUM_ARGS, start_live_center

CALLS = 10
VOICES = 1  # the demo announces in Azerbaijani only
# Every Audio the page plays, with when its sound started, on the page's clock (epoch ms).
LOG_PLAYING = """
    window.voiceStarts = [];
    window.voicesEnded = 0;
    const Made = window.Audio;
    window.Audio = function (url) {
      const audio = new Made(url);
      if (url.includes("voice")) {
        audio.addEventListener("playing", () => window.voiceStarts.push(
          { url, at: performance.timeOrigin + performance.now() }), { once: true });
        audio.addEventListener("ended", () => { window.voicesEnded += 1; });
      }
      return audio;
    };
"""


def run(work_dir: Path) -> dict[str, Any]:
    """Return call → voice start, p50 and worst, in ms (empty without Chromium or espeak-ng)."""
    executable = shutil.which("chromium")
    if executable is None or shutil.which("espeak-ng") is None:
        print("chromium or espeak-ng not installed: skipping the call-to-voice figure")
        return {}
    from playwright.sync_api import sync_playwright

    live = start_live_center(work_dir / "voice-center")
    try:
        clerk, base = calls_waiting(live, CALLS)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            )
            (page,) = display_pages(browser, live, 1)
            page.add_init_script(LOG_PLAYING)
            page.goto(f"{live.url}/display/")
            wait_connected([page])
            delays = []
            for _ in range(CALLS):
                heard = page.evaluate("window.voiceStarts.length")
                called = time.time() * 1000
                clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
                deadline = time.monotonic() + 10
                while page.evaluate("window.voiceStarts.length") == heard:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                else:
                    delays.append(page.evaluate("window.voiceStarts")[heard]["at"] - called)
                clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
                # The next call comes once this one is announced ("D-001, birinci masaya…"
                # lasts about 4.6 s): a call waiting behind another would time the wait.
                deadline = time.monotonic() + 20
                while page.evaluate("window.voicesEnded") < len(delays) * VOICES:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                time.sleep(0.3)
            browser.close()
    finally:
        live.stop()
    if not delays:
        return {"call_to_voice_heard": 0}
    return {
        "call_to_voice_heard": len(delays),
        "call_to_voice_ms": round(statistics.median(delays), 1),
        "call_to_voice_max_ms": round(max(delays), 1),
        "call_to_voice_p99_ms": round(percentile(delays, 0.99), 1),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(run(Path(folder)))
