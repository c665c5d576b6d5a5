"""Sign-in throttling: a growing wait after each wrong password, a lock after too many.

Counted per account and per client address: in this process's memory at a center (one
process serves it; a restart forgets), in the database at HQ, whose processes share it
(``failures``: anything with ``get``, ``add`` and ``forget``, as ``MemoryFailures``). After
``max_failures`` wrong passwords an account (or, at four times that, an address) is locked
for ``lock_s``; before that, one typo costs nothing and each further failure makes the next
try wait 1, 2, 4… seconds. Password hashing, tens of
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
from typing import Protocol

MAX_DELAY_S = 30.0
ADDRESS_FACTOR = 4  # many people may sign in from one address (a NAT, a shared PC)


@dataclass
class Failures:
    """Wrong passwords counted under one key, and when the last one came."""

    count: int = 0
    last_at: float = 0.0


class FailureStore(Protocol):
    """Where the failures are kept: this process's memory, or a database."""

    def get(self, key: str) -> Failures | None: ...  # noqa: D102
    def add(self, keys: tuple[str, ...], now: float) -> None: ...  # noqa: D102
    def forget(self, key: str) -> None: ...  # noqa: D102


class MemoryFailures:
    """Failures in this process's memory."""

    def __init__(self) -> None:
        self._failures: dict[str, Failures] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Failures | None:
        """Return a key's failures, if any."""
        with self._lock:
            return self._failures.get(key)

    def add(self, keys: tuple[str, ...], now: float) -> None:
        """Count one more failure under each key, at ``now``."""
        with self._lock:
            for key in keys:
                failures = self._failures.setdefault(key, Failures())
                failures.count += 1
                failures.last_at = now

    def forget(self, key: str) -> None:
        """Forget a key's failures."""
        with self._lock:
            self._failures.pop(key, None)


class SignInGuard:
    """Decides whether a sign-in may be tried now, and remembers the failures."""

    def __init__(
        self,
        max_failures: int = 5,
        lock_s: float = 900.0,
        max_parallel: int = 2,
        clock: Callable[[], float] = time.time,
        failures: FailureStore | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.lock_s = lock_s
        self.clock = clock
        self.failures = failures or MemoryFailures()
        self._hashing = threading.BoundedSemaphore(max_parallel)

    @staticmethod
    def keys(username: str, address: str | None) -> tuple[str, str]:
        """Return the account's and the address's keys."""
        return f"user:{username.strip().lower()[:100]}", f"address:{address or '-'}"

    def wait_s(self, username: str, address: str | None) -> float:
        """Return how many seconds to wait before trying again (0: try now)."""
        account, client = self.keys(username, address)
        return max(
            self._wait(self.failures.get(account), self.max_failures, grows=True),
            # An address only locks: one person's typos on a shared PC must not slow the
            # colleague who signs in after them.
            self._wait(self.failures.get(client), self.max_failures * ADDRESS_FACTOR),
        )

    def _wait(self, failures: Failures | None, limit: int, grows: bool = False) -> float:
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
        self.failures.add(self.keys(username, address), self.clock())

    def succeeded(self, username: str) -> None:
        """Forget an account's failures (its right password was given)."""
        self.failures.forget(self.keys(username, None)[0])

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
