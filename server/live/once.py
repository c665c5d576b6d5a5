"""Start-up steps that must run once, in the serving process, and the threads they start.

Gunicorn builds the app before it forks its worker, and threads do not survive a fork, so
device and printer threads start with the first request instead; ``Once`` makes the many
first requests of a busy morning start them exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from server.live.publisher import Publisher
from server.queue.center import Center

log = logging.getLogger(__name__)


class Once:
    """Call ``step`` the first time this is called; every later call does nothing."""

    def __init__(self, step: Callable[[], None]) -> None:
        self._step = step
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Run the step unless it ran already (or is running in another thread)."""
        with self._lock:
            if self._done:
                return
            self._done = True
            self._step()


class EveryMinute:
    """A thread, started with the first request, that calls ``check()`` every ``every_s``.

    A failing check is logged and tried again at the next tick: a locked database or a full
    disk must not end the thread. Subclasses define ``check`` and ``what`` (for the log).
    """

    what = "a periodic check"

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.start = Once(
            lambda: threading.Thread(target=self._run, name=self.what, daemon=True).start()
        )

    def check(self) -> object:
        """Do what is due now."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Check now rather than at the next tick (something it checks for just arrived)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self.what, self.every_s)
            self._wake.wait(self.every_s)
            self._wake.clear()


class PublishingEveryMinute(EveryMinute):
    """An ``EveryMinute`` whose checks change the center's queue and publish what they did."""

    def __init__(self, center: Center, publisher: Publisher, every_s: float = 60.0) -> None:
        super().__init__(every_s)
        self.center = center
        self.publisher = publisher
