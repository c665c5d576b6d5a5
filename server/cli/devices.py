"""Devices from the command line: serial lines, the kiosk PC's print agent, printer checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from server.cli.common import admin_change, data_dir_option, open_store
from server.live.counter_devices import check_line
from server.office import accounts, serial_lines
from server.queue.actors import Device
from server.queue.errors import QueueError
from server.queue.storage import audit
from server.settings import CENTER_SETTINGS, LANGUAGES, host_list, resolve


@click.group("serial-line")
def serial_line() -> None:
    """Manage serial lines for counter LED displays and call keypads.

    A running server opens a line changed here at its next start; one changed on the admin
    page (Serial lines) at once.
    """


@serial_line.command("add")
@data_dir_option
@click.argument("url")
@click.option("--baud", default=9600, show_default=True, type=int)
def serial_line_add(data_dir: Path, url: str, baud: int) -> None:
    """Add a line: a port (/dev/serial/by-id/...) or a converter (socket://host:port).

    A converter's host must be listed in SERIAL_HOSTS (DOSTQ_SERIAL_HOSTS).
    """
    with admin_change(data_dir) as conn:
        line = serial_lines.add_serial_line(conn, url, baud)
        check_line(line["url"], host_list(resolve(CENTER_SETTINGS)["SERIAL_HOSTS"]))
        audit(conn, "serial_line_added", time.time(), detail=line)
    click.echo(
        f"Serial line {line['url']} at {baud} baud added; a running server opens it at its "
        "next start (the admin page's Serial lines applies at once)."
    )


@serial_line.command("remove")
@data_dir_option
@click.argument("url")
def serial_line_remove(data_dir: Path, url: str) -> None:
    """Remove a line."""
    with admin_change(data_dir) as conn:
        serial_lines.remove_serial_line(conn, url)
        audit(conn, "serial_line_removed", time.time(), detail={"url": url})
    click.echo(f"Serial line {url} removed.")


@click.command()
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
    help="The local printer: serial:/dev/ttyUSB0?baud=115200, tcp://..., virtual:printer-NAME",
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
    from hardware.printers import BadPrinterUrl, make_printer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        local = make_printer("local", printer_url, Path.cwd())
    except BadPrinterUrl as exc:
        raise click.ClickException(str(exc)) from exc
    EdgeAgent(server_url, token, local, ca_file).run()


@click.group()
def printer() -> None:
    """Check ticket printers."""


def _profile_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--profile",
        default=None,
        help="The printer's model, e.g. TM-T20II, POS-5890, RP326, TM-T88IV, simple "
        "(dostq printer profiles lists them).",
    )(function)


@printer.command("profiles")
def printer_profiles() -> None:
    """List the printer models known (python-escpos' capability database)."""
    from hardware import profiles

    for name in profiles.PROFILE_NAMES:
        model = profiles.get(name)
        qr = "QR" if model.native_qr else "QR as image"
        images = "" if model.raster_images else ", images as columns (ESC *)"
        needs = " - Star: needs its ESC/POS emulation" if model.needs else ""
        click.echo(f"{name:<16} {model.paper}, {model.dots} dots, {model.columns} columns, "
                   f"{qr}{images}{needs}")  # fmt: skip


@printer.command("test")
@data_dir_option
@click.option("--device", "device_name", help="Use the printer configured for this kiosk.")
@click.option("--url", help="Or a printer URL: tcp://IP:9100, serial:/dev/ttyUSB0?baud=9600 ...")
@_profile_option
@click.option("--mode", type=click.Choice(accounts.PRINT_MODES), default=None,
              help="text or raster; a kiosk's own by default, else raster.")  # fmt: skip
def printer_test(
    data_dir: Path, device_name: str | None, url: str | None, profile: str | None, mode: str | None
) -> None:
    """Report a printer's status and print a self-test page.

    The page shows every Azerbaijani letter in both cases, Cyrillic, the profile and the code
    pages in use, so a technician sees at a glance that the profile is right.
    """
    from hardware.layout import build_self_test

    text_pages = None
    if device_name:
        device = _device_with_printer(data_dir, device_name)
        url, profile = device.printer, profile or device.printer_profile
        mode, text_pages = mode or device.print_mode, device.text_pages
    profile, mode = profile or "TM-T20II", mode or "raster"
    _print_page(data_dir, device_name or "printer", url, profile, build_self_test, mode, profile,
                "", text_pages)  # fmt: skip
    click.echo(
        f"Self-test page sent ({profile}, {mode} mode). Check every letter: "
        "Əə Ğğ İı Şş Çç Öö Üü; if any is wrong, run dostq printer calibrate."
    )


@printer.command("calibrate")
@data_dir_option
@click.option("--device", "device_name", help="The kiosk whose printer it is: stores the answer.")
@click.option("--url", help="Or a printer URL, to print the ticket only (a kiosk PC's printer).")
@_profile_option
@click.option("--choice", type=int, help="The number whose lines read right (0: none); asked.")
@click.option("--no-print", is_flag=True, help="Store --choice only: the ticket is printed.")
def printer_calibrate(
    data_dir: Path,
    device_name: str | None,
    url: str | None,
    profile: str | None,
    choice: int | None,
    no_print: bool,
) -> None:
    """Print the calibration ticket, then store which of its lines printed right.

    The ticket shows the Azerbaijani and Russian test letters drawn, then once per code-page
    numbering the common firmwares use, each numbered. The number whose lines look like the
    drawn ones makes the printer print text with that numbering; 0 keeps it drawn (raster).
    """
    from hardware.calibration import build_calibration, candidates, pages_of_choice

    device = _device_with_printer(data_dir, device_name) if device_name else None
    if device is not None:
        url, profile = device.printer, profile or device.printer_profile
    profile = profile or "TM-T20II"
    if not no_print:
        _print_page(data_dir, device_name or "printer", url, profile, build_calibration, profile)
        for c in candidates(profile):
            click.echo(f"  {c.number}: numbered like {c.pages_of} "
                       f"(Latin slot {c.latin_slot}, Cyrillic slot {c.cyrillic_slot})")  # fmt: skip
    if device is None:
        click.echo("Store the answer with --device NAME --no-print --choice N, or on the "
                   "admin page (People, the kiosk's Printer).")  # fmt: skip
        return
    if choice is None:
        choice = click.prompt("Which number's two lines look like the drawn ones (0: none)",
                              type=int)  # fmt: skip
    try:
        pages_of = pages_of_choice(profile, choice)
    except ValueError as exc:
        raise click.ClickException(f"{exc}: type a number the ticket shows, or 0.") from exc
    with admin_change(data_dir) as conn:
        accounts.set_text_pages(conn, device.id, pages_of)
        audit(conn, "printer_calibrated", time.time(),
              detail={"device": device.name, "text_pages": pages_of})  # fmt: skip
    click.echo(
        f"{device.name} prints text, numbered like {pages_of}."
        if pages_of
        else f"{device.name} prints drawn (raster): right on any printer that draws."
    )


def _device_with_printer(data_dir: Path, device_name: str) -> Device:
    with open_store(data_dir).read() as conn:
        device = accounts.device_by_name(conn, device_name)
    if device is None:
        raise click.ClickException(f"No device '{device_name}': see dostq's admin pages.")
    if not device.printer:
        raise click.ClickException(f"Device '{device_name}' has no printer configured.")
    return device


def _print_page(
    data_dir: Path,
    name: str,
    url: str | None,
    profile: str,
    build: Callable[..., bytes],
    *args: Any,
) -> None:
    """Print one page the server did not queue (a test, a calibration) once the printer is ready."""
    from hardware.printers import PrinterError
    from server.live.printing import check_printer, printer_for

    if not url:
        raise click.UsageError("Name a --device or a printer --url.")
    try:
        check_printer(url, profile, data_dir.resolve())
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc
    target = printer_for(name, url, data_dir.resolve(), profile)
    status = target.status()
    click.echo(f"Status: {status.state.value} - {status.message}")
    if not status.printable:
        raise click.ClickException("Not printing until the printer is ready.")
    try:
        target.send(build(*args))
    except PrinterError as exc:
        raise click.ClickException(f"The page did not print: {exc}") from exc


@printer.command("sample")
@data_dir_option
@_profile_option
@click.option("--mode", type=click.Choice(accounts.PRINT_MODES), default="text", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="az", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def printer_sample(data_dir: Path, profile: str | None, mode: str, lang: str, out: Path) -> None:
    """Write the bytes of a sample ticket for the longest service in the catalog."""
    from hardware import profiles
    from hardware.layout import build_ticket
    from hardware.ticket import TicketPrint
    from server.office.catalog import read_catalog

    profile = profile or "TM-T20II"
    try:
        profiles.get(profile)
    except profiles.UnknownProfile as exc:
        raise click.ClickException(str(exc)) from exc
    with open_store(data_dir).read() as conn:
        services = [s for area in read_catalog(conn)["areas"] for s in area["services"]]
    if not services:
        raise click.ClickException("The catalog has no service: run dostq init or import one.")
    longest = max(services, key=lambda s: len(s["name"].get(lang) or s["name"]["az"]))
    documents = longest["documents"].get(lang) or longest["documents"].get("az")
    sample = TicketPrint(
        center="Bakı şəhəri 1 nömrəli DOST mərkəzi",
        label="A-042",
        service=longest["name"].get(lang) or longest["name"]["az"],
        issued_at="23.11.2026 12:13",
        people_ahead=12,
        status_url="http://192.168.1.10:8080/t/AbCdEfGhIjKlMnOpQrStUv",
        language=lang,
        wait_minutes=35,
        documents=documents,
    )
    data = build_ticket(sample, mode, profile)
    out.write_bytes(data)
    click.echo(f"{len(data)} bytes ({profile}, {mode}, {lang}) written to {out}.")


COMMANDS = (serial_line, agent, printer)
