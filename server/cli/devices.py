"""Devices from the command line: serial lines, the kiosk PC's print agent, printer checks."""

from __future__ import annotations

import time
from pathlib import Path

import click

from server.cli.common import admin_change, data_dir_option, open_store
from server.live.counter_devices import check_line
from server.office import accounts, serial_lines
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
        click.echo(f"{name:<16} {model.paper}, {model.dots} dots, {model.columns} columns, {qr}")


@printer.command("test")
@data_dir_option
@click.option("--device", "device_name", help="Use the printer configured for this kiosk.")
@click.option("--url", help="Or a printer URL: tcp://IP:9100, serial:/dev/ttyUSB0?baud=9600 ...")
@_profile_option
@click.option("--mode", type=click.Choice(accounts.PRINT_MODES), default="text", show_default=True)
def printer_test(
    data_dir: Path, device_name: str | None, url: str | None, profile: str | None, mode: str
) -> None:
    """Report a printer's status and print a self-test page.

    The page shows every Azerbaijani letter in both cases, Cyrillic, the profile and the code
    pages in use, so a technician sees at a glance that the profile is right.
    """
    from hardware.layout import build_self_test
    from hardware.printers import PrinterError
    from server.live.printing import check_printer, printer_for

    if device_name:
        with open_store(data_dir).read() as conn:
            device = accounts.device_by_name(conn, device_name)
        if device is None:
            raise click.ClickException(f"No device '{device_name}': see dostq's admin pages.")
        if not device.printer:
            raise click.ClickException(f"Device '{device_name}' has no printer configured.")
        url, mode = device.printer, device.print_mode
        profile = profile or device.printer_profile
    if not url:
        raise click.UsageError("Name a --device or a printer --url.")
    profile = profile or "TM-T20II"
    try:
        check_printer(url, profile, data_dir.resolve())
    except QueueError as exc:
        raise click.ClickException(exc.message) from exc
    target = printer_for(device_name or "printer", url, data_dir.resolve(), profile)
    status = target.status()
    click.echo(f"Status: {status.state.value} - {status.message}")
    if not status.printable:
        raise click.ClickException("Not printing the test page until the printer is ready.")
    try:
        target.send(build_self_test(mode, profile, status_line=f"{status.state.value}"))
    except PrinterError as exc:
        raise click.ClickException(f"The test page did not print: {exc}") from exc
    click.echo(
        f"Self-test page sent ({profile}, {mode} mode). Check every letter: "
        "Əə Ğğ İı Şş Çç Öö Üü; if any is wrong, the profile is: try another."
    )


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
