"""``dostq hq``: the headquarters program, serving every center's records and the dashboard."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from server.cli import folders
from server.cli.common import (
    is_loopback,
    log_format_option,
    new_password,
    password_file_option,
    start_logging,
)
from server.hq_link import signing
from server.office import accounts
from server.queue.errors import QueueError
from server.queue.storage import Database, audit
from server.settings import HQ_SETTINGS, resolve

if TYPE_CHECKING:
    from flask import Flask


def _hq_folder(_ctx: click.Context, _param: click.Parameter, value: Path) -> Path:
    folders.refuse_foreign_owner(value)
    return value


def hq_data_dir_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--data-dir`` for HQ's own folder, found as the HQ service finds it."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=folders.HQ.default,
        callback=_hq_folder,
        help="Folder holding HQ's keys, secret key and certificates (default: "
        "$DOSTQ_HQ_DATA_DIR, else the one /etc/dostq/hq.env names, else an installed "
        "/var/lib/dostq-hq, else ./hq-data).",
    )(function)


def hq_database_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add ``--database``: a PostgreSQL server's address, or none for ``hq.db`` in the folder."""
    return click.option(
        "--database",
        default=lambda: os.environ.get("DOSTQ_HQ_DATABASE", ""),
        show_default="$DOSTQ_HQ_DATABASE, else hq.db in --data-dir",
        metavar="postgresql://USER@HOST/DB",
        help="HQ's PostgreSQL database (its password from ~/.pgpass or PGPASSWORD).",
    )(function)


def open_hq_database(data_dir: Path, database: str) -> Database:
    """Open HQ's database, migrated, or stop with what is wrong (the server down, say)."""
    from hq.database import open_database

    try:
        return open_database(data_dir, database)
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc


# Connections one HQ process holds at once: every center's sync, phones booking, analysts.
HQ_CONNECTIONS = 2000


@click.group("hq")
def hq_group() -> None:
    """Headquarters mode: receive every center's daily throughput, show centers side by side."""


@hq_group.command("serve")
@hq_data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--allow-http", is_flag=True, help="Plain HTTP off loopback (closed test networks).")
@hq_database_option
@log_format_option
def hq_serve(
    data_dir: Path,
    host: str,
    port: int,
    allow_http: bool,
    database: str,
    log_format: str | None,
) -> None:
    """Serve the HQ records API and dashboard under gunicorn (HTTPS once `dostq cert` ran there).

    One gevent worker, as at the center: a client that sends its request slowly holds a
    greenlet, not one of a few threads (32 slow connections once stopped a gthread HQ).
    """
    from server.cli.gunicorn import gunicorn_options
    from server.cli.gunicorn import serve as run_server

    # psycopg picks how it waits on the network when first imported, here in the master, before
    # the worker's gevent patches select: poll, looked up at each wait, then cooperates.
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_poll")

    tls_dir = data_dir / "tls"
    tls = (tls_dir / "cert.pem").exists()
    if not tls and not allow_http and not is_loopback(host):
        raise click.ClickException(
            f"Refusing plain HTTP on {host}: run 'dostq cert --data-dir {data_dir}' first."
        )
    # Checked and migrated here, not in the worker: a database that is down or newer than
    # this program would there be a traceback and a restart loop.
    open_hq_database(data_dir, database).close()
    config = {"HQ_DATA_DIR": str(data_dir), "HQ_DATABASE": database, "TLS": tls}
    if log_format:
        config["LOG_FORMAT"] = log_format
    from hq.sms import sender_from as sms_sender_from

    settings = resolve(HQ_SETTINGS, config)
    try:  # here, not in the worker: a wrong SMPP address there would be a restart loop
        sms_sender_from(settings)
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc
    chosen_format = start_logging(settings["LOG_FORMAT"])
    logging.getLogger("dostq").info("HQ at %s://%s:%s/hq/", "https" if tls else "http", host, port)
    options = gunicorn_options(
        host,
        port,
        tls_dir if tls else None,
        "gevent",
        threads=0,
        max_sockets=HQ_CONNECTIONS,
        log_format=chosen_format,
    )
    run_server(lambda: _build_hq(config), options)


def _build_hq(config: dict[str, object]) -> Flask:
    # Imported in the worker, after gevent patched the standard library (as the center's).
    from hq.app import create_hq_app

    app = create_hq_app(config)
    # The SMS sender starts in the serving worker only: a command or a test that builds the
    # app sends nothing behind its back.
    sms_worker = app.extensions.get("dostq.sms_worker")
    if sms_worker is not None:
        sms_worker.start()
    return app


@hq_group.command("add-center")
@hq_data_dir_option
@hq_database_option
@click.argument("code")
@click.option("--name", required=True, help="The center's name on the dashboard.")
@click.option(
    "--rotate-key",
    is_flag=True,
    help="The center is registered already: give it a new key (its old one stops working).",
)
def hq_add_center(data_dir: Path, database: str, code: str, name: str, rotate_key: bool) -> None:
    """Register a center at HQ and print its new key (give it to `dostq sync` at the center)."""
    from hq.keys import CenterKeys
    from hq.storage import add_center, center_key

    key = signing.new_key()
    with open_hq_database(data_dir, database).write() as conn:
        # Typed twice by mistake, it once gave the center a new key without a word, and the
        # center's syncs then failed until someone carried the new key over.
        known = center_key(conn, code) is not None
        if known and not rotate_key:
            raise click.ClickException(
                f"Center '{code}' is registered already; its key is unchanged. To give it a "
                "new key (the old one stops working at once), add --rotate-key."
            )
        add_center(conn, code, name, CenterKeys.in_folder(data_dir).seal(key), time.time())
        action = "center_key_rotated" if known else "center_added"
        audit(conn, action, time.time(), detail={"code": code, "name": name})
    click.echo(key)


@hq_group.command("add-partner")
@hq_data_dir_option
@hq_database_option
@click.argument("name")
def hq_add_partner(data_dir: Path, database: str, name: str) -> None:
    """Register a state system that books through HQ's API (e-Social); print its new key."""
    from hq.bookings import add_partner
    from hq.keys import CenterKeys

    key = signing.new_key()
    with open_hq_database(data_dir, database).write() as conn:
        add_partner(conn, name, CenterKeys.in_folder(data_dir).seal(key), time.time())
        audit(conn, "partner_added", time.time(), detail={"name": name})
    click.echo(key)


@hq_group.command("create-user")
@hq_data_dir_option
@hq_database_option
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["manager", "admin"]),
    default="manager",
    show_default=True,
    help="manager: a Ministry analyst who reads the dashboard.",
)
@password_file_option
def hq_create_user(
    data_dir: Path, database: str, username: str, role: str, password_file: TextIO | None
) -> None:
    """Create an HQ analyst account (the password is asked for, twice, unseen)."""
    password = new_password(password_file)
    try:
        with open_hq_database(data_dir, database).write() as conn:
            accounts.create_user(conn, username, password, role, time.time())
            audit(conn, "user_created", time.time(), detail={"username": username, "role": role})
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"HQ {role} '{username}' created.")


@hq_group.command("backup")
@hq_data_dir_option
@hq_database_option
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the backups; default: --data-dir/backups.",
)
@click.option("--keep", type=click.IntRange(1, 3650), default=14, show_default=True)
def hq_backup(data_dir: Path, database: str, folder: Path | None, keep: int) -> None:
    """Back up HQ's database while it runs (pg_dump, or a copy of hq.db), checked, rotated."""
    from hq import backups

    folder = folder or data_dir / "backups"
    started = time.perf_counter()
    try:
        taken = backups.take(data_dir, database, folder, datetime.now())
    except backups.BackupFailed as exc:
        raise click.ClickException(f"No backup was kept: {exc}") from exc
    records = "" if taken.day_records is None else f"; {taken.day_records} day records"
    click.echo(
        f"{taken.path} ({taken.size_bytes / 2**20:.1f} MiB in "
        f"{time.perf_counter() - started:.1f} s{records})"
    )
    if taken.keys:
        click.echo(f"{taken.path.with_suffix('.keys')}: {', '.join(taken.keys)} (secrets, "
                   "mode 0600; on a new disk: tar -xf it into --data-dir)")  # fmt: skip
    deleted = backups.rotate(folder, keep)
    if deleted:
        click.echo(f"Rotated away {len(deleted)} older backup(s).")
