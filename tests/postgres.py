"""A throw-away PostgreSQL server for the HQ tests: Debian's binaries, a temporary folder.

``initdb`` refuses to run as root (CI runs as root), so the cluster belongs to the
``postgres`` user Debian's package creates; it listens on loopback on a free port, and is
stopped and deleted after the session. Each test gets its own database in it. The tests'
server skips fsync (they check HQ's logic, not the disk); the bench's does not.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.live import free_port

SUPERUSER = "dostq"


def binaries() -> Path:
    """Return the folder of the newest PostgreSQL installed, or explain how to get one."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major)
    if not found:
        raise RuntimeError(
            "The HQ tests need a PostgreSQL server's programs: run scripts/test (it installs "
            "them as root) or 'sudo apt-get install -y postgresql'."
        )
    return Path(found[-1]).parent


def _major(initdb: str) -> int:
    return int(Path(initdb).parts[-3])


class Cluster:
    """One running PostgreSQL server in a temporary folder."""

    def __init__(self, durable: bool = False) -> None:
        self.bin = binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="dostq-pg-"))
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # initdb will not run as root: the package's own user will
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run(
            "initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "start")  # fmt: skip
        self.running = True
        self.databases = 0

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / program), *args], check=True, capture_output=True
        )

    def url(self, database: str = "postgres") -> str:
        """Return the address of one of this server's databases."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its address."""
        self.databases += 1
        name = f"hq_{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop_server(self) -> None:
        """Stop the server at once, as a crash or a pulled cable would (its folder stays)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
            self.running = False

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self.stop_server()
        shutil.rmtree(self.folder, ignore_errors=True)
