"""HQ's backups: ``pg_dump`` of its PostgreSQL database, or a copy of ``hq.db`` while it runs.

Either is written under a temporary name, checked (``pg_restore --list`` reads the whole
archive's table of contents; SQLite's copy passes ``integrity_check`` and carries a schema this
program knows) and only then named ``dostq-hq-YYYYMMDD-HHMMSS.dump`` or ``.db``; the oldest
beyond ``keep`` are deleted. A ministry's own PostgreSQL backups (base backups, WAL archiving,
replicas) go further; this is the one command that works the same on a one-machine HQ.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hq.database import is_postgres, where
from hq.schema import HQ_MIGRATIONS
from server.office import key_files
from server.queue.storage import PRIVATE_FILE, PRIVATE_FOLDER

PREFIX = "dostq-hq-"
KEEP = 14


class BackupFailed(Exception):
    """A backup that did not complete or failed its check; the message says why."""


@dataclass(frozen=True)
class Taken:
    """A backup that passed its check."""

    path: Path
    size_bytes: int
    day_records: int | None  # counted in an SQLite copy; a dump is checked by pg_restore
    keys: tuple[str, ...] = ()  # the key files saved beside it (key_files.beside)


def take(data_dir: Path, database: str, folder: Path, at: datetime) -> Taken:
    """Back up HQ's database (``database``: a PostgreSQL address, or empty for hq.db)."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    suffix = ".dump" if is_postgres(database) else ".db"
    target = folder / f"{PREFIX}{at:%Y%m%d-%H%M%S}{suffix}"
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    try:
        if is_postgres(database):
            _dump(database, partial)
            records = None
        else:
            records = _copy(data_dir / "hq.db", partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(target)
    # Without center_keys.key every center's sealed key is unreadable on a new disk.
    keys = key_files.save(data_dir, key_files.HQ_KEYS, key_files.beside(target))
    return Taken(target, target.stat().st_size, records, tuple(keys))


def program(name: str) -> str:
    """Return the path of a PostgreSQL client program, or say which package has it."""
    found = shutil.which(name) or next(
        reversed(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        raise BackupFailed(f"{name} is not installed: 'apt-get install postgresql-client'.")
    return found


def _dump(database: str, partial: Path) -> None:
    # The address goes as --dbname: its password, if any, belongs in ~/.pgpass, not in it.
    dumped = subprocess.run(  # noqa: S603  # a fixed program; the address is its argument
        [program("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", database],
        capture_output=True,
        text=True,
    )
    if dumped.returncode != 0:
        reason = " ".join(dumped.stderr.split()) or f"exit {dumped.returncode}"
        raise BackupFailed(f"pg_dump of {where(database)} failed: {reason}")
    listed = subprocess.run(  # noqa: S603  # a fixed program, our own file
        [program("pg_restore"), "--list", str(partial)], capture_output=True, text=True
    )
    if listed.returncode != 0 or "TABLE DATA public day_records" not in listed.stdout:
        raise BackupFailed(f"the dump of {where(database)} does not read back: {listed.stderr}")


def _copy(database: Path, partial: Path) -> int:
    if not database.is_file():
        raise BackupFailed(f"No HQ database at {database}.")
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy, pages=-1)  # every page in one step: one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # no -wal/-shm orphans beside the copy
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        version = copy.execute("PRAGMA user_version").fetchone()[0]
        records = int(copy.execute("SELECT count(*) FROM day_records").fetchone()[0])
    finally:
        copy.close()
        source.close()
    if integrity != "ok" or not 1 <= version <= len(HQ_MIGRATIONS):
        raise BackupFailed(f"the copy of {database} failed its check: {integrity}, v{version}")
    return records


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``folder``; return what was deleted."""
    taken = sorted(p for p in folder.glob(f"{PREFIX}*") if p.suffix in (".dump", ".db"))
    old = taken[: max(0, len(taken) - keep)]
    for path in old:
        path.unlink()
        key_files.beside(path).unlink(missing_ok=True)
    return old
