"""The server's own nightly backup: after BACKUP_HOUR, one consistent copy, then rotation.

The copy runs through the store's ``blocking`` (a real thread under gevent), so the screens
keep their sockets while SQLite reads the whole file.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from server.live.once import EveryMinute
from server.office import backups
from server.queue.center import Center

log = logging.getLogger(__name__)
CHECK_EVERY_S = 60.0


class NightlyBackup(EveryMinute):
    """A thread that takes the night's backup when it is due, started with the first request."""

    what = "the nightly backup"

    def __init__(
        self,
        center: Center,
        database: Path,
        folder: Path,
        hour: int,
        keep: tuple[int, int],
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:
        super().__init__(check_every_s)
        self.center, self.database, self.folder = center, database, folder
        self.hour, self.keep = hour, keep

    def check(self) -> Path | None:
        """Take and rotate the backup if it is due now; return it, or None.

        A full or missing disk fails here: the log says why, the floor shows the age.
        """
        now = datetime.fromtimestamp(self.center.now(), self.center.timezone)
        if not backups.due(backups.newest_at(self.folder), now, self.hour):
            return None
        taken: backups.Checked = self.center.store.blocking(
            lambda: backups.take(self.database, self.folder, now.replace(tzinfo=None))
        )
        backups.rotate(self.folder, *self.keep)
        log.info("nightly backup %s (%d bytes)", taken.path, taken.size_bytes)
        return taken.path
