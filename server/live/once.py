"""Start-up steps that must run once, in the serving process.

Gunicorn builds the app before it forks its worker, and threads do not survive a fork, so
device and printer threads start with the first request instead; ``Once`` makes the many
first requests of a busy morning start them exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


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
