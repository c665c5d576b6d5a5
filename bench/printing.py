"""Ticket printing figures: bytes per ticket in each mode, and what that costs on a serial line."""

from __future__ import annotations

import statistics
import time

from hardware.layout import build_ticket
from hardware.ticket import TicketPrint

# A long real service name and a full set of lines: the worst ordinary ticket.
TICKET = TicketPrint(
    center="DOST Bakı 1 nömrəli mərkəz",
    label="D-042",
    service="Peşə hazırlığına cəlb olunan işsiz şəxsə verilən təqaüdün təyin edilməsi",
    issued_at="23.11.2026 12:13",
    people_ahead=12,
    status_url="https://192.168.1.10/t/AbCdEfGhIjKlMnOpQrStUv",
    wait_minutes=35,
)
BAUD_RATES = (9600, 115200)


def run() -> dict[str, float]:
    """Return bytes, serial transfer seconds (8N1: 10 bits a byte) and build time per mode."""
    figures: dict[str, float] = {}
    for mode in ("text", "raster"):
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            data = build_ticket(TICKET, mode)
            timings.append((time.perf_counter() - start) * 1000)
        figures[f"ticket_bytes_{mode}"] = len(data)
        figures[f"ticket_build_{mode}_ms"] = round(statistics.median(timings), 2)
        for baud in BAUD_RATES:
            figures[f"ticket_{mode}_{baud}_baud_s"] = round(len(data) * 10 / baud, 2)
    return figures
