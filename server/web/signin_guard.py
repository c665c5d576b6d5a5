"""Sign-in throttling: a growing wait after each wrong password, a lock after too many.

Counted per account and per client address, in this process's memory (a restart forgets, and
one process serves a center). After ``max_failures`` wrong passwords an account (or, at four
times that, an address) is locked for ``lock_s``; before that, one typo costs nothing and each
further failure makes the next try wait 1, 2, 4… seconds. Password hashing, tens of
milliseconds of CPU each, runs at most ``max_parallel`` at a time, so a burst of attempts
cannot starve the kiosks and clerks.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MAX_DELAY_S = 30.0
ADDRESS_FACTOR = 4  # many people may sign in from one address (a NAT, a shared PC)


@dataclass
class _Failures:
    count: int = 0
    last_at: float = 0.0


class SignInGuard:
    """Decides whether a sign-in may be tried now, and remembers the failures."""

    def __init__(
        self,
        max_failures: int = 5,
        lock_s: float = 900.0,
        max_parallel: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(max_parallel)

    @staticmethod
    def keys(username: str, address: str | None) -> tuple[str, str]:
        """Return the account's and the address's keys."""
        return f"user:{username.strip().lower()[:100]}", f"address:{address or '-'}"

    def wait_s(self, username: str, address: str | None) -> float:
        """Return how many seconds to wait before trying again (0: try now)."""
        account, client = self.keys(username, address)
        with self._lock:
            return max(
                self._wait(self._failures.get(account), self.max_failures, grows=True),
                # An address only locks: one person's typos on a shared PC must not slow
                # the colleague who signs in after them.
                self._wait(self._failures.get(client), self.max_failures * ADDRESS_FACTOR),
            )

    def _wait(self, failures: _Failures | None, limit: int, grows: bool = False) -> float:
        if failures is None or failures.count < 2:
            return 0.0
        if failures.count >= limit:
            pause = self.lock_s
        elif grows:
            pause = min(MAX_DELAY_S, 2.0 ** (failures.count - 2))
        else:
            return 0.0
        return max(0.0, failures.last_at + pause - self.clock())

    def failed(self, username: str, address: str | None) -> None:
        """Count a wrong password against the account and the address."""
        now = self.clock()
        with self._lock:
            for key in self.keys(username, address):
                failures = self._failures.setdefault(key, _Failures())
                failures.count += 1
                failures.last_at = now

    def succeeded(self, username: str) -> None:
        """Forget an account's failures (its right password was given)."""
        with self._lock:
            self._failures.pop(self.keys(username, None)[0], None)

    def unlock(self, username: str) -> None:
        """Let an account sign in again at once (an admin's decision)."""
        self.succeeded(username)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the few places in which a password is hashed."""
        with self._hashing:
            yield


def seconds_text(seconds: float) -> str:
    """Say a wait in whole seconds or minutes, for the message."""
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    return f"{math.ceil(seconds / 60)} min"
