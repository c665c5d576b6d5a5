"""Backups of the center's database: a consistent copy while it runs, checked, and restored.

A copy is taken with SQLite's online backup API in one step, so it is one snapshot of every
committed transaction (WAL included) while the server goes on issuing tickets; it is written
0600 under a temporary name and only named ``dostq-YYYYMMDD-HHMMSS.db`` once it passed
``PRAGMA integrity_check`` and its schema version is one this program knows. A restore checks
the file the same way and keeps the database it replaces beside it; it refuses while a server
holds the data folder's lock (``server.lock``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from server.office import key_files
from server.queue.schema import MIGRATIONS
from server.queue.storage import (
    PRIVATE_FILE,
    PRIVATE_FOLDER,
    refuse_newer,
    schema_version,
)

PREFIX, SUFFIX = "dostq-", ".db"
# The floor warns when the newest backup is older than this (a night was missed, and more).
LATE_AFTER_S = 36 * 3600
LOCK_FILE = "server.lock"
# The rows a backup reports: what a manager would miss first.
COUNTED = ("tickets", "ticket_events", "feedback", "users", "devices", "counters", "services")


class BackupRefused(Exception):
    """A backup or restore that must not go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Checked:
    """A database file that passed the checks: its schema version and its row counts."""

    path: Path
    schema_version: int
    rows: dict[str, int]
    size_bytes: int
    keys: tuple[str, ...] = ()  # the key files saved beside it (key_files.beside)


def check(path: Path) -> Checked:
    """Open a backup read-only and check it: integrity, a known schema version, row counts."""
    if not path.is_file():
        raise BackupRefused(f"{path} is not a file.")
    try:
        with closing_connection(path) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            rows = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in COUNTED
                if table in tables
            }
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{path} is not a center database: {exc}.") from exc
    if integrity != "ok":
        raise BackupRefused(f"{path} is damaged: {integrity}.")
    if not 1 <= version <= len(MIGRATIONS) or "tickets" not in tables:
        raise BackupRefused(
            f"{path} has schema version {version}; this dostq knows 1 to {len(MIGRATIONS)}."
        )
    return Checked(path, version, rows, path.stat().st_size)


@contextmanager
def closing_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """Open a database file read-only (never creating it), and close it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def take(database: Path, folder: Path, at: datetime, label: str = "") -> Checked:
    """Copy the live ``database`` into ``folder`` as one consistent snapshot; return it checked.

    A ``label`` ends the name (``dostq-YYYYMMDD-HHMMSS-<label>.db``): such a backup is never
    rotated away.
    """
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    target = folder / f"{PREFIX}{at:%Y%m%d-%H%M%S}{'-' + label if label else ''}{SUFFIX}"
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    os.close(fd)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        # pages=-1: every page in one step, one read transaction: one snapshot.
        source.backup(copy, pages=-1)
        # A plain file, not WAL: checking a WAL copy left -wal/-shm orphans beside each one.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()
    try:
        checked = check(partial)
    except BackupRefused:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    keys = key_files.save(database.parent, key_files.CENTER_KEYS, key_files.beside(target))
    return Checked(target, checked.schema_version, checked.rows, checked.size_bytes, tuple(keys))


def before_upgrade(database: Path, folder: Path, at: datetime) -> Checked | None:
    """Back up ``database`` if this version's start will migrate it; None when it will not.

    Run by ``dostq serve`` before the server opens the database: an upgrade that goes wrong
    is undone with ``dostq restore`` and the older program. A newer database is refused.
    """
    version = schema_version(database)
    if version is None or version == 0:
        return None  # a new center: nothing to keep
    refuse_newer(database, version, len(MIGRATIONS))
    if version == len(MIGRATIONS):
        return None
    return take(database, folder, at, label=f"before-schema-{len(MIGRATIONS)}")


@contextmanager
def server_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data folder's lock: the server holds it while it runs, a restore to refuse."""
    data_dir.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BackupRefused(
                f"A center server is running on {data_dir}: stop it first "
                "(systemctl stop dostq), then restore."
            ) from exc
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Restored:
    """What a restore put back: where the replaced database went, and the key files."""

    aside: Path | None
    keys: list[str]


def restore(backup: Path, data_dir: Path, at: datetime) -> Restored:
    """Put a checked backup (and the key files beside it) in place of the center's own.

    Refused while a server runs on ``data_dir``. The replaced database (its WAL folded in
    first) is kept as ``dostq.db.replaced-YYYYMMDD-HHMMSS`` beside the new one.
    """
    check(backup)
    database = data_dir / "dostq.db"
    with server_lock(data_dir):
        aside = None
        if database.exists():
            conn = sqlite3.connect(database)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            aside = database.with_name(f"{database.name}.replaced-{at:%Y%m%d-%H%M%S}")
            database.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        partial = database.with_name(database.name + ".part")
        shutil.copyfile(backup, partial)
        os.chmod(partial, PRIVATE_FILE)
        partial.rename(database)
        keys = key_files.beside(backup)
        restored = (
            key_files.put_back(keys, data_dir, key_files.CENTER_KEYS, at) if keys.is_file() else []
        )
    return Restored(aside, restored)


def backups_in(folder: Path) -> list[Path]:
    """Return the backups in ``folder``, oldest first (their names sort by time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def rotate(folder: Path, daily: int, weekly: int) -> list[Path]:
    """Keep the newest backup of each of the last days and weeks; delete the others.

    ``daily`` days and ``weekly`` ISO weeks are kept; what was deleted is returned.
    """
    days: set[str] = set()
    weeks: set[tuple[int, ...]] = set()
    deleted = []
    for path in reversed(backups_in(folder)):  # newest first
        taken = _taken_at(path)
        if taken is None:
            continue  # not named by us: never deleted
        day, week = taken.date().isoformat(), tuple(taken.isocalendar())[:2]
        kept = False
        if day not in days and len(days) < daily:
            days.add(day)
            kept = True
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            kept = True
        if not kept:
            path.unlink()
            key_files.beside(path).unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def _taken_at(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name[len(PREFIX) : -len(SUFFIX)], "%Y%m%d-%H%M%S")
    except ValueError:
        return None


def newest_at(folder: Path) -> float | None:
    """Return when the newest backup in ``folder`` was written (epoch seconds), or None."""
    found = backups_in(folder)
    return found[-1].stat().st_mtime if found else None


def status(folder: Path, now: float) -> dict[str, object]:
    """Return what the floor shows of the backups: the newest one's time, and if it is late."""
    last = newest_at(folder)
    return {"last_at": last, "late": last is None or now - last > LATE_AFTER_S}


def due(last: float | None, now: datetime, hour: int) -> bool:
    """Say whether the night's backup is due at local time ``now`` (aware).

    Due once ``hour`` has struck and none was taken since; at any hour when the newest is
    older than LATE_AFTER_S (the PC was off at night): catch up at once.
    """
    tonight = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if last is None:
        return now >= tonight
    taken = datetime.fromtimestamp(last, now.tzinfo)
    return (now >= tonight > taken) or now - taken > timedelta(seconds=LATE_AFTER_S)
