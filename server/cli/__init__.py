"""The ``dostq`` command: set up, seed and serve a center. Each command wraps library calls.

The center's own day (demo, history, HQ sync, serve, cert) is here; setting up is in
``setup.py``, its rules in ``rules.py``, devices in ``devices.py`` and the HQ program in ``hq.py``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

import click

from server import VERSION
from server.cli import backups, devices, hq, install, rules, setup
from server.cli.common import (
    admin_change,
    data_dir_option,
    is_loopback,
    log_format_option,
    new_data_dir_option,
    open_store,
    start_logging,
)
from server.office import accounts
from server.office.backups import BackupRefused, before_upgrade, server_lock
from server.office.demo import DEMO_LOGINS, seed_demo
from server.office.history import generate as generate_history
from server.office.history import working_days_before
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.schema import MIGRATIONS
from server.queue.storage import NewerSchema, audit
from server.settings import (
    CENTER_SETTINGS,
    SIGN_IN_SETTINGS,
    WORKERS,
    backup_folder,
    center_local_now,
    resolve,
)

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("dostq")


class Dostq(click.Group):
    """The command group: a newer database or a folder it may not open is a clear refusal."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, turning NewerSchema into an error message and exit status 1."""
        try:
            return super().invoke(ctx)
        except NewerSchema as exc:
            raise click.ClickException(str(exc)) from exc
        except PermissionError as exc:  # a folder of another user's: a sentence, not a trace
            raise click.ClickException(
                f"No permission for {exc.filename}: run the command as the user who owns it "
                "(the service's: runuser -u dostq -- dostq …)."
            ) from exc


@click.group(cls=Dostq)
@click.version_option(VERSION, prog_name="dostq", message="%(prog)s %(version)s")
def main() -> None:
    """dost-queue: the queue and kiosk system of a DOST center."""
    # Everything dostq writes (database, keys, logs, printer jobs) is its own user's only.
    os.umask(0o077)
    try:
        accounts.use_password_profile(resolve(SIGN_IN_SETTINGS)["PASSWORD_PROFILE"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


for command in (
    *setup.COMMANDS,
    *rules.COMMANDS,
    *devices.COMMANDS,
    *backups.COMMANDS,
    hq.hq_group,
    install.install_service,
):
    main.add_command(command)


@main.command()
@new_data_dir_option
@click.option(
    "--history-days",
    type=click.IntRange(0, 2000),
    default=60,
    show_default=True,
    help="Working days of generated history for the reports.",
)
def demo(data_dir: Path, history_days: int) -> None:
    """Seed a demo center: catalog, counters, staff, devices and history; print the logins."""
    tokens_file = data_dir / "demo-devices.json"
    with open_store(data_dir).write() as conn:
        tokens = seed_demo(conn, time.time())
        if tokens is not None:
            tokens_file.touch(mode=0o600)
            tokens_file.write_text(json.dumps(tokens, indent=2))
        if history_days:
            _generate_history(conn, history_days)
    click.echo("Demo center ready.")
    click.echo("Logins (demo only): " + ", ".join(f"{u} / {p}" for u, p in DEMO_LOGINS.items()))
    click.echo(f"Device tokens: {tokens_file}")
    click.echo(
        f"kiosk-1 prints on a virtual printer: {data_dir / 'printer'} "
        "(previews at /printers/kiosk-1/ for managers)"
    )


@main.command()
@data_dir_option
@click.option(
    "--days",
    type=click.IntRange(1, 2000),
    default=260,
    show_default=True,
    help="Working days of history, ending yesterday.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Same seed, same history.")
def history(data_dir: Path, days: int, seed: int) -> None:
    """Fill past days with realistic visits (demos, training, trying reports); skips busy days."""
    with admin_change(data_dir) as conn:
        written = _generate_history(conn, days, seed)
    click.echo(f"{written} visits written over {days} working days.")


def _generate_history(conn: sqlite3.Connection, days: int, seed: int = 2026) -> int:
    timezone = ZoneInfo(resolve(CENTER_SETTINGS)["TIMEZONE"])
    today = datetime.now(timezone).date()
    written = generate_history(conn, working_days_before(today, days), days, timezone, seed=seed)
    audit(conn, "history_generated", time.time(), detail={"days": days, "visits": written})
    return written


@main.command()
@data_dir_option
@click.option(
    "--hq", "hq_url", metavar="URL", help="Set up: HQ's address, e.g. https://hq.dost.gov.az"
)
@click.option("--center", "center_code", help="Set up: this center's code at HQ.")
@click.option(
    "--key",
    envvar="DOSTQ_HQ_KEY",
    help="Set up: the key `dostq hq add-center` printed (better: DOSTQ_HQ_KEY or --key-file).",
)
@click.option(
    "--key-file",
    type=click.File("r"),
    help="Set up: read the key from this file, or - for standard input (kept out of ps).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="HQ's certificate (or its CA's), when the system does not trust it: kept in the "
    "data folder and used for every request to HQ.",
)
@click.option(
    "--status", "show_status", is_flag=True, help="Show what is pending and the last sync."
)
@click.option("--now", "push_now", is_flag=True, help="Send everything pending at once.")
def sync(
    data_dir: Path,
    hq_url: str | None,
    center_code: str | None,
    key: str | None,
    key_file: TextIO | None,
    ca_file: Path | None,
    show_status: bool,
    push_now: bool,
) -> None:
    """Set up, check or run the daily throughput sync to headquarters."""
    from server.hq_link import sync as center_sync

    if key_file is not None:
        key = key_file.readline().strip()

    store = open_store(data_dir)
    center = Center(store, timezone=ZoneInfo(resolve(CENTER_SETTINGS)["TIMEZONE"]))
    if hq_url or center_code or key:
        if not (hq_url and center_code and key):
            raise click.UsageError("Set up with all three: --hq URL --center CODE --key KEY.")
        try:
            with store.write() as conn:
                center_sync.set_up(conn, data_dir, hq_url, center_code, key)
                audit(conn, "hq_sync_set_up", time.time(),
                      detail={"hq": hq_url, "center": center_code})  # fmt: skip
        except QueueError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"This center syncs to {hq_url} as '{center_code}'.")
    if ca_file is not None:
        try:
            center_sync.trust_hq_certificate(data_dir, ca_file)
        except QueueError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"HQ's certificate is checked against {center_sync.ca_path(data_dir)}.")
    if push_now:
        _push_now(center, data_dir)
    if show_status or not (hq_url or push_now or ca_file):
        with store.read() as conn:
            state = center_sync.status(conn)
            hq = center_sync.link(conn, data_dir)
        click.echo(f"HQ: {hq.url} as '{hq.center}'" if hq else "HQ: not set up")
        if hq and hq.ca_file:
            click.echo(f"HQ's certificate: checked against {hq.ca_file}")
        click.echo(f"Days pending: {state['pending_days']}")
        last = state.get("last_success_at")
        click.echo(f"Last synced: {_age(time.time() - last)} ago" if last else "Last synced: never")
        if state.get("last_error") and state["pending_days"]:
            click.echo(f"Last problem: {state['last_error']}")
        offset = state.get("clock_offset_s")
        if offset is not None:  # HQ's clock minus ours, at the last answer
            side = "behind" if offset > 0 else "ahead of"
            click.echo(
                f"Clock: {abs(offset):.0f} s {side} HQ's"
                + (
                    " (set it: ticket times and signatures depend on it)"
                    if abs(offset) > center_sync.CLOCK_TOLERANCE_S
                    else ""
                )
            )


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _why_not_sent(exc: Exception, url: str) -> str:
    """Say in a sentence why HQ did not take the days (the rest stays pending, sent later)."""
    from server.hq_link.sync import problem_kind

    later = "the days stay pending and go at the next try."
    said = {
        "certificate": f"HQ's certificate at {url} could not be verified; {later}",
        "unreachable": f"HQ at {url} cannot be reached (no network, or HQ is down); {later}",
        "timeout": f"HQ at {url} did not answer in time; {later}",
        "http_error": f"HQ at {url} answered with an error ({type(exc).__name__}); {later}",
    }
    return said.get(problem_kind(exc), str(exc))


def _push_now(center: Center, data_dir: Path) -> None:
    # Imported here: `dostq serve` must not load ssl before the gevent worker patches it.
    import requests

    from server.hq_link import sync as center_sync

    with center.store.read() as conn:
        hq = center_sync.link(conn, data_dir)
        total = center_sync.status(conn)["pending_days"]
    if hq is None:
        raise click.ClickException("HQ is not set up: dostq sync --hq URL --center CODE --key KEY")
    session = requests.Session()
    with click.progressbar(length=total, label="Sending days to HQ") as bar:
        while True:
            try:
                sent = center_sync.send_batch(center, hq, session)
            except (requests.RequestException, center_sync.SyncRefused) as exc:
                center_sync.record_failure(center, exc)
                raise click.ClickException(f"Stopped: {_why_not_sent(exc, hq.url)}") from exc
            if not sent:
                break
            bar.update(sent)
    click.echo("Everything is at HQ.")


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--worker",
    type=click.Choice(WORKERS),
    help="gevent (default, or $DOSTQ_WORKER): thousands of screens; threads: one thread each.",
)
@click.option(
    "--threads",
    type=int,
    help="With --worker threads (or $DOSTQ_THREADS, 200): the screens connected at once, "
    "plus headroom.",
)
@click.option("--allow-http", is_flag=True, help="Serve plain HTTP on a non-loopback address.")
@log_format_option
def serve(
    data_dir: Path,
    host: str,
    port: int,
    worker: str | None,
    threads: int | None,
    allow_http: bool,
    log_format: str | None,
) -> None:
    """Serve pages, API and Socket.IO under gunicorn (HTTPS when `dostq cert` was run)."""
    from server.cli.gunicorn import HTTP_HEADROOM, gunicorn_options, raise_open_files
    from server.cli.gunicorn import serve as run_server

    tls_dir = data_dir / "tls"
    tls = (tls_dir / "cert.pem").exists()
    if not tls and not allow_http and not is_loopback(host):
        raise click.ClickException(
            f"Refusing plain HTTP on {host}: staff passwords would cross the LAN in clear. "
            "Run 'dostq cert' first, or pass --allow-http for a closed test network."
        )
    config = {
        "DATA_DIR": str(data_dir),
        "TLS": tls,
        **({"WORKER": worker} if worker else {}),
        **({"THREADS": threads} if threads else {}),
        **({"LOG_FORMAT": log_format} if log_format else {}),
    }
    values = resolve(CENTER_SETTINGS, config)
    if values["WORKER"] not in WORKERS:
        raise click.ClickException(f"DOSTQ_WORKER must be one of {', '.join(WORKERS)}.")
    # The center's own log lines (refused sockets, lost serial lines...) go where gunicorn's go.
    start_logging(values["LOG_FORMAT"])
    problem = raise_open_files(int(values["MAX_SOCKETS"]) + HTTP_HEADROOM + 100)
    if problem:
        log.warning("%s", problem)
    options = gunicorn_options(
        host,
        port,
        tls_dir if tls else None,
        values["WORKER"],
        int(values["THREADS"]),
        int(values["MAX_SOCKETS"]),
        log_format=values["LOG_FORMAT"],
    )
    # One server per data folder; a restore waits for none to hold it (server.office.backups).
    try:
        with server_lock(data_dir):
            _back_up_before_upgrade(data_dir, values)
            # Logged once nothing can refuse any more (it came before "already running"),
            # and logged, not echoed: with --log-format json every line of output is JSON.
            log.info("Center at %s://%s:%s/  (API: /api/v1/openapi.json)",
                     "https" if tls else "http", host, port)  # fmt: skip
            run_server(lambda: _build_center(config), options)
    except BackupRefused as exc:
        raise click.ClickException(
            f"Another center server is already running on {data_dir}: stop it first."
        ) from exc


def _build_center(config: dict[str, object]) -> Flask:
    # Imported in the worker, after gevent patched the standard library: the app's imports
    # (requests, hence ssl) must not be loaded before that (gevent issue 1016).
    from server.app import create_app

    return create_app(config)


def _back_up_before_upgrade(data_dir: Path, values: dict[str, object]) -> None:
    try:
        taken = before_upgrade(
            data_dir / "dostq.db", backup_folder(values), center_local_now(values)
        )
    except BackupRefused as exc:
        raise click.ClickException(
            f"Not upgrading: the backup before the upgrade failed its check ({exc})."
        ) from exc
    if taken is not None:
        log.info(
            "Upgrading the database to schema %s; kept a copy: %s", len(MIGRATIONS), taken.path
        )


@main.command()
@new_data_dir_option
@click.option("--hostname", "hostnames", multiple=True, default=["localhost"], show_default=True)
@click.option("--ip", "ips", multiple=True, help="LAN addresses the center is reached at.")
@click.option("--days", default=825, show_default=True, type=int)
def cert(data_dir: Path, hostnames: tuple[str, ...], ips: tuple[str, ...], days: int) -> None:
    """Make the center's TLS key and self-signed certificate (install it on kiosks/displays)."""
    from server.cli.tls import write_self_signed

    cert_path = write_self_signed(data_dir / "tls", list(hostnames), list(ips), days)
    click.echo(f"Certificate: {cert_path} (valid {days} days)")
