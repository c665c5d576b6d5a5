"""What every ``dostq`` command shares: the ``--data-dir`` option and one admin transaction."""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from server.cli import folders
from server.queue.errors import QueueError
from server.queue.storage import Store
from server.settings import LOG_FORMATS
from server.web import logs


def _an_existing_center(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    return folders.existing_center(value)


def _any_folder(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    folders.refuse_foreign_owner(value)
    return value


DATA_DIR_HELP = (
    "Folder holding the database, secret key and certificates (default: $DOSTQ_DATA_DIR, "
    "else the one /etc/dostq/center.env names, else an installed /var/lib/dostq/data, "
    "else ./data)."
)


def _folder_option(
    callback: Callable[[click.Context, click.Parameter, Path], Path],
) -> Callable[[click.decorators.FC], click.decorators.FC]:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=folders.CENTER.default,
        callback=callback,
        help=DATA_DIR_HELP,
    )


def data_dir_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--data-dir``: an existing center's folder (found as the service finds it)."""
    return _folder_option(_an_existing_center)(function)


def new_data_dir_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--data-dir`` for the commands that may create a center there (init, demo, cert)."""
    return _folder_option(_any_folder)(function)


def log_format_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--log-format`` (default: $DOSTQ_LOG_FORMAT, else text)."""
    return click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        help="text: a line for a person (default, or $DOSTQ_LOG_FORMAT); json: JSON lines.",
    )(function)


def start_logging(log_format: str) -> str:
    """Send this process's log lines out in ``log_format``; return it.

    Checked here: it may come from ``DOSTQ_LOG_FORMAT``, which the option's choices never saw.
    """
    if log_format not in LOG_FORMATS:
        raise click.ClickException(f"DOSTQ_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}.")
    logs.configure(log_format)
    return log_format


def password_file_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--password-file``: a password is never an argument (``ps`` and shell history)."""
    return click.option(
        "--password-file",
        type=click.File("r", encoding="utf-8"),
        help="Read the password from the first line of this file ('-': standard input) "
        "instead of asking for it.",
    )(function)


def new_password(password_file: TextIO | None) -> str:
    """Return the new password from ``--password-file``, else ask for it twice, unseen."""
    if password_file is not None:
        return password_file.readline().rstrip("\r\n")
    return str(click.prompt("New password", hide_input=True, confirmation_prompt=True))


def open_store(data_dir: Path) -> Store:
    """Open (and migrate) the center database in ``data_dir``."""
    return Store(data_dir / "dostq.db")


@contextmanager
def admin_change(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """Run one admin change as a transaction; a refusal becomes a clear CLI error, exit 1."""
    try:
        with open_store(data_dir).write() as conn:
            yield conn
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc


def is_loopback(host: str) -> bool:
    """Return whether ``host`` is this machine only (plain HTTP is refused anywhere else)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
