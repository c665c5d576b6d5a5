"""Printer profiles: what a printer model can do, read from python-escpos' capability database.

The database (receipt-print-hq/escpos-printer-db, shipped inside python-escpos) knows 35 models.
Every layout decision comes from the profile: the paper width in dots and Font A columns, which
code page sits in which ``ESC t`` slot (makers number them differently: PC857 is slot 13 on an
Epson TM-T20II, 61 on a POS-5890 clone, 29 on a Rongta RP326 and absent on a TM-T88IV), and
whether the printer draws a QR code itself (``GS ( k``) or must be sent one as an image.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import stat
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any


def _pickle_folder() -> str:
    """Return a folder of this user's own for python-escpos' pickled capability database.

    python-escpos pickles its database into a fresh temp dir on every import unless told
    where; a kiosk running for months would fill /tmp with them. The folder is per user: one
    shared name let a root-owned folder stop the service's user from starting, and a pickle
    is code, so one planted by another user must never be loaded (then: a private new one).
    """
    folder = Path(tempfile.gettempdir()) / f"dostq-escpos-capabilities-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        return tempfile.mkdtemp(prefix="dostq-escpos-")
    return str(folder)


os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", _pickle_folder())
# python-escpos writes its pickle in place (truncate, then dump) when it finds none or an old
# one: a second process importing at that moment read half a file (EOFError; two test workers
# on a fresh install did). One import at a time per folder: the next reads the whole pickle.
with open(Path(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"]) / "import.lock", "a") as _lock:
    fcntl.flock(_lock, fcntl.LOCK_EX)
    from escpos.capabilities import CAPABILITIES

DEFAULT_PROFILE = "TM-T20II"  # 80 mm, 576 dots, native QR: the common Epson-class ticket printer
# Font A is 12 x 24 dots on every Epson-class printer, 58 mm or 80 mm.
FONT_A_WIDTH = 12


def _prints_tickets(data: dict[str, Any]) -> bool:
    # A customer display (AF-240, OCD-100, OCD-300) shows two lines and draws no image: listed
    # in the database beside the printers, it was accepted, and issuing answered 500.
    features = data.get("features", {})
    draws = any(features.get(f) for f in ("bitImageRaster", "bitImageColumn", "graphics"))
    return draws and "customer display" not in str(data.get("name", "")).lower()


# The ticket printers of python-escpos' capability database (customer displays left out).
PROFILE_NAMES: tuple[str, ...] = tuple(
    sorted((n for n, d in CAPABILITIES["profiles"].items() if _prints_tickets(d)), key=str.lower)
)


class UnknownProfile(ValueError):
    """No printer model of that name in the capability database."""


@dataclass(frozen=True)
class PrinterProfile:
    """What the layout needs to know about one printer model."""

    name: str
    dots: int  # printable width in dots (a multiple of 8)
    columns: int  # Font A characters per line
    native_qr: bool  # draws GS ( k QR codes itself
    cutter: bool  # cuts the ticket off; without one it is fed past the tear bar
    code_pages: dict[int, str]  # ESC t slot -> Python codec, only pages Python can encode
    # GS v 0 raster images. Without them (TM-U220, an impact printer), or where the database
    # says to avoid them (TH230), images go as ESC * columns.
    raster_images: bool = True
    impact: bool = False  # a dot-matrix head: ESC * images in 8-dot stripes only
    # What the technician must set on the printer itself for our ESC/POS to print right.
    needs: str = ""

    def slot(self, codec: str) -> int | None:
        """Return the lowest ESC t slot holding ``codec`` on this model, or None."""
        slots = [slot for slot, name in self.code_pages.items() if name == codec]
        return min(slots) if slots else None

    @property
    def paper(self) -> str:
        """Say the paper class, for people: '58 mm' or '80 mm'."""
        # 58 mm paper prints 48-54 mm (384-432 dots at 203 dpi), 80 mm paper 64-72 mm (512-576):
        # RP-F10-58mm's 432 dots were labelled 80 mm. An impact head's dots are coarser:
        # TM-U220's 400 dots span a 76 mm roll.
        if self.impact and not self.raster_images:
            return "76 mm"
        return "58 mm" if self.dots < 480 else "80 mm"


def _codec(escpos_name: str) -> str | None:
    """Map the database's code page name (CP857, ISO_8859-9, ...) to a Python codec."""
    name = escpos_name.lower().replace("iso_8859-", "iso8859_")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None  # "Unknown" slots and pages Python has no codec for


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


@cache
def get(name: str) -> PrinterProfile:
    """Return the profile of a printer model, or raise UnknownProfile naming the choices."""
    data = CAPABILITIES["profiles"].get(name)
    if data is not None and not _prints_tickets(data):
        raise UnknownProfile(
            f"'{name}' is a customer display ({data.get('name')}), not a ticket printer: "
            "choose the printer's own model."
        )
    if data is None:
        raise UnknownProfile(
            f"No printer profile '{name}'. Known models: {', '.join(PROFILE_NAMES)}."
        )
    fonts = data.get("fonts", {})
    font_a = _number((fonts.get("0") or {}).get("columns")) or 42
    # The database leaves the width "Unknown" for some models (default, simple, RP326): then
    # Font A's columns tell it, 12 dots each, which never prints past the paper's edge.
    dots = _number(data.get("media", {}).get("width", {}).get("pixels")) or font_a * FONT_A_WIDTH
    dots -= dots % 8
    # A few entries list columns that cannot be Font A (NT-80-V-UL says 12): trust the dots.
    columns = font_a if dots * 3 // 4 <= font_a * FONT_A_WIDTH <= dots else dots // FONT_A_WIDTH
    pages: dict[int, str] = {}
    for slot, page in (data.get("codePages") or {}).items():
        codec = _codec(str(page))
        if codec is not None:
            pages[int(slot)] = codec
    features = data.get("features", {})
    return PrinterProfile(
        name=name,
        dots=dots,
        columns=columns,
        native_qr=bool(features.get("qrCode")),
        cutter=bool(features.get("paperFullCut") or features.get("paperPartCut")),
        code_pages=pages,
        raster_images=bool(features.get("bitImageRaster"))
        and "use bitimagecolumn" not in str(data.get("notes", "")).lower(),
        impact="impact printer" in str(data.get("notes", "")).lower(),
        needs=STAR_EMULATION if features.get("starCommands") else "",
    )


# Star's own command set (Star Line Mode) is not ESC/POS: every job here is ESC/POS, which a
# Star printer follows only with its ESC/POS emulation on; the database's Star entries say so.
STAR_EMULATION = (
    "Star printer: switch it to ESC/POS emulation (Star's setting utility or memory switches) "
    "before use; in Star Line Mode it prints commands as garbage."
)


def with_text_pages(profile: PrinterProfile, pages_of: str | None) -> PrinterProfile:
    """Return ``profile`` with the code-page numbering of the model ``pages_of``.

    A clone's firmware numbers its code pages like some other model's (most like P822D's, a
    few like Epson's): the calibration ticket finds which, and that numbering is then used.
    """
    if pages_of is None or pages_of == profile.name:
        return profile
    return replace(profile, code_pages=get(pages_of).code_pages)
