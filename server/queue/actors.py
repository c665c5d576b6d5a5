"""Who acts on the queue: a member of staff or an enrolled device, as plain frozen data."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# The printer URL of a kiosk whose printer hangs on the kiosk PC, driven by `dostq agent`.
AGENT_PRINTER = "agent:"


@dataclass(frozen=True)
class User:
    """A signed-in member of staff."""

    id: int
    username: str
    display_name: str
    role: str
    session_version: int
    language: str = "az"  # of the staff pages: az, ru or en


@dataclass(frozen=True)
class Device:
    """An enrolled kiosk, display or feedback tablet."""

    id: int
    name: str
    kind: str
    zone: str | None
    prints: bool
    printer: str | None = None  # URL of a printer the server drives for this kiosk
    print_mode: str = "raster"  # "text" only once calibrated (hardware/calibration.py)
    printer_profile: str = "TM-T20II"  # the printer's model (see hardware.profiles)
    counter_id: int | None = None  # the counter a feedback tablet stands on
    text_pages: str | None = None  # the model whose code-page numbering printed right


def device_from_row(row: sqlite3.Row) -> Device:
    """Shape a devices row."""
    return Device(
        row["id"],
        row["name"],
        row["kind"],
        row["zone"],
        bool(row["prints"]),
        row["printer"],
        row["print_mode"],
        row["printer_profile"],
        row["counter_id"],
        row["text_pages"],
    )
