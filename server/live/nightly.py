"""The server's own nightly backup: after BACKUP_HOUR, one consistent copy, then rotation.

The copy runs through the store's ``blocking`` (a real thread under gevent), so the screens
keep their sockets while SQLite reads the whole file.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from server.live.once import Once
from server.office import backups
from server.queue.center import Center

log = logging.getLogger(__name__)
CHECK_EVERY_S = 60.0


class NightlyBackup:
    """A thread that takes the night's backup when it is due, started with the first request."""

    def __init__(
        self,
        center: Center,
        database: Path,
        folder: Path,
        hour: int,
        keep: tuple[int, int],
        check_every_s: float = CHECK_EVERY_S,
    ) -> None:
        self.center, self.database, self.folder = center, database, folder
        self.hour, self.keep, self.check_every_s = hour, keep, check_every_s
        self._stop = threading.Event()
        self.start = Once(
            lambda: threading.Thread(target=self._run, name="nightly-backup", daemon=True).start()
        )

    def check(self) -> Path | None:
        """Take and rotate the backup if it is due now; return it, or None."""
        now = datetime.fromtimestamp(self.center.now(), self.center.timezone)
        if not backups.due(backups.newest_at(self.folder), now, self.hour):
            return None
        taken: backups.Checked = self.center.store.blocking(
            lambda: backups.take(self.database, self.folder, now.replace(tzinfo=None))
        )
        backups.rotate(self.folder, *self.keep)
        log.info("nightly backup %s (%d bytes)", taken.path, taken.size_bytes)
        return taken.path

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # a full or missing disk: the floor shows the age, the log why
                log.exception("nightly backup failed; next try in %.0f s", self.check_every_s)
            self._stop.wait(self.check_every_s)
