"""Devices from the command line: serial lines, the kiosk PC's print agent, printer checks."""

from __future__ import annotations

import time
from pathlib import Path

import click

from server.cli.common import admin_change, data_dir_option, open_store
from server.office import accounts
from server.queue.storage import audit, get_setting, put_setting


@click.group("serial-line")
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


@click.group()
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
    from hardware.printers import PrinterError
    from server.live.printing import printer_for

    if device_name:
        with open_store(data_dir).read() as conn:
            device = accounts.device_by_name(conn, device_name)
        if device is None or not device.printer:
            raise click.ClickException(f"Device '{device_name}' has no printer configured.")
        url, mode = device.printer, device.print_mode
    if not url:
        raise click.UsageError("Name a --device or a printer --url.")
    target = printer_for(device_name or "printer", url, data_dir.resolve())
    status = target.status()
    click.echo(f"Status: {status.state.value} - {status.message}")
    if not status.printable:
        raise click.ClickException("Not printing the test page until the printer is ready.")
    try:
        target.send(build_self_test(mode, status_line=f"{status.state.value}"))
    except PrinterError as exc:
        raise click.ClickException(f"The test page did not print: {exc}") from exc
    click.echo(f"Self-test page sent ({mode} mode). Check every letter: Əə Ğğ İı Şş Çç Öö Üü.")


COMMANDS = (serial_line, agent, printer)
