"""Ticket printers: a status probe that never reads silence as "paper OK", and transports.

Transports only move bytes. ``make_printer(url)`` picks one by a URL in the configuration, and
a URL names a printer and nothing else (``check_url``):

    tcp://10.0.0.21:9100                      network printer (raw port, 9100 by default)
    serial:/dev/ttyUSB0?baud=9600&flow=rtscts   a tty; flow rtscts, dsrdtr or xonxoff
    usb:/dev/usb/lp0                          USB printer through the kernel's usblp driver
    virtual:printer-kiosk-1                   a folder inside the data folder: each job kept
                                              as .bin and a .png preview (demo, tests)

A job counts as printed only when the printer, asked after the job, answers that it is fine.
Errors::

    PrinterError
     ├── PrinterUnavailable   could not connect: nothing was sent, safe to retry
     └── PrintInterrupted     failed after bytes were sent: the ticket may be partly printed
          └── PrintUnconfirmed   no answer after the job: check the printer, never "printed"
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import serial

from hardware.transports import DeviceFileTransport, SerialTransport, TcpTransport, Transport

DLE_EOT = b"\x10\x04"
# After a job the printer answers its status once it has taken the job in; a busy printer
# may take a while, so a late answer is waited for this long before "unknown".
CONFIRM_WITHIN_S = 5.0
FLOW_CONTROLS = ("rtscts", "dsrdtr", "xonxoff")
USB_DEVICE = re.compile(r"^/dev/(usb/lp\d+|lp\d+)$")
TTY_DEVICE = re.compile(r"^/dev/(tty[A-Za-z]*\d+|pts/\d+|serial/by-(id|path)/[\w.:+@-]+)$")
AGENT_URL = "agent:"
VIRTUAL_FOLDER = re.compile(r"^printer(-[A-Za-z0-9_]+)*$")


class PrinterError(Exception):
    """A print job could not be completed."""


class PrinterUnavailable(PrinterError):
    """The printer could not be reached; nothing was sent."""


class PrintInterrupted(PrinterError):
    """The job failed after bytes were sent; part of it may have printed."""


class PrintUnconfirmed(PrintInterrupted):
    """The printer did not answer after the job: whether it printed is unknown."""


class BadPrinterUrl(ValueError):
    """A printer URL that names something other than a printer."""


class PrinterState(StrEnum):
    """What staff need to know about a printer."""

    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    ERROR = "error"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


PRINTABLE = frozenset({PrinterState.READY, PrinterState.PAPER_NEAR_END})
MESSAGES = {
    PrinterState.READY: "Printer ready.",
    PrinterState.PAPER_NEAR_END: "Paper is running low: load a new roll soon.",
    PrinterState.PAPER_OUT: "Printer is out of paper: load a new roll.",
    PrinterState.COVER_OPEN: "Printer cover is open: close it.",
    PrinterState.ERROR: "Printer reports an error (cutter or head): check it.",
    PrinterState.OFFLINE: "Printer does not answer: check power and cable.",
    PrinterState.UNKNOWN: "Printer gave an unexpected answer: check its model settings.",
}


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's state and a message for the person who can fix it."""

    state: PrinterState
    message: str

    @property
    def printable(self) -> bool:
        """Tell whether a ticket can be printed now."""
        return self.state in PRINTABLE


def status_of(state: PrinterState) -> PrinterStatus:
    """Return the status for ``state`` with its standard message."""
    return PrinterStatus(state, MESSAGES[state])


def parse_status(
    printer: int | None, offline_cause: int | None, paper: int | None
) -> PrinterStatus:
    """Read the replies to DLE EOT 1, 2 and 4 (None: no reply within the timeout)."""
    if printer is None:
        return status_of(PrinterState.OFFLINE)
    # Every status byte has bits 1 and 4 set and bits 0 and 7 clear.
    if any(b is not None and b & 0x93 != 0x12 for b in (printer, offline_cause, paper)):
        return status_of(PrinterState.UNKNOWN)
    if paper is not None and paper & 0x60:
        return status_of(PrinterState.PAPER_OUT)
    if printer & 0x08:
        cause = offline_cause or 0
        if cause & 0x04:
            return status_of(PrinterState.COVER_OPEN)
        if cause & 0x20:
            return status_of(PrinterState.PAPER_OUT)
        if cause & 0x40:
            return status_of(PrinterState.ERROR)
        return status_of(PrinterState.OFFLINE)
    if paper is not None and paper & 0x0C:
        return status_of(PrinterState.PAPER_NEAR_END)
    if paper is None:
        return status_of(PrinterState.UNKNOWN)
    return status_of(PrinterState.READY)


class TicketPrinter(Protocol):
    """What the spooler needs from a printer."""

    name: str

    def status(self) -> PrinterStatus: ...  # noqa: D102
    def send(self, data: bytes) -> PrinterStatus: ...  # noqa: D102


class EscposPrinter:
    """A real ESC/POS printer behind a transport opened for each job or status probe."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Transport],
        confirm_within_s: float = CONFIRM_WITHIN_S,
    ) -> None:
        self.name = name
        self._connect = connect
        self.confirm_within_s = confirm_within_s

    def _open(self) -> Transport:
        try:
            return self._connect()
        except (OSError, serial.SerialException) as exc:
            raise PrinterUnavailable(f"{self.name}: {exc}") from exc

    def status(self) -> PrinterStatus:
        """Ask DLE EOT 1, 2 and 4; silence means offline, never "paper OK"."""
        try:
            transport = self._open()
        except PrinterUnavailable:
            return status_of(PrinterState.OFFLINE)
        try:
            return _ask_status(transport)
        except (OSError, serial.SerialException):
            return status_of(PrinterState.OFFLINE)
        finally:
            _close_quietly(transport)

    def send(self, data: bytes) -> PrinterStatus:
        """Send one job and decide, from the printer's own answer, whether it printed.

        A write can "succeed" into the kernel's buffers after the printer is gone, so the job
        counts as printed only when the printer, asked on the same connection after the job,
        answers within ``confirm_within_s`` and its status is fine (paper near its end is
        fine, and said). No answer: PrintUnconfirmed. Paper out, cover open or an error
        after the job: PrintInterrupted with that reason. Nothing sent: PrinterUnavailable.
        """
        transport = self._open()
        try:
            transport.write(data)
            status = _ask_status(transport, within_s=self.confirm_within_s)
        except (OSError, serial.SerialException) as exc:
            raise PrintInterrupted(f"{self.name}: {exc}") from exc
        finally:
            _close_quietly(transport)
        if status.state is PrinterState.OFFLINE:
            raise PrintUnconfirmed(
                f"{self.name}: no answer within {self.confirm_within_s:.0f} s after the job"
            )
        if not status.printable:
            raise PrintInterrupted(f"{self.name}: {status.message}")
        return status


def _ask_status(transport: Transport, within_s: float | None = None) -> PrinterStatus:
    """Ask DLE EOT 1, 2 and 4 in turn, each answer awaited ``within_s`` (else the timeout)."""
    replies: list[int | None] = []
    for n in (1, 2, 4):
        transport.write(DLE_EOT + bytes([n]))
        replies.append(transport.read_byte(within_s))
        if replies[0] is None:
            break  # silent: offline, asking on would only wait again
    return parse_status(*replies, *[None] * (3 - len(replies)))


def _close_quietly(transport: Transport) -> None:
    # After an unplug, closing can raise too (termios "Input/output error"); the job's own
    # outcome has already been decided by then.
    try:
        transport.close()
    except (OSError, serial.SerialException):
        pass


class VirtualPrinter:
    """Keeps each job as ESC/POS bytes and a PNG preview; its state is set by a STATE file."""

    def __init__(
        self,
        name: str,
        folder: Path,
        code_pages: dict[int, str] | None = None,
        dots: int | None = None,
    ) -> None:
        self.name = name
        self.folder = folder
        self.code_pages = code_pages  # the printer model's slot table, for the preview
        self.dots = dots  # its paper's printable width, for the preview
        folder.mkdir(parents=True, exist_ok=True)

    def status(self) -> PrinterStatus:
        """Return READY, or the state written in ``STATE`` (e.g. paper_out) to rehearse faults."""
        state_file = self.folder / "STATE"
        if state_file.exists():
            return status_of(PrinterState(state_file.read_text().strip()))
        return status_of(PrinterState.READY)

    def send(self, data: bytes) -> PrinterStatus:
        """Store the job and its preview."""
        from hardware.decode import CODE_PAGES
        from hardware.preview import render_preview

        status = self.status()
        if not status.printable:
            raise PrinterUnavailable(f"{self.name}: {status.message}")
        stem = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
        stem.with_suffix(".bin").write_bytes(data)
        preview = render_preview(data, self.code_pages or CODE_PAGES, self.dots or 576)
        preview.save(stem.with_suffix(".png"))
        return status

    def jobs(self) -> list[Path]:
        """Return the stored jobs' previews, newest first."""
        return sorted(self.folder.glob("*.png"), reverse=True)


class RefusedPrinter:
    """Stands for a printer whose URL was refused: staff see why, and no job is sent."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def status(self) -> PrinterStatus:
        """Report the refusal as the printer's error, for the person who can fix the URL."""
        return PrinterStatus(PrinterState.ERROR, f"Printer URL refused: {self.reason}")

    def send(self, data: bytes) -> PrinterStatus:
        """Send nothing."""
        raise PrinterUnavailable(f"{self.name}: printer URL refused: {self.reason}")


def check_url(url: str, data_dir: Path | None = None) -> str:
    """Return ``url`` if it names a printer, else raise BadPrinterUrl saying what would.

    ``usb:`` only a printer device node, ``serial:`` only a tty, ``virtual:`` only a folder
    inside ``data_dir``, ``tcp:`` a host and port (9100 unless given); ``agent:`` the kiosk's
    edge agent. Nothing else: a printer URL must never open the center's own files.
    """
    parts = urlsplit(url)
    if url == AGENT_URL:
        return url
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = -1
        if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
            raise BadPrinterUrl(f"'{url}': a network printer is tcp://HOST or tcp://HOST:PORT.")
        if port is not None and not 0 < port < 65536:
            raise BadPrinterUrl(f"'{url}': the port must be 1 to 65535 (printers use 9100).")
        return url
    if parts.scheme == "serial":
        path, flow, _ = _serial_parts(url)
        if not TTY_DEVICE.match(path):
            raise BadPrinterUrl(f"'{url}': a serial printer is a tty, e.g. serial:/dev/ttyUSB0.")
        if flow is not None and flow not in FLOW_CONTROLS:
            raise BadPrinterUrl(f"'{url}': flow must be one of {', '.join(FLOW_CONTROLS)}.")
        return url
    if parts.scheme == "usb":
        if not USB_DEVICE.match(url.removeprefix("usb:")):
            raise BadPrinterUrl(f"'{url}': a USB printer is usb:/dev/usb/lpN (or usb:/dev/lpN).")
        return url
    if parts.scheme == "virtual":
        _virtual_folder(url, data_dir, "printer")
        return url
    raise BadPrinterUrl(f"'{url}': use tcp://, serial:, usb:, virtual: or agent:.")


def _serial_parts(url: str) -> tuple[str, str | None, int]:
    target, _, query = url.removeprefix("serial:").removeprefix("//").partition("?")
    options = parse_qs(query)
    try:
        baudrate = int(options.get("baud", ["9600"])[0])
    except ValueError as exc:
        raise BadPrinterUrl(f"'{url}': baud must be a number, e.g. ?baud=9600.") from exc
    return target, options.get("flow", [None])[0], baudrate


def _virtual_folder(url: str, data_dir: Path | None, default: str) -> Path:
    if data_dir is None:
        raise BadPrinterUrl(f"'{url}': a virtual printer needs the data folder it lives in.")
    name = url.removeprefix("virtual:") or default
    # Its own folder, named for what it is: "virtual:." or "virtual:backups" once kept jobs
    # among the database and its backups.
    if not VIRTUAL_FOLDER.match(name):
        raise BadPrinterUrl(
            f"'{url}': a virtual printer is a folder inside the data folder named "
            "printer or printer-NAME."
        )
    return (data_dir / name).resolve()


def _device_node(path: str, timeout: float) -> Callable[[], Transport]:
    def connect() -> Transport:
        # Checked again at every job: the node must still be a character device.
        if not stat.S_ISCHR(os.stat(path).st_mode):
            raise OSError(f"{path} is not a printer device")
        return DeviceFileTransport(path, timeout)

    return connect


def make_printer(
    name: str,
    url: str,
    data_dir: Path | None = None,
    timeout: float = 0.5,
    code_pages: dict[int, str] | None = None,
    confirm_within_s: float = CONFIRM_WITHIN_S,
    dots: int | None = None,
) -> TicketPrinter:
    """Build the printer a configuration URL names (checked first: see ``check_url``)."""
    if check_url(url, data_dir) == AGENT_URL:
        raise BadPrinterUrl(f"{name}: its printer is driven by the kiosk's edge agent.")
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        host, port = parts.hostname or "", parts.port or 9100
        return EscposPrinter(name, lambda: TcpTransport(host, port, timeout), confirm_within_s)
    if parts.scheme == "serial":
        target, flow, baudrate = _serial_parts(url)
        return EscposPrinter(
            name, lambda: SerialTransport(target, baudrate, timeout, flow), confirm_within_s
        )
    if parts.scheme == "usb":
        path = url.removeprefix("usb:")
        return EscposPrinter(name, _device_node(path, timeout), confirm_within_s)
    folder = _virtual_folder(url, data_dir, f"printer-{name}")
    return VirtualPrinter(name, folder, code_pages, dots)
