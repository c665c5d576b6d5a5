"""The ``dostq`` command: set up, seed and serve a center. Each command wraps library calls."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import requests

from server.hq_link import signing
from server.hq_link import sync as center_sync
from server.office import accounts, admin
from server.office.catalog import (
    default_catalog_path,
    default_priority_categories,
    import_catalog,
    import_priority_categories,
    load_catalog,
    load_priority_categories,
)
from server.office.history import generate as generate_history
from server.office.history import working_days_before
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.storage import Store, audit, get_setting, put_setting

DEMO_COUNTERS = (  # name, service codes, categories (None: everyone)
    ("Masa 1", ["1.0", "4.1", "4.2", "4.7"], None),
    ("Masa 2", ["2.1", "2.2", "2.3", "2.4", "2.5", "8.0"], None),
    ("Masa 3", ["3.1", "3.2.1", "3.2.2", "3.3", "3.4", "3.5", "3.8"], None),
    ("Masa 4", ["5.1.1", "5.1.7", "5.2.2", "6", "7.6.2", "9.7", "9.8", "10.0"], None),
    (
        "Masa 5 (güzəştli)",
        ["1.0", "3.1", "5.1.1", "6"],
        ["disability", "veterans", "elderly", "infants"],
    ),
)


def data_dir_option(function: click.decorators.FC) -> click.decorators.FC:
    """Add the shared ``--data-dir`` option (default: $DOSTQ_DATA_DIR or ./data)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("DOSTQ_DATA_DIR", "data"),
        show_default="./data",
        help="Folder holding the database, secret key and certificates.",
    )(function)


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


@click.group()
def main() -> None:
    """dost-queue: the queue and kiosk system of a DOST center."""


@main.command()
@data_dir_option
@click.option("--admin", "admin_name", default="admin", show_default=True)
@click.option("--password", envvar="DOSTQ_ADMIN_PASSWORD", help="Else one is generated.")
def init(data_dir: Path, admin_name: str, password: str | None) -> None:
    """Create the database, load the default catalog and create the first admin."""
    store = open_store(data_dir)
    with store.write() as conn:
        if conn.execute("SELECT count(*) FROM areas").fetchone()[0] == 0:
            import_catalog(conn, load_catalog(default_catalog_path()))
            import_priority_categories(conn, default_priority_categories())
        if conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            password = password or secrets.token_urlsafe(12)
            accounts.create_user(conn, admin_name, password, "admin", time.time())
            click.echo(f"Admin '{admin_name}' created with password: {password}")
            click.echo("Write it down now: it is stored only as a hash.")
    click.echo(f"Database ready: {store.path}")


@main.command("import-catalog")
@data_dir_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_catalog_command(data_dir: Path, path: Path) -> None:
    """Load a catalog (JSON or CSV); areas and services not in it are deactivated.

    A JSON catalog may also carry "priority_categories" (code and names), replacing the list.
    """
    with admin_change(data_dir) as conn:
        areas = load_catalog(path)
        categories = load_priority_categories(path)
        counts = import_catalog(conn, areas)
        if categories is not None:
            counts["priority_categories"] = import_priority_categories(conn, categories)
        audit(conn, "catalog_imported", time.time(), detail={"file": path.name, **counts})
    click.echo(f"Imported {counts['areas']} areas and {counts['services']} services.")


@main.command("create-user")
@data_dir_option
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--name", "display_name", help="The name shown on screens.")
@click.password_option(envvar="DOSTQ_NEW_PASSWORD")
def create_user(
    data_dir: Path, username: str, role: str, display_name: str | None, password: str
) -> None:
    """Create a clerk, manager or admin account."""
    with admin_change(data_dir) as conn:
        accounts.create_user(conn, username, password, role, time.time(), display_name)
        audit(conn, "user_created", time.time(), detail={"username": username, "role": role})
    click.echo(f"{role} '{username}' created.")


@main.command("enrol-device")
@data_dir_option
@click.argument("name")
@click.option("--kind", type=click.Choice(accounts.DEVICE_KINDS), required=True)
@click.option("--zone", help="Displays: the zone (hall) whose calls it shows.")
@click.option("--no-printer", is_flag=True, help="Kiosks: this one prints nothing.")
@click.option(
    "--printer",
    "printer_url",
    metavar="URL",
    help="Kiosks: a printer the server drives (tcp://IP:9100, serial:/dev/ttyUSB0?baud="
    "9600, virtual:FOLDER), or agent: for one on the kiosk PC (dostq agent).",
)
@click.option(
    "--print-mode",
    type=click.Choice(accounts.PRINT_MODES),
    default="text",
    show_default=True,
    help="text: small, for serial; raster: drawn, for USB/LAN.",
)
def enrol_device(
    data_dir: Path,
    name: str,
    kind: str,
    zone: str | None,
    no_printer: bool,
    printer_url: str | None,
    print_mode: str,
) -> None:
    """Register a kiosk or display and print its token (shown only this once)."""
    with admin_change(data_dir) as conn:
        token = accounts.enrol_device(
            conn, name, kind, time.time(), zone, not no_printer, printer_url, print_mode
        )
        audit(conn, "device_enrolled", time.time(), detail={"name": name, "kind": kind})
    click.echo(token)


@main.command("create-counter")
@data_dir_option
@click.argument("name")
@click.option(
    "--service",
    "services",
    multiple=True,
    required=True,
    help="A service code it serves, optionally with a weight: 4.2 or 4.2:2.",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    help="Serve only these visitor categories (repeat; 'general' for no priority).",
)
@click.option("--zone", default="main", show_default=True, help="The hall whose displays show it.")
def create_counter(
    data_dir: Path, name: str, services: tuple[str, ...], categories: tuple[str, ...], zone: str
) -> None:
    """Create a counter serving some services (with weights) and, if given, only some categories."""
    weights: dict[str, float] = {}
    for spec in services:
        code, _, weight = spec.partition(":")
        try:
            weights[code] = float(weight or 1)
        except ValueError as exc:
            raise click.BadParameter(
                f"weight of {code} must be a number", param_hint="--service"
            ) from exc
        if weights[code] <= 0:
            raise click.BadParameter(f"weight of {code} must be above 0", param_hint="--service")
    with admin_change(data_dir) as conn:
        counter_id = accounts.create_counter(conn, name, weights, zone, list(categories) or None)
        audit(conn, "counter_created", time.time(), detail={"name": name})
    click.echo(f"Counter {counter_id} '{name}' created.")


@main.command()
@data_dir_option
@click.option(
    "--priority-streak-limit",
    type=click.IntRange(1, 20),
    help="Most priority calls in a row at a counter while general visitors wait.",
)
@click.option(
    "--overdue-minutes",
    type=click.IntRange(5, 600),
    help="A visitor waiting this long is called before everyone else.",
)
def fairness(
    data_dir: Path, priority_streak_limit: int | None, overdue_minutes: int | None
) -> None:
    """Show or change the fairness rule (takes effect at the next call, no restart)."""
    with open_store(data_dir).write() as conn:
        stored = get_setting(conn, "fairness", {})
        if priority_streak_limit is not None:
            stored["priority_streak_limit"] = priority_streak_limit
        if overdue_minutes is not None:
            stored["overdue_after_s"] = overdue_minutes * 60
        if priority_streak_limit is not None or overdue_minutes is not None:
            put_setting(conn, "fairness", stored)
            audit(conn, "fairness_changed", time.time(), detail=stored)
    rule = Center.fairness_from(stored)
    click.echo(
        f"At most {rule.priority_streak_limit} priority calls in a row while others wait; "
        f"anyone waiting {rule.overdue_after_s / 60:.0f} min or more goes first."
    )


@main.command()
@data_dir_option
@click.option("--opens", help="First ticket of the day, e.g. 09:00.")
@click.option("--last-ticket", help="The daily cut-off, e.g. 17:30.")
@click.option(
    "--weekdays",
    default="1-5",
    show_default=True,
    help="Days open, 1 = Monday: 1-5 or 1,2,3,4,5,6.",
)
@click.option("--always", is_flag=True, help="Issue tickets at any time (no hours).")
def hours(
    data_dir: Path, opens: str | None, last_ticket: str | None, weekdays: str, always: bool
) -> None:
    """Set when kiosks issue tickets (takes effect at once; kiosks show when they reopen)."""
    if not always and (not opens or not last_ticket):
        raise click.UsageError("Give --opens and --last-ticket, or --always.")
    first, _, last = weekdays.partition("-")
    try:
        days = range(int(first), int(last) + 1) if last else [int(d) for d in weekdays.split(",")]
    except ValueError as exc:
        raise click.BadParameter("write 1-5 or 1,2,3", param_hint="--weekdays") from exc
    with admin_change(data_dir) as conn:
        value = admin.set_hours(
            conn, "" if always else opens or "", "" if always else last_ticket or "",
            [d - 1 for d in days],
        )  # fmt: skip
        audit(conn, "hours_changed", time.time(), detail={"hours": value})
    click.echo(
        "Tickets at any time."
        if value is None
        else f"Tickets {opens}-{last_ticket} on weekdays {weekdays}."
    )


@main.command()
@data_dir_option
@click.option("--az", "text_az", help="The notice in Azerbaijani.")
@click.option("--ru", "text_ru", help="In Russian.")
@click.option("--en", "text_en", help="In English.")
def notice(data_dir: Path, text_az: str | None, text_ru: str | None, text_en: str | None) -> None:
    """Set the notice the waiting-room displays scroll (none given: clear it)."""
    with admin_change(data_dir) as conn:
        texts = admin.set_notice(
            conn, {"az": text_az or "", "ru": text_ru or "", "en": text_en or ""}
        )
        audit(conn, "notice_changed", time.time(), detail=texts)
    click.echo("Notice set." if texts else "Notice cleared.")


@main.command()
@data_dir_option
@click.option(
    "--languages",
    default="az",
    show_default=True,
    help="Languages each call is spoken in, in order: az, az,ru or az,ru,en.",
)
def announce(data_dir: Path, languages: str) -> None:
    """Choose the languages the displays announce calls in (after a display reload)."""
    with admin_change(data_dir) as conn:
        chosen = admin.set_announce_languages(conn, [lang.strip() for lang in languages.split(",")])
        audit(conn, "announce_languages_changed", time.time(), detail={"languages": chosen})
    click.echo(f"Calls are announced in: {', '.join(chosen)}.")


@main.command()
@data_dir_option
@click.option(
    "--history-days",
    type=click.IntRange(0, 2000),
    default=60,
    show_default=True,
    help="Working days of generated history for the reports.",
)
def demo(data_dir: Path, history_days: int) -> None:
    """Seed a demo center: catalog, counters, staff, devices and history; print the logins."""
    store = open_store(data_dir)
    now = time.time()
    logins = {
        "admin": "demo-admin-pass",
        "manager": "demo-manager-pass",
        **{f"clerk{i}": f"demo-clerk{i}-pass" for i in range(1, 6)},
    }
    tokens_file = data_dir / "demo-devices.json"
    with store.write() as conn:
        if conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            import_catalog(conn, load_catalog(default_catalog_path()))
            import_priority_categories(conn, default_priority_categories())
            for username, password in logins.items():
                role = username if username in ("admin", "manager") else "clerk"
                accounts.create_user(conn, username, password, role, now)
            put_setting(
                conn,
                "notices",
                {
                    "az": "Xoş gəlmisiniz! Nömrənizi ekranda izləyin.",
                    "ru": "Добро пожаловать! Следите за своим номером на экране.",
                    "en": "Welcome! Watch for your number on the screen.",
                },
            )
            for name, services, categories in DEMO_COUNTERS:
                accounts.create_counter(
                    conn, name, dict.fromkeys(services, 1.0), categories=categories
                )
            tokens = {
                "kiosk-1": accounts.enrol_device(
                    conn, "kiosk-1", "kiosk", now, printer="virtual:printer"
                ),
                "display-1": accounts.enrol_device(conn, "display-1", "display", now),
                "display-hall2": accounts.enrol_device(
                    conn, "display-hall2", "display", now, zone="hall2"
                ),
            }
            tokens_file.touch(mode=0o600)
            tokens_file.write_text(json.dumps(tokens, indent=2))
        if history_days:
            _generate_history(conn, history_days)
    click.echo("Demo center ready.")
    click.echo("Logins (demo only): " + ", ".join(f"{u} / {p}" for u, p in logins.items()))
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
    timezone = ZoneInfo(os.environ.get("DOSTQ_TIMEZONE", "Asia/Baku"))
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
@click.option("--key", envvar="DOSTQ_HQ_KEY", help="Set up: the key `dostq hq add-center` printed.")
@click.option(
    "--status", "show_status", is_flag=True, help="Show what is pending and the last sync."
)
@click.option("--now", "push_now", is_flag=True, help="Send everything pending at once.")
def sync(
    data_dir: Path,
    hq_url: str | None,
    center_code: str | None,
    key: str | None,
    show_status: bool,
    push_now: bool,
) -> None:
    """Set up, check or run the daily throughput sync to headquarters."""
    store = open_store(data_dir)
    center = Center(store, timezone=ZoneInfo(os.environ.get("DOSTQ_TIMEZONE", "Asia/Baku")))
    if hq_url or center_code or key:
        if not (hq_url and center_code and key):
            raise click.UsageError("Set up with all three: --hq URL --center CODE --key KEY.")
        with store.write() as conn:
            center_sync.set_up(conn, data_dir, hq_url, center_code, key)
            audit(conn, "hq_sync_set_up", time.time(), detail={"hq": hq_url, "center": center_code})
        click.echo(f"This center syncs to {hq_url} as '{center_code}'.")
    if push_now:
        _push_now(center, data_dir)
    if show_status or not (hq_url or push_now):
        with store.read() as conn:
            state = center_sync.status(conn)
            hq = center_sync.link(conn, data_dir)
        click.echo(f"HQ: {hq.url} as '{hq.center}'" if hq else "HQ: not set up")
        click.echo(f"Days pending: {state['pending_days']}")
        last = state.get("last_success_at")
        click.echo(f"Last synced: {_age(time.time() - last)} ago" if last else "Last synced: never")
        if state.get("last_error") and state["pending_days"]:
            click.echo(f"Last problem: {state['last_error']}")


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _push_now(center: Center, data_dir: Path) -> None:
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
                center_sync.record_failure(center, str(exc))
                raise click.ClickException(f"Stopped: {exc}") from exc
            if not sent:
                break
            bar.update(sent)
    click.echo("Everything is at HQ.")


@main.group("hq")
def hq_group() -> None:
    """Headquarters mode: receive every center's daily throughput, show centers side by side."""


@hq_group.command("serve")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("DOSTQ_HQ_DATA_DIR", "hq-data"),
    show_default="./hq-data",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--allow-http", is_flag=True, help="Plain HTTP off loopback (closed test networks).")
def hq_serve(data_dir: Path, host: str, port: int, allow_http: bool) -> None:
    """Serve the HQ records API and dashboard under gunicorn (HTTPS once `dostq cert` ran there)."""
    from hq.app import create_hq_app
    from server.cli.serve import serve as run_server

    tls_dir = data_dir / "tls"
    tls = (tls_dir / "cert.pem").exists()
    if not tls and not allow_http and not _is_loopback(host):
        raise click.ClickException(
            f"Refusing plain HTTP on {host}: run 'dostq cert --data-dir {data_dir}' first."
        )
    app = create_hq_app({"HQ_DATA_DIR": str(data_dir), "TLS": tls})
    click.echo(f"HQ at {'https' if tls else 'http'}://{host}:{port}/hq/")
    run_server(app, host, port, tls_dir if tls else None, threads=32)


def _hq_store(data_dir: Path) -> Store:
    from hq.storage import HQ_MIGRATIONS

    return Store(data_dir / "hq.db", HQ_MIGRATIONS)


@hq_group.command("add-center")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("DOSTQ_HQ_DATA_DIR", "hq-data"),
)
@click.argument("code")
@click.option("--name", required=True, help="The center's name on the dashboard.")
def hq_add_center(data_dir: Path, code: str, name: str) -> None:
    """Register a center at HQ and print its new key (give it to `dostq sync` at the center)."""
    from hq.storage import add_center

    key = signing.new_key()
    with _hq_store(data_dir).write() as conn:
        add_center(conn, code, name, key, time.time())
        audit(conn, "center_added", time.time(), detail={"code": code, "name": name})
    click.echo(key)


@hq_group.command("create-user")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("DOSTQ_HQ_DATA_DIR", "hq-data"),
)
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["manager", "admin"]),
    default="manager",
    show_default=True,
    help="manager: a Ministry analyst who reads the dashboard.",
)
@click.password_option(envvar="DOSTQ_NEW_PASSWORD")
def hq_create_user(data_dir: Path, username: str, role: str, password: str) -> None:
    """Create an HQ analyst account."""
    try:
        with _hq_store(data_dir).write() as conn:
            accounts.create_user(conn, username, password, role, time.time())
            audit(conn, "user_created", time.time(), detail={"username": username, "role": role})
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"HQ {role} '{username}' created.")


@main.group("serial-line")
def serial_line() -> None:
    """Manage serial lines for counter LED displays and call keypads (used from next start)."""


@serial_line.command("add")
@data_dir_option
@click.argument("url")
@click.option("--baud", default=9600, show_default=True, type=int)
def serial_line_add(data_dir: Path, url: str, baud: int) -> None:
    """Add a line: a port (/dev/serial/by-id/...) or pyserial URL (socket://host:port)."""
    with admin_change(data_dir) as conn:
        lines = [line for line in get_setting(conn, "serial_lines", []) if line["url"] != url]
        put_setting(conn, "serial_lines", [*lines, {"url": url, "baudrate": baud}])
        audit(conn, "serial_line_added", time.time(), detail={"url": url, "baudrate": baud})
    click.echo(f"Serial line {url} at {baud} baud added; restart the server to open it.")


@serial_line.command("remove")
@data_dir_option
@click.argument("url")
def serial_line_remove(data_dir: Path, url: str) -> None:
    """Remove a line."""
    with admin_change(data_dir) as conn:
        lines = get_setting(conn, "serial_lines", [])
        put_setting(conn, "serial_lines", [line for line in lines if line["url"] != url])
        audit(conn, "serial_line_removed", time.time(), detail={"url": url})
    click.echo(f"Serial line {url} removed.")


@main.command()
@click.option(
    "--server", "server_url", required=True, help="The center, e.g. https://10.0.0.5:8080"
)
@click.option(
    "--token",
    envvar="DOSTQ_DEVICE_TOKEN",
    required=True,
    help="The kiosk's device token (or $DOSTQ_DEVICE_TOKEN).",
)
@click.option(
    "--printer",
    "printer_url",
    required=True,
    help="The local printer: serial:/dev/ttyUSB0?baud=115200, tcp://..., virtual:DIR",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="The center's certificate (cert.pem from dostq cert), for HTTPS.",
)
def agent(server_url: str, token: str, printer_url: str, ca_file: str | None) -> None:
    """Run on a kiosk PC: print the center's tickets on the printer attached to this PC."""
    import logging

    from hardware.agent import EdgeAgent
    from hardware.printers import make_printer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    EdgeAgent(server_url, token, make_printer("local", printer_url), ca_file).run()


@main.group()
def printer() -> None:
    """Check ticket printers."""


@printer.command("test")
@data_dir_option
@click.option("--device", "device_name", help="Use the printer configured for this kiosk.")
@click.option("--url", help="Or a printer URL: tcp://IP:9100, serial:/dev/ttyUSB0?baud=9600 ...")
@click.option("--mode", type=click.Choice(accounts.PRINT_MODES), default="text", show_default=True)
def printer_test(data_dir: Path, device_name: str | None, url: str | None, mode: str) -> None:
    """Report a printer's status and print a self-test page (every letter, QR, big number)."""
    from hardware.layout import build_self_test
    from hardware.printers import PrinterError, make_printer

    if device_name:
        with open_store(data_dir).read() as conn:
            row = conn.execute(
                "SELECT printer, print_mode FROM devices WHERE name = ?", (device_name,)
            ).fetchone()
        if row is None or not row["printer"]:
            raise click.ClickException(f"Device '{device_name}' has no printer configured.")
        url, mode = row["printer"], row["print_mode"]
    if not url:
        raise click.UsageError("Name a --device or a printer --url.")
    if url.startswith("virtual:") and not url.startswith("virtual:/"):
        url = f"virtual:{data_dir / url[8:]}"
    target = make_printer(device_name or "printer", url)
    status = target.status()
    click.echo(f"Status: {status.state.value} - {status.message}")
    if not status.printable:
        raise click.ClickException("Not printing the test page until the printer is ready.")
    try:
        target.send(build_self_test(mode, status_line=f"{status.state.value}"))
    except PrinterError as exc:
        raise click.ClickException(f"The test page did not print: {exc}") from exc
    click.echo(f"Self-test page sent ({mode} mode). Check every letter: Əə Ğğ İı Şş Çç Öö Üü.")


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--threads",
    default=200,
    show_default=True,
    type=int,
    help="At least the number of screens connected at once, plus headroom.",
)
@click.option("--allow-http", is_flag=True, help="Serve plain HTTP on a non-loopback address.")
def serve(data_dir: Path, host: str, port: int, threads: int, allow_http: bool) -> None:
    """Serve pages, API and Socket.IO under gunicorn (HTTPS when `dostq cert` was run)."""
    from server.app import create_app
    from server.cli.serve import serve as run_server

    tls_dir = data_dir / "tls"
    tls = (tls_dir / "cert.pem").exists()
    if not tls and not allow_http and not _is_loopback(host):
        raise click.ClickException(
            f"Refusing plain HTTP on {host}: staff passwords would cross the LAN in clear. "
            "Run 'dostq cert' first, or pass --allow-http for a closed test network."
        )
    app = create_app({"DATA_DIR": str(data_dir), "TLS": tls})
    scheme = "https" if tls else "http"
    click.echo(f"Center at {scheme}://{host}:{port}/  (API: /api/v1/openapi.json)")
    run_server(app, host, port, tls_dir if tls else None, threads)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@data_dir_option
@click.option("--hostname", "hostnames", multiple=True, default=["localhost"], show_default=True)
@click.option("--ip", "ips", multiple=True, help="LAN addresses the center is reached at.")
@click.option("--days", default=825, show_default=True, type=int)
def cert(data_dir: Path, hostnames: tuple[str, ...], ips: tuple[str, ...], days: int) -> None:
    """Make the center's TLS key and self-signed certificate (install it on kiosks/displays)."""
    from server.cli.tls import write_self_signed

    cert_path = write_self_signed(data_dir / "tls", list(hostnames), list(ips), days)
    click.echo(f"Certificate: {cert_path} (valid {days} days)")
