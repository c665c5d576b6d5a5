"""A small sliding-window rate limit per key (a kiosk), kept in the one serving process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimit:
    """Allow at most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[object, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: object, now: float | None = None) -> float:
        """Record an event; return 0 if allowed, else the seconds until the next is allowed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window_s - now
            events.append(now)
            return 0.0
