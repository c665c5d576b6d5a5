"""Ticket printing figures: bytes of the worst ticket per printer model and mode, and its time.

The worst ticket is the one the shipped catalog can make: its longest service name and longest
documents in each language, at a center with a long name, three-digit queue figures and a long
LAN address in the QR. Every model in python-escpos' database is measured in both modes
against its budget: text 600 bytes (3 KB more where the QR goes as a bitmap), raster 15 KB.
"""

from __future__ import annotations

import statistics
import time

from hardware import profiles
from hardware.layout import QR_IMAGE_MAX_BYTES, build_ticket, cyrillic_page
from hardware.ticket import TicketPrint
from hardware.transports import PACED_BYTES_PER_S, PACED_CHUNK_BYTES, SERIAL_BUFFER_BYTES
from server.office.catalog_files import default_catalog_path, load_catalog
from server.settings import LANGUAGES

BAUD_RATES = (9600, 115200)
RASTER_BUDGET = 15_000
TYPICAL = TicketPrint(
    center="DOST",
    label="A-042",
    service="Arayışların verilməsi",
    issued_at="23.11.2026 12:13",
    people_ahead=4,
    status_url="http://192.168.1.10:8080/t/AbCdEfGhIjKlMnOpQrStUv",
    wait_minutes=12,
)


def worst_ticket(language: str) -> TicketPrint:
    """Return the longest ticket the shipped catalog makes in ``language``."""
    services = [s for area in load_catalog(default_catalog_path()) for s in area.services]
    name = max((s.name.get(language) or s.name["az"] for s in services), key=len)
    lists = [s.documents.get(language) or s.documents.get("az") for s in services]
    return TicketPrint(
        center="Bakı şəhəri 1 nömrəli DOST mərkəzi",
        label="Ə-042",
        service=name,
        issued_at="23.11.2026 12:13",
        people_ahead=128,
        status_url="http://192.168.100.200:8080/t/AbCdEfGhIjKlMnOpQrStUv",
        language=language,
        wait_minutes=240,
        documents=max((d for d in lists if d), key=len, default=None),
    )


def serial_seconds(size: int, baud: int) -> float:
    """Return a job's time on a serial line without flow control, paced past the buffer."""
    line_s = 10 / baud  # 8N1: ten bits a byte
    beyond = max(0, size - SERIAL_BUFFER_BYTES)
    chunk_s = max(PACED_CHUNK_BYTES * line_s, PACED_CHUNK_BYTES / PACED_BYTES_PER_S)
    return round(min(size, SERIAL_BUFFER_BYTES) * line_s + beyond / PACED_CHUNK_BYTES * chunk_s, 2)


def text_budget(model: profiles.PrinterProfile) -> int:
    """Text within 600 bytes, and a QR the printer cannot draw as a bitmap within 3 KB more."""
    return 600 + (0 if model.native_qr else QR_IMAGE_MAX_BYTES)


def targets() -> dict[str, tuple[str, int]]:
    """The budget of every model's worst ticket in each mode, for bench's verdicts."""
    found: dict[str, tuple[str, int]] = {}
    for name in profiles.PROFILE_NAMES:
        found[f"ticket_bytes_text_worst_{name}"] = ("<=", text_budget(profiles.get(name)))
        found[f"ticket_bytes_raster_worst_{name}"] = ("<=", RASTER_BUDGET)
    return found


def run() -> dict[str, float]:
    """Return the worst bytes per model and mode, typical bytes, serial seconds, build time.

    Text mode's worst is over the languages the model prints as text: Russian on a model
    without a Cyrillic page is drawn, and counts against the raster budget.
    """
    figures: dict[str, float] = {}
    worst = {lang: worst_ticket(lang) for lang in LANGUAGES}
    for mode in ("text", "raster"):
        sizes = {}
        for name in profiles.PROFILE_NAMES:
            model = profiles.get(name)
            languages = [lang for lang in LANGUAGES if mode == "raster" or lang != "ru"
                         or cyrillic_page(model) is not None]  # fmt: skip
            sizes[name] = max(len(build_ticket(worst[lang], mode, name)) for lang in languages)
            figures[f"ticket_bytes_{mode}_worst_{name}"] = sizes[name]
        native = [size for name, size in sizes.items() if profiles.get(name).native_qr]
        figures[f"ticket_bytes_{mode}_worst"] = max(native if mode == "text" else sizes.values())
        figures[f"ticket_bytes_{mode}_typical"] = len(build_ticket(TYPICAL, mode))
        for baud in BAUD_RATES:
            figures[f"ticket_{mode}_worst_{baud}_baud_s"] = serial_seconds(
                max(sizes.values()), baud
            )
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            build_ticket(worst["az"], mode)
            timings.append((time.perf_counter() - start) * 1000)
        figures[f"ticket_build_{mode}_ms"] = round(statistics.median(timings), 2)
    return figures
