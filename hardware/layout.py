"""Ticket and self-test layouts as ESC/POS bytes, for one printer profile, in one of two modes.

- ``text``: the printer's own Font A, wrapped at the profile's columns. Latin letters go through
  the profile's best Latin code page (its PC857 slot where it has one), Cyrillic through its
  PC866 (or 1251) slot; every Azerbaijani letter that page lacks (ə and Ə always; ğ ı İ ş on a
  printer without PC857) is sent with the job as a user-defined character (ESC &, ESC % 1) on
  an ASCII code a ticket does not need. So even the ``simple`` profile prints Azerbaijani right.
  A Cyrillic line on a printer with no Cyrillic page is drawn instead. About 600 bytes.
- ``raster``: lines with letters outside ASCII drawn with the bundled DejaVu font and sent as
  cropped bitmaps (GS v 0), never wider than the profile's dots; ASCII lines and the big number
  stay text. Identical on every brand; for printers whose code pages cannot be trusted.

The QR code is the printer's own (GS ( k) where the profile has it, else a compact bitmap;
error correction M either way. python-escpos builds every standard command (its Dummy printer
records the bytes); only the user-defined characters, which it has no API for, are written raw.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from PIL import Image

from hardware.glyphs import render_lines, user_defined_glyph
from hardware.profiles import DEFAULT_PROFILE, PrinterProfile, with_text_pages
from hardware.profiles import get as get_profile
from hardware.ticket import TicketPrint

MODES = ("text", "raster")
AZERBAIJANI = "ƏəĞğİıŞşÇçÖöÜü"  # every letter of the alphabet outside ASCII
# Latin pages in the order we prefer them when several cover the text equally.
LATIN_PAGES = ("cp857", "cp1254", "iso8859_9", "cp850", "cp437", "cp1252")
CYRILLIC_PAGES = ("cp866", "cp1251", "iso8859_5", "cp855")
# ASCII codes a ticket never needs, redefined as letters; each is folded out of the text
# once it stands for a letter. Two runs, so two ESC & commands at most.
UDC_CODES = "[\\]^_`{|}~"
UDC_FOLDED = {"[": "(", "\\": "/", "]": ")", "^": "'", "_": "-", "`": "'", "{": "(", "|": "/",
              "}": ")", "~": "-"}  # fmt: skip
# Marks no code page has, as their plain equivalents.
PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "«": '"', "»": '"', "’": "'", "“": '"', "”": '"', "№": "N", "…": "..."}
)
ESC = b"\x1b"
CANCEL_CHINESE = b"\x1c."  # FS . : cancel Kanji/Chinese character mode
BIG = 4  # the ticket number's magnification (width and height)
BODY_PX = 20  # raster lines: DejaVu at Font A's height
# ESC * sends a bitmap in 24-row stripes (8-row on an impact head): a 25-row line would cost two.
COLUMN_BODY_PX = 19  # its lines 24 rows high (LINE_SPACING)
# A QR the printer cannot draw is sent as an image of at most this many bytes. Its modules are
# printed 6 dots (0.75 mm) wide like the native ones where they fit: a GS v 0 printer is sent
# 3-dot modules at double width and height (quadruple mode), a quarter of the bytes.
QR_IMAGE_MAX_BYTES = 3072
QR_MODULE_DOTS = (6, 4)  # printed, largest first (halved when the printer doubles)
QR_QUIET_MODULES = 4  # ISO/IEC 18004's quiet zone: a 2-module one failed a blur test sooner

# Each at most 32 characters, so a 58 mm printer shows one per line too.
SELF_TEST_LINES = [
    "Aa Bb Cc Çç Dd Ee Əə Ff Gg Ğğ",
    "Hh Xx Iı İi Jj Kk Qq Ll Mm Nn",
    "Oo Öö Pp Rr Ss Şş Tt Uu Üü Vv",
    "Yy Zz 0123456789 .,:;-+*/()%#",
    "АаБбВвГгДдЕеЁёЖжЗзИиЙй",
    "КкЛлМмНнОоПпРрСсТтУуФф",
    "ХхЦцЧчШшЩщЪъЫыЬьЭэЮюЯя",
]


def _cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


def clean(text: str) -> str:
    """Return text with typographic marks as plain ones (no printer page has them).

    A control character becomes a space: in the byte stream it would be a printer command
    (ESC @ resets, GS V cuts), whatever name brought it (one stored before names were checked).
    """
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return unicodedata.normalize("NFC", text).translate(PUNCTUATION)


def _encodable(char: str, codec: str | None) -> bool:
    if codec is None:
        return char.isascii()
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


class TextEncoder:
    """How one job's text reaches one printer: code page slots and user-defined letters."""

    def __init__(self, profile: PrinterProfile, texts: Iterable[str]) -> None:
        self.profile = profile
        chars = {c for text in texts for c in clean(text) if not c.isascii()}
        latin = {c for c in chars if not _cyrillic(c)}
        present = [page for page in LATIN_PAGES if profile.slot(page) is not None]
        # The page that leaves the fewest letters to define, preferring the order above.
        self.latin = min(
            present,
            key=lambda page: sum(not _encodable(c, page) for c in latin),
            default=None,
        )
        self.cyrillic = cyrillic_page(profile)
        missing = sorted(c for c in latin if c in AZERBAIJANI and not _encodable(c, self.latin))
        self.user_defined = dict(zip(missing, UDC_CODES, strict=False))
        self._folds = str.maketrans({code: UDC_FOLDED[code] for code in self.user_defined.values()})

    def definitions(self) -> bytes:
        """Return the ESC & commands defining this job's letters, and ESC % 1 to use them."""
        if not self.user_defined:
            return b""
        by_code = {ord(code): letter for letter, code in self.user_defined.items()}
        commands = b""
        for first, last in _runs(sorted(by_code)):
            glyphs = b"".join(user_defined_glyph(by_code[c]) for c in range(first, last + 1))
            commands += ESC + b"&\x03" + bytes([first, last]) + glyphs
        return commands + ESC + b"%\x01"

    def pieces(self, text: str) -> list[tuple[str | None, bytes]]:
        """Split a line into (codec to select, bytes) pieces; None keeps the current page."""
        text = clean(text).translate(self._folds)
        pieces: list[tuple[str | None, bytes]] = []
        for char in text:
            if char in self.user_defined:
                codec, data = None, self.user_defined[char].encode()
            elif char.isascii():
                codec, data = None, char.encode()
            else:
                codec = self.cyrillic if _cyrillic(char) else self.latin
                data = _encode_or_fold(char, codec)
            if pieces and (codec is None or codec == pieces[-1][0]):
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + data)
            else:
                pieces.append((codec, data))
        return pieces


def cyrillic_page(profile: PrinterProfile) -> str | None:
    """Return the profile's Cyrillic code page, or None (Cyrillic is then drawn)."""
    return next((page for page in CYRILLIC_PAGES if profile.slot(page) is not None), None)


def _encode_or_fold(char: str, codec: str | None) -> bytes:
    """Encode a letter on its page; one the page lacks becomes its base letter (é -> e)."""
    if codec is not None and _encodable(char, codec):
        return char.encode(codec)
    base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore")
    return base or b"?"


def _runs(codes: list[int]) -> list[tuple[int, int]]:
    """Group sorted codes into contiguous (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return runs


@dataclass(frozen=True)
class Block:
    """One part of a page: a line of text, the big number, or the QR code."""

    kind: str  # "line", "big" or "qr"
    text: str
    bold: bool = False


class _Page:
    """Writes blocks for one profile and mode, tracking the printer's code page."""

    def __init__(self, profile: PrinterProfile, mode: str, blocks: list[Block]) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.profile = profile
        self.text_mode = mode == "text"
        self.printer = Dummy(profile=profile.name)
        _set_width(self.printer.profile, profile.dots)
        self.encoder = TextEncoder(profile, [b.text for b in blocks if self._as_text(b)])
        self.page: str | None = None
        self.bold, self.size = False, 1

    def _as_text(self, block: Block) -> bool:
        if block.kind == "big":
            return True
        if block.kind != "line":
            return False
        if self.text_mode:  # a Cyrillic line needs a Cyrillic page
            return cyrillic_page(self.profile) is not None or not any(map(_cyrillic, block.text))
        return clean(block.text).isascii()

    def render(self, blocks: list[Block], first: bool = True, last: bool = True) -> bytes:
        """Return the blocks' bytes; ``first`` starts the job, ``last`` ends it (the cut)."""
        if first:
            self.printer.hw("INIT")
            # FS . first: cheap clones ship in Chinese (GB18030) mode, which ESC @ leaves on,
            # and then print Chinese glyphs for ı ş ğ and every Cyrillic letter (shared/notes).
            self.printer._raw(CANCEL_CHINESE)  # noqa: SLF001 (no API for FS .)
        # A later part's ASCII must not print as an earlier part's user-defined letters.
        definitions = self.encoder.definitions() or (b"" if first else ESC + b"%\x00")
        self.printer._raw(definitions)  # noqa: SLF001 (no API for ESC &)
        self.printer.set(align="center")
        drawn: list[Block] = []
        for block in blocks:
            if block.kind == "line" and not self._as_text(block):
                if drawn and drawn[-1].bold != block.bold:
                    self._draw(drawn)
                    drawn = []
                drawn.append(block)
                continue
            self._draw(drawn)
            drawn = []
            if block.kind == "line":
                self._style(block.bold, 1)
                self._text(block.text, self.profile.columns)
            elif block.kind == "big":
                self._style(True, BIG)
                self._text(block.text, self.profile.columns // BIG)
            else:
                self._qr(block.text)
        self._draw(drawn)
        if last:
            self.printer.cut()
        return bytes(self.printer.output)

    def _style(self, bold: bool, size: int) -> None:
        """Switch bold (ESC E) and magnification (GS !) only when they change."""
        if bold != self.bold:
            self.printer._raw(ESC + b"E" + bytes([bold]))  # noqa: SLF001
            self.bold = bold
        if size != self.size:
            self.printer._raw(b"\x1d!" + bytes([(size - 1) << 4 | (size - 1)]))  # noqa: SLF001
            self.size = size

    def _text(self, text: str, columns: int) -> None:
        """Write a line in Font A, wrapped at spaces (a word longer than a line stays whole)."""
        for part in textwrap.wrap(text, columns, break_long_words=False) or [""]:
            for codec, data in self.encoder.pieces(part):
                if codec is not None and codec != self.page:
                    self.printer._raw(ESC + b"t" + bytes([self.profile.slot(codec) or 0]))  # noqa: SLF001
                    self.page = codec
                self.printer._raw(data)  # noqa: SLF001 (already encoded for the page)
            self.printer._raw(b"\n")  # noqa: SLF001

    def _draw(self, blocks: list[Block]) -> None:
        if blocks:
            lines = [clean(b.text) for b in blocks]
            size = BODY_PX if self.profile.raster_images else COLUMN_BODY_PX
            for image in render_lines(lines, self.profile.dots, size, blocks[0].bold):
                self._image(image)

    def _qr(self, url: str) -> None:
        if self.profile.native_qr:
            self.printer.qr(url, ec=QR_ECLEVEL_M, size=6, native=True)
        elif self.profile.raster_images:  # 3-dot modules, printed 6 dots wide and tall
            image = qr_image(url, self.profile.dots, scale=(2, 2))
            self.printer.image(image, center=False, high_density_horizontal=False,
                               high_density_vertical=False)  # fmt: skip
        else:  # columns at single density: each printed twice as wide
            stripe = 8 if self.profile.impact else 24
            image = qr_image(url, self.profile.dots, scale=(2, 1), stripe=stripe)
            self.printer.image(image, impl="bitImageColumn", center=False,
                               high_density_horizontal=False,
                               high_density_vertical=not self.profile.impact)  # fmt: skip

    def _image(self, image: Image.Image) -> None:
        """Send a bitmap the way the model prints one, centred by ESC a like the text."""
        if self.profile.raster_images:
            self.printer.image(image, center=False)
        else:  # ESC * columns; an impact head knows only the 8-dot stripes
            self.printer.image(image, impl="bitImageColumn", center=False,
                               high_density_vertical=not self.profile.impact)  # fmt: skip


def _set_width(escpos_profile: Any, dots: int) -> None:
    """Give python-escpos' profile our width, so ``image()`` checks it (and stays quiet)."""
    data = escpos_profile.profile_data  # the class's: copied, never changed in place
    width = {**data["media"].get("width", {}), "pixels": dots}
    escpos_profile.profile_data = {**data, "media": {**data["media"], "width": width}}


def qr_image(
    url: str, max_dots: int, scale: tuple[int, int] = (1, 1), stripe: int = 1
) -> Image.Image:
    """Draw a QR code (error correction M) as a 1-bit image of at most QR_IMAGE_MAX_BYTES.

    ``scale``: the printer prints each dot of it this many times across and down (GS v 0's
    quadruple mode doubles both, ESC *'s single density the width), so it is drawn that much
    smaller and ``max_dots`` is the printed width. ``stripe``: it is sent in stripes of this
    many rows (ESC *), the last one padded; a quiet zone of 3 modules is then taken where 4
    would not fit the budget (the paper's margins and the line spacing around it are blank).
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    across, down = scale
    choices = [(dots, border) for dots in QR_MODULE_DOTS if dots % across == dots % down == 0
               for border in (QR_QUIET_MODULES, QR_QUIET_MODULES - 1)]  # fmt: skip
    for dots, border in choices:
        side = (code.modules_count + 2 * border) * dots  # printed
        sent_rows = -(-side // down // stripe) * stripe
        if side <= max_dots and (side // across + 7) // 8 * sent_rows <= QR_IMAGE_MAX_BYTES:
            break
    code.box_size, code.border = dots, border
    image = code.make_image().get_image().convert("1")
    image = image.resize((image.width // across, image.height // down), Image.Resampling.NEAREST)
    width = (image.width + 7) // 8 * 8
    padded = Image.new("1", (width, image.height), 1)
    padded.paste(image, (0, 0))
    return padded


def ticket_blocks(ticket: TicketPrint) -> list[Block]:
    """Return what a ticket shows, top to bottom.

    No caption over the big number: a visitor reads it as the number anyway, and on the
    worst ticket those bytes are what keeps a serial printer's job within its budget.
    """
    lines = ticket.text_lines()
    return [
        Block("line", ticket.center, bold=True),
        Block("big", ticket.label),
        *(Block("line", line) for line in lines[:-1]),
        Block("qr", ticket.status_url),
        Block("line", ticket.issued_at),
        Block("line", lines[-1]),
    ]


def build_ticket(
    ticket: TicketPrint,
    mode: str = "text",
    profile: str = DEFAULT_PROFILE,
    text_pages: str | None = None,
) -> bytes:
    """Return the ESC/POS bytes of one ticket for a printer model, cut at the end.

    ``text_pages``: the model whose code-page numbering this printer was found to follow (its
    calibration ticket); None, the profile's own.
    """
    blocks = ticket_blocks(ticket)
    return _Page(with_text_pages(get_profile(profile), text_pages), mode, blocks).render(blocks)


def page_bytes(parts: list[tuple[PrinterProfile, str, list[Block]]]) -> bytes:
    """Return one job of several parts, each its own profile (numbering) and mode, cut once."""
    return b"".join(
        _Page(profile, mode, blocks).render(blocks, first=i == 0, last=i == len(parts) - 1)
        for i, (profile, mode, blocks) in enumerate(parts)
    )


def build_self_test(
    mode: str = "text",
    profile: str = DEFAULT_PROFILE,
    status_line: str = "",
    text_pages: str | None = None,
) -> bytes:
    """Return a self-test page: every Azerbaijani letter in both cases, Cyrillic and digits.

    Headed by the profile, its paper and the code pages in use, so a technician sees at a
    glance whether the profile is right; then a big number and a QR code.
    """
    model = with_text_pages(get_profile(profile), text_pages)
    tested = [*(Block("line", line) for line in SELF_TEST_LINES), Block("big", "Ə-042")]
    page = _Page(model, mode, tested)  # what the letters below need: Ə of the number too
    pages = f"Latin {page.encoder.latin or 'ASCII'}, Cyrillic {page.encoder.cyrillic or 'image'}"
    blocks = [
        Block("line", f"dost-queue: {profile}, {mode}, {model.paper}", bold=True),
        Block("line", pages),
        Block("line", f"User-defined: {''.join(page.encoder.user_defined) or 'none'}"),
        *tested,
        Block("qr", "https://dost.gov.az/"),
    ]
    if status_line:
        blocks.append(Block("line", status_line))
    return _Page(model, mode, blocks).render(blocks)
