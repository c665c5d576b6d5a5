"""The center's SQLite database: opening it safely, migrating it, and honest transactions.

One long-lived connection per process, serialised by a lock. Measured (shared/notes/realtime.md):
a connection per request makes WAL checkpoint on every close, and several writer connections
give huge tails from SQLite's busy handler; one connection behind a lock gave the best p99.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from server.queue.schema import MIGRATIONS

log = logging.getLogger(__name__)

# The database holds password and token hashes (and, at HQ, every center's key): readable by
# the service's own user only, whatever umask the process was started with.
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600


def keep_private(database: Path) -> list[str]:
    """Make the data folder 0700 and the database, WAL and SHM files 0600.

    Returns what could not be made so (files owned by another user), for a warning at start.
    """
    problems = []
    targets = [(database.parent, PRIVATE_FOLDER)]
    targets += [(Path(f"{database}{suffix}"), PRIVATE_FILE) for suffix in ("", "-wal", "-shm")]
    for target, mode in targets:
        try:
            if target.exists() and target.stat().st_mode & 0o777 != mode:
                target.chmod(mode)
        except OSError as exc:
            problems.append(f"{target} should be mode {mode:o} ({exc.strerror})")
    return problems


# SQLite's primary result codes after which only a new connection may write again: the file
# was opened read-only (its mode, a read-only mount), or the disk gave an I/O error.
STICKY_FAILURES = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)


class NewerSchema(Exception):
    """The database was written by a newer dost-queue: this one must not touch it."""


class SqlConnection(Protocol):
    """What code shared by the center and HQ asks of a connection.

    SQLite's own, or HQ's PostgreSQL one (hq/database.py), which takes the same ``?``
    placeholders and gives rows read by position or by name, like ``sqlite3.Row``.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run one statement; return a cursor (``fetchone``, ``fetchall``, iteration)."""
        ...

    def executemany(self, sql: str, rows: Any, /) -> Any:
        """Run one statement for each row of parameters."""
        ...


class Database(Protocol):
    """A database reached only through transactions: the center's ``Store``, or HQ's."""

    def read(self) -> AbstractContextManager[SqlConnection]:
        """One consistent snapshot for the block."""
        ...

    def write(self) -> AbstractContextManager[SqlConnection]:
        """One transaction for the block, rolled back if it raises."""
        ...

    def close(self) -> None:
        """Let go of the connections."""
        ...


def schema_version(path: Path) -> int | None:
    """Return the schema version of the database at ``path`` without changing it (None: none)."""
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def refuse_newer(path: Path | str, version: int, known: int) -> None:
    """Raise NewerSchema if the database at ``path`` has a schema past the ``known`` steps."""
    if version > known:
        raise NewerSchema(
            f"{path} was written by a newer dost-queue (schema {version}; this one knows up to "
            f"{known}). Install that newer version again, or restore a backup this version "
            "made (dostq restore FILE)."
        )


@dataclass
class _Batch:
    """Writes waiting for one commit; each returns once ``done`` is set."""

    writes: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Store:
    """The database handle shared by one process; every access goes through ``read``/``write``.

    ``migrations`` are the schema steps of the database (the center's by default; HQ has its own).
    """

    def __init__(
        self,
        path: Path,
        migrations: tuple[str, ...] | None = None,
        blocking: Callable[[Callable[[], Any]], Any] | None = None,
    ) -> None:
        self.path = path
        # Runs a call that may wait on the disk. Under gevent it is a real thread of the hub's
        # pool, so a commit's fsync (synchronous=FULL) never stalls every other socket;
        # elsewhere the call runs right here.
        self.blocking = blocking or (lambda call: call())
        self.migrations = MIGRATIONS if migrations is None else migrations
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        self.db = sqlite_utils.Database(self._connect())
        for problem in keep_private(path):
            log.warning("%s: other users of this computer may read it", problem)
        self._lock = threading.RLock()
        self._depth = 0  # how deep the lock's holder is in write blocks
        self._batch: _Batch | None = None  # the writes waiting for one commit
        self._broken = False  # a write failed in a way only a new connection may cure
        self.migrate()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: the driver never opens transactions behind our back;
        # we issue BEGIN IMMEDIATE ourselves (sqlite-utils' own transactions use a plain BEGIN).
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.row_factory = sqlite3.Row
        # WAL + FULL: a power cut loses no acknowledged ticket
        # (measured in shared/notes/reliability-security.md).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _note_failure(self, exc: BaseException) -> None:
        """Remember a failure that sticks to the connection, to reconnect before the next write.

        SQLite opens a file it may not write read-only, and keeps it so: without a new
        connection the server stayed broken after the file was made writable again.
        """
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in STICKY_FAILURES:
            self._broken = True

    def _reconnect_if_broken(self) -> None:
        """Open a new connection in place of one a sticky failure left (lock held, no batch)."""
        if not self._broken:
            return
        try:
            fresh = self._connect()
        except sqlite3.Error as exc:
            log.warning("The database still cannot be opened: %s", exc)
            return  # the next write tries again
        self.db.conn.close()
        self.db = sqlite_utils.Database(fresh)
        self._broken = False
        log.warning("Reopened the database after a failed write")

    def migrate(self) -> None:
        """Bring the schema up to date; safe to call on every start.

        Foreign keys are off while a step runs, so a step may rebuild a table others refer to
        (SQLite's documented way to change a constraint); a step that leaves a dangling
        reference is rolled back. A database from a newer version is refused untouched: this
        program would not know its columns, and writing to it could lose what they hold.
        """
        with self._lock:
            conn = self.db.conn
            done = conn.execute("PRAGMA user_version").fetchone()[0]
            refuse_newer(self.path, done, len(self.migrations))
            if done == len(self.migrations):
                return
            conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            try:
                for number, schema in enumerate(self.migrations[done:], start=done + 1):
                    self._migrate_step(conn, number, schema)
            finally:
                conn.execute("PRAGMA foreign_keys=ON")

    @staticmethod
    def _migrate_step(conn: sqlite3.Connection, number: int, schema: str) -> None:
        try:
            conn.executescript(f"BEGIN IMMEDIATE; {schema}; PRAGMA user_version = {number};")
            dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise sqlite3.IntegrityError(
                    f"migration {number} leaves references to missing rows: {dangling[:3]}"
                )
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in a ``BEGIN IMMEDIATE`` transaction; undo the block if it raises.

        Group commit: writers that come together share one commit. Each block runs in its
        own savepoint, so a block that raises undoes only itself. After its block a writer
        yields once, so that the writers already waiting add their blocks, and the first of
        them to come back commits them all. No writer returns before its block is committed,
        so nothing is answered or published that a crash could take back. It is one commit,
        and one hand-off to the disk thread, per batch instead of per write: eight kiosks
        issuing at once got 1.3-1.5× the tickets per second (bench/floor.py, bench/realtime.py).
        """
        with self._lock:
            conn = self.db.conn
            # Nested in this holder's own write or read block: the outer block decides.
            if self._depth or (conn.in_transaction and self._batch is None):
                self._depth += 1
                try:
                    yield conn
                finally:
                    self._depth -= 1
                return
            batch = self._batch
            if batch is None:
                self._reconnect_if_broken()
                conn = self.db.conn
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    self._note_failure(exc)
                    raise
                batch = self._batch = _Batch()
            conn.execute("SAVEPOINT write")
            self._depth = 1
            try:
                yield conn
            except BaseException as exc:
                self._note_failure(exc)
                self._undo(conn, batch)
                raise
            finally:
                self._depth = 0
            conn.execute("RELEASE write")
            batch.writes += 1
        time.sleep(0)  # under gevent, a yield: the writes already waiting join the batch
        with self._lock:
            if self._batch is batch:
                self._commit(conn, batch)
        batch.done.wait()
        if batch.error is not None:
            raise sqlite3.OperationalError(f"not committed: {batch.error}") from batch.error

    def _undo(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """Undo a block that raised, and only it (the batch's other writes stay)."""
        if not conn.in_transaction:  # SQLite undid the whole transaction (disk full, I/O)
            self._batch = None
            batch.error = sqlite3.OperationalError("the transaction was rolled back")
            batch.done.set()
            return
        conn.execute("ROLLBACK TO write")
        conn.execute("RELEASE write")
        if batch.writes == 0:  # nothing else in it: nobody would commit it
            conn.execute("ROLLBACK")
            self._batch = None
            batch.done.set()

    def _commit(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        """Commit the batch, lock held: no one touches the connection during the commit.

        The lock stays held wherever ``blocking`` runs the commit (the disk thread).
        """
        self._batch = None
        try:
            self.blocking(lambda: conn.execute("COMMIT"))
        except BaseException as exc:
            self._note_failure(exc)
            batch.error = exc  # every writer of the batch raises it
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not isinstance(exc, Exception):
                raise  # a greenlet killed, an interrupt: not the database's answer
        finally:
            batch.done.set()

    def changed_elsewhere(self) -> tuple[int, int]:
        """Return a mark that moves whenever another connection commits to this database.

        This process's own writes leave it alone (SQLite's data_version): what they change
        the process hears from the facts they return. A new connection is a new mark.
        """
        with self._lock:
            conn = self.db.conn
            return id(conn), int(conn.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Give the connection for reading, one consistent snapshot for the block.

        While a batch of writes waits for its commit, a reader sees them: they are this
        process's own and about to be committed, and nothing is published before they are.
        """
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (the last close also checkpoints the WAL).

        A batch still waiting for its commit is committed first: its writers are waiting.
        """
        with self._lock:
            if self._batch is not None:
                self._commit(self.db.conn, self._batch)
            self.db.conn.close()


def get_setting(conn: sqlite3.Connection, key: str, default: Any) -> Any:
    """Return a JSON setting stored in the database, or ``default``."""
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def put_setting(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Store a JSON setting."""
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value, ensure_ascii=False)),
    )


def audit(
    conn: SqlConnection,
    action: str,
    at: float,
    *,
    user_id: int | None = None,
    device_id: int | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    """Append one row to the audit log (never updated, never deleted)."""
    conn.execute(
        "INSERT INTO audit_log (at, user_id, device_id, action, detail, remote_addr) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            at,
            user_id,
            device_id,
            action,
            json.dumps(detail, ensure_ascii=False) if detail else None,
            remote_addr,
        ),
    )
