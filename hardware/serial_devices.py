"""Counter LED displays and clerk call keypads on serial lines.

The default line protocol (ASCII, one command per line ending CR LF; 9600 8N1 by default)
addresses devices by counter number, so one RS-485 bus can carry a whole hall::

    server -> display   SHOW <counter> <label>     e.g. "SHOW 5 A-042"
                        CLEAR <counter>
    keypad -> server    <counter> <key>            key: NEXT RECALL NOSHOW START FINISH

A vendor protocol is another class with the same three methods. A ``SerialLink`` keeps its
line open in its own thread, reconnects with backoff after an unplug, and keeps display
updates made meanwhile, so nothing ever waits on a device.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import serial

from hardware.printers import TTY_DEVICE

# pyserial's URL handlers that reach the network; every other handler (spy://, loop://,
# alt://, hwgrep://, cp2110://) opens files, other ports or nothing a counter needs.
NETWORK_LINES = ("socket", "rfc2217")


class BadLineUrl(ValueError):
    """A serial line's URL names something that is not a counter device's line."""


def check_line_url(url: str, network_hosts: Collection[str]) -> str:
    """Return ``url`` if it names a serial line, else raise BadLineUrl saying what would.

    A line is a tty (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``, or a link to a tty), or
    ``socket://HOST:PORT`` / ``rfc2217://HOST:PORT`` to a serial-to-Ethernet converter whose
    host the technician listed (``network_hosts``). Never a file, and never another host.
    """
    if url.startswith("/"):
        if TTY_DEVICE.match(url) or TTY_DEVICE.match(os.path.realpath(url)):
            return url
        raise BadLineUrl(f"'{url}': a serial line is a tty, e.g. /dev/ttyUSB0.")
    parts = urlsplit(url)
    if parts.scheme not in NETWORK_LINES:
        raise BadLineUrl(f"'{url}': use a tty (/dev/ttyUSB0), socket:// or rfc2217://.")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path or parts.query or parts.username:
        raise BadLineUrl(f"'{url}': a converter is {parts.scheme}://HOST:PORT.")
    if parts.hostname not in network_hosts:
        raise BadLineUrl(f"'{url}': {parts.hostname} is not a converter listed in SERIAL_HOSTS.")
    return url


class Key(StrEnum):
    """A key on a clerk's call keypad."""

    NEXT = "next"
    RECALL = "recall"
    NO_SHOW = "noshow"
    START = "start"
    FINISH = "finish"


@dataclass(frozen=True)
class KeyPress:
    """One key pressed at one counter."""

    counter: int
    key: Key


class LineProtocol:
    """The default protocol: readable lines, easy to implement in any LED or keypad firmware."""

    def show(self, counter: int, label: str) -> bytes:
        """Encode "show this number above this counter"."""
        return f"SHOW {counter} {label}\r\n".encode("ascii", "replace")

    def clear(self, counter: int) -> bytes:
        """Encode "blank this counter's display"."""
        return f"CLEAR {counter}\r\n".encode("ascii")

    def parse(self, line: bytes) -> KeyPress | None:
        """Decode a keypad line; anything else (noise, echoes, acks) is None."""
        parts = line.decode("ascii", "replace").split()
        if len(parts) != 2 or not parts[0].isdigit():
            return None
        try:
            return KeyPress(int(parts[0]), Key(parts[1].lower()))
        except ValueError:
            return None


class SerialLink:
    """One serial line, kept open by its own thread and reopened after an unplug."""

    def __init__(
        self,
        url: str,
        on_line: Callable[[bytes], None],
        on_state: Callable[[bool, str, str | None], None],
        baudrate: int = 9600,
        first_retry_s: float = 0.5,
        max_retry_s: float = 30.0,
    ) -> None:
        self.url = url
        self.on_line = on_line
        self.on_state = on_state
        self.baudrate = baudrate
        self.first_retry_s = first_retry_s
        self.max_retry_s = max_retry_s
        self.connected: bool | None = None  # None until the first attempt
        # Display updates made while unplugged are sent on reconnect (the newest 100).
        self._outbox: deque[bytes] = deque(maxlen=100)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the line's thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, daemon=True, name=f"serial-{self.url}"
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def send(self, data: bytes) -> None:
        """Queue bytes for the line; returns at once."""
        self._outbox.append(data)

    def _open(self) -> serial.SerialBase:
        real_port = "://" not in self.url
        return serial.serial_for_url(
            self.url,
            baudrate=self.baudrate,
            timeout=0.05,
            write_timeout=2,
            exclusive=real_port or None,
        )

    def _run(self) -> None:
        retry = self.first_retry_s
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError) as exc:
                self._set_state(False, f"cannot open {self.url}: {exc}", "cannot_open")
                self._stop.wait(retry)
                retry = min(retry * 2, self.max_retry_s)
                continue
            retry = self.first_retry_s
            self._set_state(True, f"{self.url} connected", None)
            try:
                self._serve(port)
            except (serial.SerialException, OSError) as exc:
                self._set_state(False, f"{self.url} lost: {exc}", "lost")
            finally:
                try:
                    port.close()
                except (serial.SerialException, OSError):
                    pass  # closing an unplugged port can fail too

    def _serve(self, port: serial.SerialBase) -> None:
        buffer = b""
        while not self._stop.is_set():
            while self._outbox:
                port.write(self._outbox[0])
                self._outbox.popleft()  # only once written: an unplug keeps it queued
            chunk = port.read(256)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    self.on_line(line.strip())

    def _set_state(self, connected: bool, message: str, problem: str | None) -> None:
        # Report changes only: a line that stays unplugged is told once, not every retry.
        # ``problem`` names it for staff (in their words); ``message`` is pyserial's, for the log.
        if connected is not self.connected:
            self.connected = connected
            self.on_state(connected, message, problem)
