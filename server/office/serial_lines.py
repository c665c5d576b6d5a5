"""The serial lines of counter LED displays and keypads, as stored in the center's settings.

Which URL may be a line at all is hardware.serial_devices.check_line_url's (the admin page
and the CLI check both before storing; the server again before opening).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server.queue.errors import Invalid, NotFound
from server.queue.storage import get_setting, put_setting

# Rates counter LED displays and keypads use; anything else is a typo.
SERIAL_BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


def serial_lines(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the configured serial lines of counter LED displays and keypads."""
    lines: list[dict[str, Any]] = get_setting(conn, "serial_lines", [])
    return lines


def add_serial_line(conn: sqlite3.Connection, url: str, baudrate: int) -> dict[str, Any]:
    """Add (or change the rate of) a line: a port such as /dev/ttyUSB0 or a pyserial URL."""
    url = url.strip()
    if not url or len(url) > 200 or any(c.isspace() for c in url):
        raise Invalid("bad_line", "A line is a port (/dev/ttyUSB0) or URL, without spaces.", "url")
    if baudrate not in SERIAL_BAUDS:
        rates = ", ".join(map(str, SERIAL_BAUDS))
        raise Invalid("bad_baud", f"The rate must be one of {rates}.", "baudrate")
    line = {"url": url, "baudrate": baudrate}
    others = [other for other in serial_lines(conn) if other["url"] != url]
    put_setting(conn, "serial_lines", [*others, line])
    return line


def remove_serial_line(conn: sqlite3.Connection, url: str) -> None:
    """Remove a line; refuse one that is not configured."""
    lines = serial_lines(conn)
    if all(line["url"] != url for line in lines):
        known = ", ".join(line["url"] for line in lines) or "none"
        raise NotFound("unknown_line", f"No serial line {url[:200]} (the lines: {known}).", "url")
    put_setting(conn, "serial_lines", [line for line in lines if line["url"] != url])
