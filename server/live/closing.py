"""Closing days on the center's own clock: at start, and every minute after.

At start it closes the days that ended while the server was off; then, once a minute, today
at its closing time and any day that just ended, and frees the counters left open over a night
or past the closing time (``server.queue.closing`` decides what).
What closed is published like any other change, so counters, displays and the floor update.
"""

from __future__ import annotations

import logging

from server.live.once import PublishingEveryMinute
from server.queue.closing import close_due

log = logging.getLogger(__name__)


class DayCloser(PublishingEveryMinute):
    """A thread that closes what is due, started with the first request."""

    what = "closing the day"

    def check(self) -> int:
        """Close what is due now and publish it; return how many visits were closed."""
        closed = 0
        for done in close_due(self.center):
            self.publisher.publish(done.facts)
            if "released" in done.answer:
                log.info("closed counters left open: %s", done.answer["released"])
                continue
            closed += int(done.answer["closed"])
            log.info("closed %(day)s: %(closed)d unserved %(by_state)s", done.answer)
        return closed
