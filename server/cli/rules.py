"""A center's rules from the command line: fairness, hours and holidays, notice, announcements.

Also closing a day by hand; each command is one audited change through server/office.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from server.cli.common import (
    admin_change,
    data_dir_option,
    open_store,
)
from server.office import admin, holidays
from server.queue import closing
from server.queue.center import Center
from server.queue.storage import audit, get_setting


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


COMMANDS = (fairness, hours, notice, announce, close_day_command)
