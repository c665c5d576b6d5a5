"""Where HQ keeps its rows: an SQLite file, or a PostgreSQL server (``--database``).

An SQLite file in HQ's folder serves a demo or a one-machine HQ; a PostgreSQL server the
ministry's, chosen by ``--database`` / ``DOSTQ_HQ_DATABASE``.

The rest of HQ sees one interface (``server.queue.storage.Database``: ``read`` and ``write``
transactions) and writes one SQL for both: the common part of the two dialects, with ``?``
placeholders (turned into psycopg's ``%s`` here), ``ON CONFLICT`` upserts and ``RETURNING``,
and rows read by position or by column name. Each dialect has its own numbered migrations
(``hq/schema.py``), applied at start; on PostgreSQL under an advisory lock, so several HQ
processes starting at once apply each step exactly once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from hq import schema
from server.queue.errors import QueueError
from server.queue.storage import Database, Store, refuse_newer

SCHEMES = ("postgresql://", "postgres://")
# Any number, the same in every HQ process: the key of the lock that serialises migrations.
MIGRATION_LOCK = 0x64_6F_73_74  # "dost"
# Connections per process: gunicorn's 32 threads mostly render pages, a few hold the database.
POOL_SIZE = 16
# How long a request waits for a connection (or a start for the server) before a clear 503.
WAIT_S = 10.0


class DatabaseUnavailable(QueueError):
    """HQ's database server does not answer: try again later (a center's sync retries)."""

    status = 503


def is_postgres(url: str) -> bool:
    """Tell whether ``url`` names a PostgreSQL server (else HQ uses its SQLite file)."""
    return url.startswith(SCHEMES)


def where(url: str) -> str:
    """Return the server and database a URL names, without its password (for messages)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unreadable --database address"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def open_database(data_dir: Path, url: str = "") -> Database:
    """Open HQ's database, migrated to this version: ``url`` if given, else ``hq.db`` there."""
    if not url:
        return Store(data_dir / "hq.db", schema.HQ_MIGRATIONS)
    if not is_postgres(url):
        raise QueueError(
            "bad_database",
            f"--database must start with {' or '.join(SCHEMES)}, or be empty for "
            f"{data_dir / 'hq.db'}.",
            "database",
        )
    return PostgresDatabase(url, schema.HQ_POSTGRES_MIGRATIONS)


class Row(tuple[Any, ...]):
    """A row read by position or by column name, like ``sqlite3.Row``."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)


def rows_by_name(cursor: Any) -> Any:
    """Make each row of a cursor a ``Row`` (psycopg's row factory)."""
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


@functools.lru_cache(maxsize=256)
def dialect(sql: str, with_parameters: bool) -> str:
    """Turn HQ's SQL into psycopg's.

    ``?`` becomes ``%s`` (no ``?`` sits inside a literal in HQ's SQL) and, with parameters,
    a literal ``%`` is doubled.
    """
    if not with_parameters:
        return sql
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection:
    """One pooled connection, speaking HQ's SQL (``server.queue.storage.SqlConnection``)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        """Run one statement; return its cursor."""
        return self.conn.execute(dialect(sql, bool(parameters)), parameters or None)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], /) -> Any:
        """Run one statement for each row of parameters."""
        cursor = self.conn.cursor()
        cursor.executemany(dialect(sql, True), rows)
        return cursor


class PostgresDatabase:
    """HQ's rows on a PostgreSQL server, through a pool of connections shared by threads."""

    def __init__(self, url: str, migrations: tuple[str, ...]) -> None:
        self.where = where(url)
        try:  # one plain attempt first: libpq's own words say what is wrong
            psycopg.connect(url, connect_timeout=int(WAIT_S)).close()
        except psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=WAIT_S,
            kwargs={"row_factory": rows_by_name},
            name="dostq-hq",
            open=False,
        )
        self.pool.open(wait=True, timeout=WAIT_S)
        self.migrate(migrations)

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return DatabaseUnavailable(
            "database_unavailable",
            f"HQ cannot reach its database at {self.where}: {reason}",
            "database",
        )

    def migrate(self, migrations: tuple[str, ...]) -> None:
        """Apply the steps this database lacks, each once, whichever process comes first."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS hq_schema (version integer NOT NULL)")
            row = conn.execute("SELECT version FROM hq_schema").fetchone()
            if row is None:
                conn.execute("INSERT INTO hq_schema (version) VALUES (0)")
            done = row[0] if row else 0
            refuse_newer(self.where, done, len(migrations))
            for number, schema in enumerate(migrations[done:], start=done + 1):
                conn.execute(schema.encode())  # several statements: no parameters
                conn.execute("UPDATE hq_schema SET version = %s", (number,))

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise self._unavailable(exc) from exc

    @contextmanager
    def write(self) -> Iterator[PostgresConnection]:
        """Run the block as one transaction (read committed); roll back if it raises."""
        with self._connection() as conn, conn.transaction():
            yield PostgresConnection(conn)

    @contextmanager
    def read(self) -> Iterator[PostgresConnection]:
        """Give a connection for reading: one consistent snapshot for the block."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresConnection(conn)

    def close(self) -> None:
        """Close every connection of the pool."""
        self.pool.close()
