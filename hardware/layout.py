"""Ticket and self-test layouts as ESC/POS bytes, in two modes a printer profile chooses.

- ``text``: the printer's own font. Azerbaijani through CP857 (ESC t 13), Cyrillic through
  CP866 (ESC t 17), and ə/Ə - which no printer code page has, and which python-escpos would
  silently print as "?" - sent with every job as two user-defined characters (ESC &, ESC % 1)
  on the codes of "}" and "~". About 600 bytes: right for serial printers.
- ``raster``: lines with non-ASCII letters drawn with the bundled DejaVu font and sent as
  cropped bitmaps (GS v 0); ASCII lines, the big number and the QR (GS ( k) stay native.
  Identical on every printer brand; about 10 KB, so for USB and network printers.

python-escpos builds every standard command (its Dummy printer records the bytes); only the
user-defined characters, which it has no API for, are written raw.
"""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
from pathlib import Path

from hardware.glyphs import render_lines, user_defined_glyph
from hardware.ticket import WORDING, TicketPrint

# python-escpos pickles its capability database into a fresh temp dir on every import unless
# told where; a kiosk running for months would fill /tmp with them.
_PICKLE_DIR = Path(
    os.environ.setdefault(
        "ESCPOS_CAPABILITIES_PICKLE_DIR",
        str(Path(tempfile.gettempdir()) / "dostq-escpos-capabilities"),
    )
)
_PICKLE_DIR.mkdir(exist_ok=True)
from escpos.printer import Dummy  # noqa: E402

MODES = ("text", "raster")
DEFAULT_PROFILE = "TM-T20II"  # 80 mm, 576 dots, native QR: the common Epson-class ticket printer
USER_DEFINED = {"Ə": "}", "ə": "~"}  # ESC & defines codes 0x7D..0x7E, in this order
# Characters that would collide with the user-defined codes, or that no code page has.
FOLDED = str.maketrans(
    {
        "}": ")",
        "~": "-",
        "—": "-",
        "–": "-",
        "«": '"',
        "»": '"',
        "’": "'",
        "“": '"',
        "”": '"',
        "№": "N",
    }
)
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
ESC = b"\x1b"

SELF_TEST_LINES = [
    "Aa Bb Cc Çç Dd Ee Əə Ff Gg Ğğ Hh Xx Iı İi",
    "Jj Kk Qq Ll Mm Nn Oo Öö Pp Rr Ss Şş Tt Uu",
    "Üü Vv Yy Zz",
    "АаБбВвГгДдЕеЁёЖжЗзИиЙйКкЛлМмНнОоПп",
    "РрСсТтУуФфХхЦцЧчШшЩщЪъЫыЬьЭэЮюЯя",
    "0123456789 .,:;-+*/()%#",
]


class _Writer:
    """Writes text lines in the printer's own font, switching code pages only when needed."""

    def __init__(self, printer: Dummy) -> None:
        self.printer = printer
        self.code_page: str | None = None

    def line(self, text: str, columns: int = 48) -> None:
        """Write one line, wrapped at spaces to the printer's columns (Font A: 48 on 80 mm)."""
        for part in textwrap.wrap(text, columns) or [""]:
            self._write(part)

    def _write(self, text: str) -> None:
        for run, cyrillic in _runs(text.translate(FOLDED)):
            page = "CP866" if cyrillic else "CP857"
            if page != self.code_page:
                self.printer.charcode(page)
                self.code_page = page
            self.printer.text("".join(USER_DEFINED.get(c, c) for c in run))
        self.printer.text("\n")


def _runs(text: str) -> list[tuple[str, bool]]:
    """Split text into runs of Cyrillic and non-Cyrillic letters (neutral marks join either)."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        cyrillic = bool(CYRILLIC.match(char))
        neutral = not char.isalpha()
        if runs and (neutral or runs[-1][1] == cyrillic):
            runs[-1] = (runs[-1][0] + char, runs[-1][1])
        else:
            runs.append((char, cyrillic))
    return runs


def _start(profile: str, text_mode: bool) -> Dummy:
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    if text_mode:
        glyphs = b"".join(user_defined_glyph(c) for c in USER_DEFINED)
        first, last = (ord(code) for code in USER_DEFINED.values())
        printer._raw(ESC + b"&\x03" + bytes([first, last]) + glyphs)  # noqa: SLF001
        printer._raw(ESC + b"%\x01")  # noqa: SLF001 (use the user-defined characters)
    printer.set(align="center")
    return printer


def _lines(
    printer: Dummy, writer: _Writer, lines: list[str], text_mode: bool, bold: bool = False
) -> None:
    """Print lines: as text in text mode or when ASCII; otherwise as one cropped bitmap."""
    if text_mode or all(line.isascii() for line in lines):
        printer.set(bold=bold)
        for line in lines:
            writer.line(line)
        printer.set(bold=False)
    else:
        width = printer.profile.profile_data["media"]["width"]["pixels"]
        printer.image(render_lines(lines, int(width), size=24, bold=bold), center=False)


def _big_number(printer: Dummy, writer: _Writer, label: str) -> None:
    printer.set(custom_size=True, width=4, height=4, bold=True)
    writer.line(label)
    printer.set(normal_textsize=True, bold=False)


def build_ticket(ticket: TicketPrint, mode: str = "text", profile: str = DEFAULT_PROFILE) -> bytes:
    """Return the ESC/POS bytes of one ticket, cut at the end."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    text_mode = mode == "text"
    printer = _start(profile, text_mode)
    writer = _Writer(printer)
    words = WORDING.get(ticket.language, WORDING["az"])
    _lines(printer, writer, [ticket.center], text_mode, bold=True)
    _lines(printer, writer, [words["number"]], text_mode)
    _big_number(printer, writer, ticket.label)
    _lines(printer, writer, ticket.text_lines()[:-1], text_mode)
    printer.qr(ticket.status_url, size=6, native=True)
    _lines(printer, writer, [ticket.issued_at], text_mode)
    _lines(printer, writer, ticket.text_lines()[-1:], text_mode)
    printer.cut()
    return bytes(printer.output)


def build_self_test(
    mode: str = "text", profile: str = DEFAULT_PROFILE, status_line: str = ""
) -> bytes:
    """Return a self-test page: every Azerbaijani letter, Cyrillic, digits, a QR, a big number."""
    text_mode = mode == "text"
    printer = _start(profile, text_mode)
    writer = _Writer(printer)
    _lines(printer, writer, [f"dost-queue · {mode} · {profile}"], text_mode, bold=True)
    _lines(printer, writer, SELF_TEST_LINES, text_mode)
    _big_number(printer, writer, "A-042")
    printer.qr("https://dost.gov.az/", size=6, native=True)
    if status_line:
        _lines(printer, writer, [status_line], text_mode)
    printer.cut()
    return bytes(printer.output)
