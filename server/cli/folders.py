"""Which folder a ``dostq`` command acts on: the installed center's (or HQ's), never a stray one.

A technician types the README's commands from wherever their shell is. Before, a bare
``dostq enrol-device`` there made a new empty center in ``./data`` whose tokens the real center
rejected, and ``dostq restore`` run as root left a root-owned database the service could not
open. So the default folder is found the way the service finds it (the variable, then
``/etc/dostq/center.env`` that ``install-service`` writes, then the installed folder), only
``init`` and ``demo`` create a database, and root may not act on a folder that belongs to the
service's user (what it wrote would be root's).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import click

# Where install-service writes the settings files; tests point it elsewhere.
CONFIG_DIR_VARIABLE = "DOSTQ_CONFIG_DIR"


def config_dir() -> Path:
    """Return the folder of ``center.env``, ``hq.env`` and ``agent.env`` (``/etc/dostq``)."""
    return Path(os.environ.get(CONFIG_DIR_VARIABLE, "/etc/dostq"))


def read_env_file(path: Path) -> dict[str, str]:
    """Return the ``NAME=value`` lines of a systemd environment file (missing: empty)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        name, equals, value = line.strip().partition("=")
        if equals and name and not name.startswith("#"):
            values[name.strip()] = value.strip().strip("\"'")
    return values


@dataclass(frozen=True)
class Folder:
    """One kind of data folder: the center's or HQ's."""

    variable: str  # the environment variable that names it
    env_file: str  # its settings file in config_dir()
    installed: Path  # where install-service (or the HQ unit) puts it
    marker: str  # the file that says a folder holds one
    fallback: str  # relative to the shell's folder, for a checkout's demo

    def default(self) -> str:
        """Return the folder a command uses when ``--data-dir`` is not given."""
        named = os.environ.get(self.variable) or read_env_file(config_dir() / self.env_file).get(
            self.variable
        )
        if named:
            return named
        if (self.installed / self.marker).exists():
            return str(self.installed)
        return self.fallback


CENTER = Folder("DOSTQ_DATA_DIR", "center.env", Path("/var/lib/dostq/data"), "dostq.db", "data")
HQ = Folder("DOSTQ_HQ_DATA_DIR", "hq.env", Path("/var/lib/dostq-hq"), "secret_key", "hq-data")


def refuse_foreign_owner(folder: Path) -> None:
    """As root, refuse a folder another user owns: files written there would be root's.

    The service (user ``dostq``) then cannot open its own database and restarts in a loop.
    """
    if os.geteuid() != 0 or not folder.exists():
        return
    owner = folder.stat().st_uid
    if owner == 0:
        return
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = str(owner)
    raise click.ClickException(
        f"{folder} belongs to the user '{name}': run the command as that user, so what it "
        f"writes stays theirs: runuser -u {name} -- dostq …"
    )


def existing_center(folder: Path) -> Path:
    """Return ``folder`` if it holds a center database; else stop with where to look."""
    refuse_foreign_owner(folder)
    if not (folder / CENTER.marker).is_file():
        raise click.ClickException(
            f"No center database in {folder.resolve()}. Give --data-dir the center's folder "
            f"(an installed center's is {CENTER.installed}, named in "
            f"{config_dir() / CENTER.env_file}), or create one with 'dostq init'."
        )
    return folder
