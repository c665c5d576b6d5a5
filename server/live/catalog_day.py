"""Applying a national catalog version at the start of its day, on the center's own clock.

Once a minute: if a version is held whose effective day has come and today has no ticket yet,
it is applied (server/office/national_catalog.py) and the kiosks reload their services. One
that would close most of the open services is left for the admin, and the log says so.
"""

from __future__ import annotations

import logging

from server.live.once import PublishingEveryMinute
from server.office import national_catalog
from server.queue.errors import Invalid
from server.queue.facts import QueueChanged

log = logging.getLogger(__name__)


class CatalogAtDayStart(PublishingEveryMinute):
    """A thread that applies the national catalog held when its day starts."""

    what = "applying the national catalog"
    _left_for_admin: int | None = None  # the version the log last said waits for the admin

    def check(self) -> int | None:
        """Apply the version held if it is due now; return its number, or None."""
        with self.center.transaction() as (conn, now):
            if not national_catalog.due(conn, self.center.day(now)):
                return None
            version = national_catalog.ask(conn)["holds"]
            try:
                change = national_catalog.apply_held(conn, now)
            except Invalid as refused:
                if self._left_for_admin != version:  # said once, not every minute
                    log.warning("national catalog %s waits for the admin: %s", version,
                                refused.message)  # fmt: skip
                    self._left_for_admin = version
                return None
        self.publisher.publish((QueueChanged(),))
        log.info("national catalog %s applied: %s", version, change.counts())
        return int(version)
