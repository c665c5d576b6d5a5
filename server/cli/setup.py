"""Setting a center up: database, catalog, staff, devices, counters, rules, hours, notices."""

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
    new_password,
    open_store,
    password_file_option,
)
from server.office import accounts, admin, holidays, national_catalog
from server.office.catalog import (
    catalog_change,
    default_catalog_path,
    default_priority_categories,
    import_catalog,
    import_priority_categories,
    load_catalog,
    load_priority_categories,
)
from server.queue import closing
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.storage import audit, get_setting


@click.command()
@data_dir_option
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
    "9600, virtual:FOLDER), or agent: for one on the kiosk PC (dostq agent).",
)
@click.option(
    "--print-mode",
    type=click.Choice(accounts.PRINT_MODES),
    default="text",
    show_default=True,
    help="text: small, for serial; raster: drawn, for USB/LAN.",
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
    print_mode: str,
    printer_profile: str,
) -> None:
    """Register a kiosk, display or feedback tablet; print its token (shown only this once)."""
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
            print_mode,
            printer_profile,
            counter_id,
        )
        audit(conn, "device_enrolled", time.time(), detail={"name": name, "kind": kind})
    click.echo(token)


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


@click.command()
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
    with admin_change(data_dir) as conn:
        rule = Center.fairness_from(get_setting(conn, "fairness", {}))
        if priority_streak_limit is not None or overdue_minutes is not None:
            stored = admin.set_fairness(
                conn,
                priority_streak_limit or rule.priority_streak_limit,
                overdue_minutes or round(rule.overdue_after_s / 60),
            )
            audit(conn, "fairness_changed", time.time(), detail=stored)
            rule = Center.fairness_from(stored)
    click.echo(
        f"At most {rule.priority_streak_limit} priority calls in a row while others wait; "
        f"anyone waiting {rule.overdue_after_s / 60:.0f} min or more goes first."
    )


@click.command()
@data_dir_option
@click.option("--opens", help="First ticket of the day, e.g. 09:00.")
@click.option("--last-ticket", help="The daily cut-off, e.g. 17:30.")
@click.option(
    "--weekdays",
    default="1-5",
    show_default=True,
    help="Days open, 1 = Monday: 1-5 or 1,2,3,4,5,6.",
)
@click.option(
    "--closes", help="When tickets still waiting are closed, e.g. 18:00 (default: an hour later)."
)
@click.option("--always", is_flag=True, help="Issue tickets at any time (no hours).")
@click.option(
    "--holiday",
    "special_day",
    metavar="YYYY-MM-DD",
    help="A special day: with --closed, or its own --opens/--last-ticket/--closes.",
)
@click.option("--closed", is_flag=True, help="With --holiday: the center is closed that day.")
@click.option("--remove", is_flag=True, help="With --holiday: an ordinary day again.")
@click.option("--name", default="", help="With --holiday: what the day is, e.g. Novruz.")
@click.option(
    "--public-holidays",
    "holiday_year",
    type=click.IntRange(2000, 2999),
    metavar="YEAR",
    help="Add that year's fixed public holidays (Labour Code, art. 105).",
)
def hours(
    data_dir: Path,
    opens: str | None,
    last_ticket: str | None,
    weekdays: str,
    closes: str | None,
    always: bool,
    special_day: str | None,
    closed: bool,
    remove: bool,
    name: str,
    holiday_year: int | None,
) -> None:
    """Set when kiosks issue tickets, and the calendar's holidays and special days.

    Takes effect at once: kiosks show when they issue again, and a day closes at its own time.
    """
    if holiday_year is not None:
        with admin_change(data_dir) as conn:
            added = holidays.add_public_holidays(conn, holiday_year)
            audit(conn, "calendar_changed", time.time(), detail={"public_holidays": holiday_year})
        click.echo(f"{added} public holidays of {holiday_year} added (Novruz, Ramazan and "
                   "Gurban move each year: add them with --holiday DAY --closed).")  # fmt: skip
        return
    if special_day is not None:
        _special_day(data_dir, special_day, closed, remove, name, opens, last_ticket, closes)
        return
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
            [d - 1 for d in days], "" if always else closes or "",
        )  # fmt: skip
        audit(conn, "hours_changed", time.time(), detail={"hours": value})
    click.echo(
        "Tickets at any time."
        if value is None
        else f"Tickets {opens}-{last_ticket} on weekdays {weekdays}."
    )


def _special_day(
    data_dir: Path,
    day: str,
    closed: bool,
    remove: bool,
    name: str,
    opens: str | None,
    last_ticket: str | None,
    closes: str | None,
) -> None:
    if remove:
        with admin_change(data_dir) as conn:
            holidays.remove_special_day(conn, day)
            audit(conn, "calendar_changed", time.time(), detail={"removed": day})
        click.echo(f"{day} is an ordinary day again.")
        return
    if not closed and not (opens and last_ticket):
        raise click.UsageError("With --holiday give --closed, or --opens and --last-ticket.")
    with admin_change(data_dir) as conn:
        entry = holidays.set_special_day(
            conn, day, name, closed=closed, opens=opens or "", last_ticket=last_ticket or "",
            closes=closes or "",
        )  # fmt: skip
        audit(conn, "calendar_changed", time.time(), detail=entry)
    click.echo(f"{day}: closed." if closed else f"{day}: tickets {opens}-{last_ticket}.")


@click.command()
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


@click.command()
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


@click.command("close-day")
@data_dir_option
@click.option("--day", help="The day to close, YYYY-MM-DD (default: today).")
def close_day_command(data_dir: Path, day: str | None) -> None:
    """Close a day's tickets still open as unserved (a visitor being served today stays).

    The server does this by itself at the closing time (`dostq hours --closes`) and, at start,
    for days that ended while it was off. Screens that are open show it at their next refresh.
    """
    center = Center(open_store(data_dir))
    today = center.day(center.now())
    chosen = day or today
    try:
        if date.fromisoformat(chosen).isoformat() != chosen:
            raise ValueError(chosen)
    except ValueError as exc:
        raise click.BadParameter("write the day as YYYY-MM-DD", param_hint="--day") from exc
    if chosen > today:
        raise click.BadParameter(f"{chosen} has not begun yet", param_hint="--day")
    done = closing.close_day(center, chosen, reason="command", day_over=chosen < today)
    if not done.answer["closed"]:
        click.echo(f"Nothing open on {chosen}.")
        return
    states = ", ".join(f"{state} {n}" for state, n in sorted(done.answer["by_state"].items()))
    click.echo(f"Closed {done.answer['closed']} tickets of {chosen} as unserved ({states}).")


COMMANDS = (
    init, import_catalog_command, create_user, enrol_device, create_counter, fairness, hours,
    notice, announce, close_day_command,
)  # fmt: skip
