"""Ticket printing figures: bytes of the worst ticket per printer model and mode, and its time.

The worst ticket is the one the shipped catalog can make: its longest service name and longest
documents in each language, at a center with a long name, three-digit queue figures and a long
LAN address in the QR. Text mode's budget is for printers that draw the QR themselves (a QR
bitmap alone is about 2.5 KB); raster's for every model.
"""

from __future__ import annotations

import statistics
import time

from hardware import profiles
from hardware.layout import build_ticket
from hardware.ticket import TicketPrint
from server.office.catalog_files import default_catalog_path, load_catalog
from server.settings import LANGUAGES

PROFILES = ("TM-T20II", "TM-T88IV", "POS-5890", "RP326", "simple")
BAUD_RATES = (9600, 115200)
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


def run() -> dict[str, float]:
    """Return the worst and typical bytes per mode, serial seconds and build time."""
    figures: dict[str, float] = {}
    worst = {lang: worst_ticket(lang) for lang in LANGUAGES}
    for mode in ("text", "raster"):
        sizes = {
            profile: max(len(build_ticket(worst[lang], mode, profile)) for lang in LANGUAGES)
            for profile in PROFILES
            if mode == "raster" or profiles.get(profile).native_qr
        }
        figures[f"ticket_bytes_{mode}_worst"] = max(sizes.values())
        for profile, size in sizes.items():
            figures[f"ticket_bytes_{mode}_worst_{profile}"] = size
        figures[f"ticket_bytes_{mode}_typical"] = len(build_ticket(TYPICAL, mode))
        for baud in BAUD_RATES:  # 8N1: 10 bits a byte
            figures[f"ticket_{mode}_worst_{baud}_baud_s"] = round(
                max(sizes.values()) * 10 / baud, 2
            )
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            build_ticket(worst["az"], mode)
            timings.append((time.perf_counter() - start) * 1000)
        figures[f"ticket_build_{mode}_ms"] = round(statistics.median(timings), 2)
    figures["ticket_bytes_text_worst_58mm_qr_image"] = max(
        len(build_ticket(worst[lang], "text", "POS-5890")) for lang in LANGUAGES
    )
    return figures
