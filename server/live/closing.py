"""Closing days on the center's own clock: at start, and every minute after.

At start it closes the days that ended while the server was off; then, once a minute, today
at its closing time and any day that just ended (``server.queue.closing`` decides what).
What closed is published like any other change, so counters, displays and the floor update.
"""

from __future__ import annotations

import logging
import threading

from server.live.once import Once
from server.live.publisher import Publisher
from server.queue.center import Center
from server.queue.closing import close_due

log = logging.getLogger(__name__)
CHECK_EVERY_S = 60.0


class DayCloser:
    """A thread that closes what is due, started with the first request."""

    def __init__(
        self, center: Center, publisher: Publisher, check_every_s: float = CHECK_EVERY_S
    ) -> None:
        self.center = center
        self.publisher = publisher
        self.check_every_s = check_every_s
        self._stop = threading.Event()
        self.start = Once(
            lambda: threading.Thread(target=self._run, name="day-closer", daemon=True).start()
        )

    def check(self) -> int:
        """Close what is due now and publish it; return how many visits were closed."""
        closed = 0
        for done in close_due(self.center):
            self.publisher.publish(done.facts)
            closed += int(done.answer["closed"])
            log.info("closed %(day)s: %(closed)d unserved %(by_state)s", done.answer)
        return closed

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # a locked or full disk: say so, and try again next minute
                log.exception("closing the day failed; trying again in %.0f s", self.check_every_s)
            self._stop.wait(self.check_every_s)
