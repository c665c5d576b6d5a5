"""Ticket printers: a status probe that never reads silence as "paper OK", and transports.

Transports only move bytes. ``make_printer(url)`` picks one by a URL in the configuration:

    tcp://10.0.0.21:9100          network printer (raw port 9100)
    serial:///dev/ttyUSB0?baud=9600   or any pyserial URL: serial:loop://, serial:socket://h:p
    usb:/dev/usb/lp0              USB printer through the kernel's usblp driver
    virtual:/path/to/folder       keeps each job as .bin and a .png preview (demo, tests)

Errors::

    PrinterError
     ├── PrinterUnavailable   could not connect: nothing was sent, safe to retry
     └── PrintInterrupted     failed after bytes were sent: the ticket may be partly printed
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import serial

DLE_EOT = b"\x10\x04"


class PrinterError(Exception):
    """A print job could not be completed."""


class PrinterUnavailable(PrinterError):
    """The printer could not be reached; nothing was sent."""


class PrintInterrupted(PrinterError):
    """The connection failed during the job; part of it may have printed."""


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


class Transport(Protocol):
    """A byte pipe to one printer."""

    def write(self, data: bytes) -> None: ...  # noqa: D102
    def read_byte(self) -> int | None: ...  # noqa: D102
    def close(self) -> None: ...  # noqa: D102


class TcpTransport:
    """A raw TCP connection (port 9100), opened per job."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def write(self, data: bytes) -> None:
        """Send all bytes."""
        self.sock.sendall(data)

    def read_byte(self) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        try:
            data = self.sock.recv(1)
        except TimeoutError:
            return None
        return data[0] if data else None

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


class SerialTransport:
    """A serial line (or any pyserial URL), with read and write timeouts."""

    def __init__(self, url: str, baudrate: int, timeout: float) -> None:
        real_port = "://" not in url
        self.port = serial.serial_for_url(
            url, baudrate=baudrate, timeout=timeout, write_timeout=30, exclusive=real_port or None
        )

    def write(self, data: bytes) -> None:
        """Send all bytes (raises SerialException on a pulled cable)."""
        self.port.write(data)
        self.port.flush()

    def read_byte(self) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        data = self.port.read(1)
        return data[0] if data else None

    def close(self) -> None:
        """Close the port."""
        self.port.close()


class DeviceFileTransport:
    """A printer device node, e.g. /dev/usb/lp0 from the kernel's usblp driver (USB printers)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.timeout = timeout

    def write(self, data: bytes) -> None:
        """Send all bytes."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def read_byte(self) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        ready, _, _ = select.select([self.fd], [], [], self.timeout)
        if not ready:
            return None
        data = os.read(self.fd, 1)
        return data[0] if data else None

    def close(self) -> None:
        """Close the device."""
        os.close(self.fd)


class TicketPrinter(Protocol):
    """What the spooler needs from a printer."""

    name: str

    def status(self) -> PrinterStatus: ...  # noqa: D102
    def send(self, data: bytes) -> None: ...  # noqa: D102


class EscposPrinter:
    """A real ESC/POS printer behind a transport opened for each job or status probe."""

    def __init__(self, name: str, connect: Callable[[], Transport]) -> None:
        self.name = name
        self._connect = connect

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
            replies = []
            for n in (1, 2, 4):
                transport.write(DLE_EOT + bytes([n]))
                replies.append(transport.read_byte())
        except (OSError, serial.SerialException):
            return status_of(PrinterState.OFFLINE)
        finally:
            _close_quietly(transport)
        return parse_status(*replies)

    def send(self, data: bytes) -> None:
        """Send one job and confirm it; PrinterUnavailable if nothing went out.

        A write can "succeed" into the kernel's buffers after the printer is gone, so the job
        counts as delivered only when the printer answers a status request sent after it on
        the same connection; otherwise PrintInterrupted.
        """
        transport = self._open()
        try:
            transport.write(data)
            transport.write(DLE_EOT + b"\x01")
            answer = transport.read_byte()
        except (OSError, serial.SerialException) as exc:
            raise PrintInterrupted(f"{self.name}: {exc}") from exc
        finally:
            _close_quietly(transport)
        if answer is None:
            raise PrintInterrupted(f"{self.name}: no answer after the job")


def _close_quietly(transport: Transport) -> None:
    # After an unplug, closing can raise too (termios "Input/output error"); the job's own
    # outcome has already been decided by then.
    try:
        transport.close()
    except (OSError, serial.SerialException):
        pass


class VirtualPrinter:
    """Keeps each job as ESC/POS bytes and a PNG preview; its state is set by a STATE file."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def status(self) -> PrinterStatus:
        """Return READY, or the state written in ``STATE`` (e.g. paper_out) to rehearse faults."""
        state_file = self.folder / "STATE"
        if state_file.exists():
            return status_of(PrinterState(state_file.read_text().strip()))
        return status_of(PrinterState.READY)

    def send(self, data: bytes) -> None:
        """Store the job and its preview."""
        from hardware.preview import render_preview

        if not self.status().printable:
            raise PrinterUnavailable(f"{self.name}: {self.status().message}")
        stem = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
        stem.with_suffix(".bin").write_bytes(data)
        render_preview(data).save(stem.with_suffix(".png"))

    def jobs(self) -> list[Path]:
        """Return the stored jobs' previews, newest first."""
        return sorted(self.folder.glob("*.png"), reverse=True)


def make_printer(name: str, url: str, timeout: float = 0.5) -> TicketPrinter:
    """Build the printer a configuration URL names."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        host, port = parts.hostname or "", parts.port or 9100
        return EscposPrinter(name, lambda: TcpTransport(host, port, timeout))
    if parts.scheme == "serial":
        target = url.removeprefix("serial:").removeprefix("//")
        target, _, query = target.partition("?")
        baudrate = int(parse_qs(query).get("baud", ["9600"])[0])
        return EscposPrinter(name, lambda: SerialTransport(target, baudrate, timeout))
    if parts.scheme == "usb":
        path = url.removeprefix("usb:")
        return EscposPrinter(name, lambda: DeviceFileTransport(path, timeout))
    if parts.scheme == "virtual":
        return VirtualPrinter(name, Path(parts.path or "printer"))
    raise ValueError(f"unknown printer URL {url!r}: use tcp://, serial:, usb: or virtual:")
