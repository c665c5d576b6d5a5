"""The center server's background link to HQ: two threads, started once HQ is set up.

One sends the days (server/hq_link/sync.py) while there are any, backing off while HQ is
away, and once no backlog is left (a batch that was not full) asks for a newer national
catalog (server/hq_link/catalog.py) every ``catalog_every_s``. The other tells HQ how the
hall stands and exchanges slots and bookings (server/hq_link/bookings.py) every
``now_every_s``. A third, when the tickets' pages are relayed through HQ
(server/hq_link/phones.py), sends their changed statuses whenever the queue moves, and at
least every ``phones_every_s``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from server.hq_link import sync
from server.hq_link.bookings import exchange_bookings
from server.hq_link.catalog import fetch_catalog
from server.hq_link.phones import PhoneRelay, relay_once
from server.queue.appointments import CheckInWindow
from server.queue.center import Center

IDLE_POLL_S = 15.0
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 300.0
NOW_EVERY_S = 60.0
CATALOG_EVERY_S = 300.0
PHONES_EVERY_S = 5.0

log = logging.getLogger(__name__)


class SyncWorker:
    """The center server's background sender; idle while no HQ is configured.

    ``on_catalog`` is called when a newer national catalog was fetched and held.
    """

    def __init__(
        self,
        center: Center,
        data_dir: Path,
        idle_poll_s: float = IDLE_POLL_S,
        retry_max_s: float = RETRY_MAX_S,
        batch_days: int = sync.BATCH_DAYS,
        jitter: Callable[[], float] = random.random,
        now_every_s: float = NOW_EVERY_S,
        catalog_every_s: float = CATALOG_EVERY_S,
        on_catalog: Callable[[], None] = lambda: None,
        window: CheckInWindow | None = None,
        relay: PhoneRelay | None = None,
        phones_every_s: float = PHONES_EVERY_S,
    ) -> None:
        self.center = center
        self.relay = relay
        self.phones_every_s = phones_every_s
        self._phones_wake = threading.Event()
        self.window = window or CheckInWindow()
        self.catalog_every_s = catalog_every_s
        self.on_catalog = on_catalog
        self._catalog_asked_at = float("-inf")
        self.now_every_s = now_every_s
        self.data_dir = data_dir
        self.idle_poll_s = idle_poll_s
        self.retry_max_s = retry_max_s
        self.batch_days = batch_days
        self._stop = threading.Event()
        self._jitter = jitter
        self._started = False
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread once HQ is set up; called before each request.

        Threads do not survive gunicorn's fork, and `dostq sync --hq` may set HQ up while the
        server runs, so the check repeats (at most every idle poll) until the thread runs.
        """
        with self._lock:
            if self._started or time.monotonic() - self._checked_at < self.idle_poll_s:
                return
            self._checked_at = time.monotonic()
            with self.center.store.read() as conn:
                if sync.link(conn, self.data_dir) is None:
                    return
            self._started = True
        threading.Thread(target=self.run, name="hq-sync", daemon=True).start()
        threading.Thread(target=self.run_now, name="hq-now", daemon=True).start()
        if self.relay is not None:
            threading.Thread(target=self.run_phones, name="hq-phones", daemon=True).start()

    def queue_moved(self, _fact: object = None) -> None:
        """Send the tickets' statuses now (a subscriber to the facts that change them)."""
        self._phones_wake.set()

    def run_phones(self) -> None:
        """Relay the tickets' statuses and the visitors' requests made at HQ; retry on failure."""
        session = requests.Session()
        while self.relay is not None and not self._stop.is_set():
            self._phones_wake.wait(self.phones_every_s)
            self._phones_wake.clear()
            if self._stop.is_set():
                return
            with self.center.store.read() as conn:
                hq = sync.link(conn, self.data_dir)
            if relay_once(self.relay, hq, session) is not None and self.relay.more:
                self._phones_wake.set()  # the rest of a record day's statuses, at once

    def stop(self) -> None:
        """Ask the threads to finish."""
        self._stop.set()
        self._phones_wake.set()

    def run_now(self) -> None:
        """Tell HQ how the hall stands and trade bookings, every ``now_every_s``.

        Whatever the days' backlog: these carry no history.
        """
        session = requests.Session()
        while not self._stop.wait(self.now_every_s):
            with self.center.store.read() as conn:
                hq = sync.link(conn, self.data_dir)
            if hq is None:
                continue
            try:
                sync.send_now(self.center, hq, session)
                exchange_bookings(self.center, hq, session, self.window)
            except (requests.RequestException, sync.SyncRefused) as exc:
                # The days' sender reports HQ's troubles; this minute is simply missed, and
                # the bookings already heard and the codes' own signatures carry check-in.
                log.debug("HQ did not take the hall's state or bookings now: %s", exc)

    def next_delay(self, failures: int) -> float:
        """Return the wait after ``failures`` failures in a row: doubling, capped, jittered."""
        ceiling = min(self.retry_max_s, RETRY_FIRST_S * 2 ** min(failures - 1, 20))
        return float(ceiling * (0.5 + 0.5 * self._jitter()))  # full doubling but never in lockstep

    def run(self) -> None:
        """Send while there is something to send; back off while HQ is away."""
        session = requests.Session()
        failures = 0
        while not self._stop.is_set():
            with self.center.store.read() as conn:
                hq = sync.link(conn, self.data_dir)
            if hq is None:  # set up, then removed: nothing to do until it is back
                self._stop.wait(self.idle_poll_s)
                continue
            try:
                sent = sync.send_batch(self.center, hq, session, self.batch_days)
                if sent < self.batch_days:  # no backlog left, though today may change on
                    self._ask_for_catalog(hq, session)
            except (requests.RequestException, sync.SyncRefused) as exc:
                failures += 1
                sync.record_failure(self.center, exc)
                self._stop.wait(self.next_delay(failures))
                continue
            failures = 0
            if not sent:
                self._stop.wait(self.idle_poll_s)

    def _ask_for_catalog(self, hq: sync.HqLink, session: requests.Session) -> None:
        """Ask HQ for a newer national catalog, at most every catalog_every_s."""
        if time.monotonic() - self._catalog_asked_at < self.catalog_every_s:
            return
        version = fetch_catalog(self.center, hq, session)
        self._catalog_asked_at = time.monotonic()
        if version is not None:
            log.info("HQ published catalog version %d: it waits on the admin's catalog page",
                     version)  # fmt: skip
            self.on_catalog()
