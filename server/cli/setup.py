"""Setting a center up: database, catalog, staff, devices and counters."""

from __future__ import annotations

import secrets
import time
from datetime import date
from pathlib import Path
from typing import TextIO

import click

from server.cli.common import (
    admin_change,
    data_dir_option,
    new_data_dir_option,
    new_password,
    open_store,
    password_file_option,
)
from server.office import accounts, holidays, national_catalog
from server.office.catalog import (
    catalog_change,
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog, load_priority_categories
from server.queue.errors import QueueError
from server.queue.storage import audit


@click.command()
@new_data_dir_option
@click.option("--admin", "admin_name", default="admin", show_default=True)
@password_file_option
def init(data_dir: Path, admin_name: str, password_file: TextIO | None) -> None:
    """Create the database, load the default catalog and create the first admin.

    The admin's password is generated and shown once, unless ``--password-file`` gives it.
    """
    store = open_store(data_dir)
    with store.write() as conn:
        if conn.execute("SELECT count(*) FROM areas").fetchone()[0] == 0:
            import_catalog(conn, load_catalog(default_catalog_path()))
            import_priority_categories(conn, default_priority_categories())
            year = date.today().year  # this year's and next year's fixed public holidays
            added = holidays.add_public_holidays(conn, year)
            added += holidays.add_public_holidays(conn, year + 1)
            click.echo(
                f"Calendar: {added} public holidays of {year}-{year + 1} (Novruz, Ramazan and "
                "Gurban move: add them with dostq hours --holiday)."
            )
        if conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            given = new_password(password_file) if password_file else None
            password = given or secrets.token_urlsafe(12)
            try:
                accounts.create_user(conn, admin_name, password, "admin", time.time())
            except QueueError as exc:
                raise click.ClickException(exc.message) from exc
            if given:
                click.echo(f"Admin '{admin_name}' created.")
            else:
                click.echo(f"Admin '{admin_name}' created with password: {password}")
                click.echo("Write it down now: it is stored only as a hash.")
    click.echo(f"Database ready: {store.path}")


@click.command("import-catalog")
@data_dir_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and print what would change.")
@click.option("--force", is_flag=True, help="Import even if it closes most open services.")
def import_catalog_command(data_dir: Path, path: Path, dry_run: bool, force: bool) -> None:
    """Load a catalog (JSON or CSV); areas and services not in it are deactivated.

    The whole file is checked before anything changes, and what changes is printed (added,
    renamed, deactivated, reactivated, offered to counters). A JSON catalog may also carry
    "priority_categories" (code and names), replacing the list.
    """
    with admin_change(data_dir) as conn:
        areas = load_catalog(path)
        categories = load_priority_categories(path)
        if dry_run:
            for line in catalog_change(conn, areas).lines():
                click.echo(line)
            click.echo("Dry run: nothing changed.")
            return
        change = import_catalog(conn, areas, force=force)
        national_catalog.imported_locally(conn)
        counts = change.counts()
        if categories is not None:
            counts["priority_categories"] = import_priority_categories(conn, categories)
        audit(conn, "catalog_imported", time.time(), detail={"file": path.name, **counts})
    for line in change.lines()[1:]:
        click.echo(line)
    click.echo(f"Imported {change.areas} areas and {change.services} services.")


@click.command("create-user")
@data_dir_option
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--name", "display_name", help="The name shown on screens.")
@password_file_option
def create_user(
    data_dir: Path, username: str, role: str, display_name: str | None, password_file: TextIO | None
) -> None:
    """Create a clerk, manager or admin account (the password is asked for, twice, unseen)."""
    password = new_password(password_file)
    with admin_change(data_dir) as conn:
        accounts.create_user(conn, username, password, role, time.time(), display_name)
        audit(conn, "user_created", time.time(), detail={"username": username, "role": role})
    click.echo(f"{role} '{username}' created.")


@click.command("enrol-device")
@data_dir_option
@click.argument("name")
@click.option("--kind", type=click.Choice(accounts.DEVICE_KINDS), required=True)
@click.option("--zone", help="Displays: the zone (hall) whose calls it shows.")
@click.option("--counter", help="Feedback tablets: the name of the counter it stands on.")
@click.option("--no-printer", is_flag=True, help="Kiosks: this one prints nothing.")
@click.option(
    "--printer",
    "printer_url",
    metavar="URL",
    help="Kiosks: a printer the server drives (tcp://IP:9100, serial:/dev/ttyUSB0?baud="
    "9600, virtual:printer-NAME), or agent: for one on the kiosk PC (dostq agent).",
)
@click.option(
    "--profile",
    "printer_profile",
    default="TM-T20II",
    show_default=True,
    help="Kiosks: the printer's model (dostq printer profiles lists them): its code pages, "
    "paper width and QR support.",
)
def enrol_device(
    data_dir: Path,
    name: str,
    kind: str,
    zone: str | None,
    counter: str | None,
    no_printer: bool,
    printer_url: str | None,
    printer_profile: str,
) -> None:
    """Register a kiosk, display or feedback tablet; print its token (shown only this once).

    Its printer prints drawn (raster) until `dostq printer calibrate` finds its text mode right.
    """
    from server.live.printing import check_printer

    with admin_change(data_dir) as conn:
        check_printer(printer_url, printer_profile, data_dir.resolve())
        counter_id = None
        if counter is not None:
            row = conn.execute("SELECT id FROM counters WHERE name = ?", (counter,)).fetchone()
            if row is None:
                raise click.UsageError(f"No counter named '{counter}'.")
            counter_id = row[0]
        token = accounts.enrol_device(
            conn,
            name,
            kind,
            time.time(),
            zone,
            not no_printer,
            printer_url,
            printer_profile,
            counter_id,
        )
        audit(conn, "device_enrolled", time.time(), detail={"name": name, "kind": kind})
    click.echo(token)
    if printer_url:
        from hardware.profiles import get

        needs = get(printer_profile).needs
        click.echo(
            f"{needs + ' ' if needs else ''}It prints drawn (raster) until calibrated: "
            f"dostq printer calibrate --device {name}",
            err=True,
        )


@click.command("create-counter")
@data_dir_option
@click.argument("name")
@click.option(
    "--service",
    "services",
    multiple=True,
    required=True,
    help="A service code it serves, optionally with a weight: 4.4 or 4.4:2.",
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


COMMANDS = (init, import_catalog_command, create_user, enrol_device, create_counter)
