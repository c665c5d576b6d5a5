"""HQ's limits kept in its database, so every HQ process behind the balancer counts the same.

Sign-in failures (for server.web.signin_guard) and the public pages' rate limits (bookings,
lookups) were each process's own: two processes allowed twice the count, and a lock on one
was no lock on the other. The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time

from server.queue.storage import Database, SqlConnection
from server.web.signin_guard import Failures


class DatabaseFailures:
    """Sign-in failures by key, in HQ's database."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def get(self, key: str) -> Failures | None:
        """Return a key's failures, if any."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT count, last_at FROM signin_failures WHERE key = ?", (key,)
            ).fetchone()
        return Failures(int(row[0]), float(row[1])) if row else None

    def add(self, keys: tuple[str, ...], now: float) -> None:
        """Count one more failure under each key, at ``now``."""
        with self.store.write() as conn:
            conn.executemany(
                "INSERT INTO signin_failures (key, count, last_at) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = signin_failures.count + 1, "
                "last_at = excluded.last_at",
                [(key, now) for key in keys],
            )

    def forget(self, key: str) -> None:
        """Forget a key's failures."""
        with self.store.write() as conn:
            conn.execute("DELETE FROM signin_failures WHERE key = ?", (key,))


class DatabaseRateLimit:
    """At most ``limit`` events per ``window_s`` for each key, counted in HQ's database."""

    def __init__(self, store: Database, bucket: str, limit: int, window_s: float) -> None:
        self.store = store
        self.bucket = bucket
        self.limit = limit
        self.window_s = window_s

    def allow(self, key: object, now: float | None = None) -> float:
        """Record an event; return 0 if allowed, else the seconds until the next is allowed."""
        now = time.time() if now is None else now
        who = str(key)[:100]
        with self.store.write() as conn:
            conn.execute(
                "DELETE FROM rate_events WHERE bucket = ? AND key = ? AND at <= ?",
                (self.bucket, who, now - self.window_s),
            )
            count, first = conn.execute(
                "SELECT count(*), min(at) FROM rate_events WHERE bucket = ? AND key = ?",
                (self.bucket, who),
            ).fetchone()
            if int(count) >= self.limit:
                return float(first) + self.window_s - now
            conn.execute(
                "INSERT INTO rate_events (bucket, key, at) VALUES (?, ?, ?)",
                (self.bucket, who, now),
            )
        return 0.0


def health_probe(conn: SqlConnection) -> None:
    """Write (and take back) one row: ``/healthz`` proves HQ's database commits a write."""
    conn.execute("INSERT INTO rate_events (bucket, key, at) VALUES ('healthz', '', 0)")
    conn.execute("DELETE FROM rate_events WHERE bucket = 'healthz'")
