"""How bytes reach a ticket printer: a TCP socket, a serial line or a device file.

A transport only moves bytes (write, read one byte with a timeout, close); what the bytes
mean, and whether a job printed, is hardware/printers.py's.
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable
from typing import Protocol

import serial

# A serial printer without flow control: what its receive buffer surely holds (Epson's is
# 4 KB), and the rate we feed it beyond that, well under what any printer prints (about
# 9 mm/s of 576-dot raster), so no byte of an image is dropped and read as a command. A line
# slower than that (9600 Bd: 960 B/s) is never slowed further.
SERIAL_BUFFER_BYTES = 4096
PACED_BYTES_PER_S = 6000
PACED_CHUNK_BYTES = 512


class Transport(Protocol):
    """A byte pipe to one printer."""

    def write(self, data: bytes) -> None: ...  # noqa: D102
    def read_byte(self, timeout: float | None = None) -> int | None: ...  # noqa: D102
    def close(self) -> None: ...  # noqa: D102


class TcpTransport:
    """A raw TCP connection (port 9100), opened per job."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def write(self, data: bytes) -> None:
        """Send all bytes."""
        self.sock.sendall(data)

    def read_byte(self, timeout: float | None = None) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        self.sock.settimeout(timeout or self.timeout)
        try:
            data = self.sock.recv(1)
        except TimeoutError:
            return None
        return data[0] if data else None

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


class SerialTransport:
    """A serial line (or a pyserial URL in tests), with timeouts and the line's flow control.

    Without flow control a job larger than the printer's buffer is paced: the buffer's worth
    at line speed, the rest at PACED_BYTES_PER_S.
    """

    def __init__(
        self,
        url: str,
        baudrate: int,
        timeout: float,
        flow: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        real_port = "://" not in url
        self.flow = flow
        self.sleep, self.clock = sleep, clock
        self.port = serial.serial_for_url(
            url,
            baudrate=baudrate,
            timeout=timeout,
            write_timeout=30,
            exclusive=real_port or None,
            rtscts=flow == "rtscts",
            dsrdtr=flow == "dsrdtr",
            xonxoff=flow == "xonxoff",
        )

    def write(self, data: bytes) -> None:
        """Send all bytes (raises SerialException on a pulled cable)."""
        if self.flow is not None or len(data) <= SERIAL_BUFFER_BYTES:
            self.port.write(data)
        else:
            self.port.write(data[:SERIAL_BUFFER_BYTES])
            self.port.flush()
            for start in range(SERIAL_BUFFER_BYTES, len(data), PACED_CHUNK_BYTES):
                # A chunk's time at the paced rate, less what sending it took: the wait came
                # on top of the line's own time, 0.83 KB/s at 9600 Bd and 3.9 KB/s at 115200.
                began = self.clock()
                self.port.write(data[start : start + PACED_CHUNK_BYTES])
                self.port.flush()
                rest = PACED_CHUNK_BYTES / PACED_BYTES_PER_S - (self.clock() - began)
                if rest > 0:
                    self.sleep(rest)
        self.port.flush()

    def read_byte(self, timeout: float | None = None) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        if timeout is not None:
            self.port.timeout = timeout
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

    def read_byte(self, timeout: float | None = None) -> int | None:
        """Return one byte, or None if none came within the timeout."""
        ready, _, _ = select.select([self.fd], [], [], timeout or self.timeout)
        if not ready:
            return None
        data = os.read(self.fd, 1)
        return data[0] if data else None

    def close(self) -> None:
        """Close the device."""
        os.close(self.fd)
