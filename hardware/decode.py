"""An ESC/POS reader for the command subset tickets use.

It checks a byte stream is well formed and gives back its text (by the printer model's own
code page table: slot 13 is PC857 on an Epson, slot 61 on a POS-5890), bitmaps, QR payloads,
user-defined glyphs, which letter each glyph shows, and cuts.

Written from the ESC/POS command reference and the Font A cell (12 x 24 dots, baseline under
the 20th row), not from our layout code, so tests can check what a printer would make of our
bytes. Anything it does not know is an error, not skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

# Epson's own slot numbers -> Python codecs; other makers' tables come from their profile.
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    13: "cp857",
    16: "cp1252",
    17: "cp866",
    46: "cp1251",
    48: "cp1254",
}
# Commands with a fixed number of argument bytes after ESC x or GS x.
ESC_FIXED = {
    b"@": 0,
    b"!": 1,
    b"E": 1,
    b"-": 1,
    b"a": 1,
    b"M": 1,
    b"d": 1,
    b"G": 1,
    b"{": 1,
    b"V": 1,
    b"%": 1,
    b"t": 1,
    b"2": 0,
    b"3": 1,
    b"J": 1,
    b"=": 1,
}
GS_FIXED = {b"!": 1, b"B": 1, b"b": 1, b"H": 1, b"h": 1, b"w": 1, b"f": 1}
# Letters a user-defined glyph on an Azerbaijani ticket may stand for.
GLYPH_CANDIDATES = "ƏəĞğİıŞşÇçÖöÜü"
FONT_A_ROWS, FONT_A_BASELINE = 24, 19
# DejaVu sizes whose capitals match Font A's (15 to 16 dots): small letters then stay
# clearly shorter than capitals, so ə is never read as Ə.
GLYPH_SIZES = (19, 20, 21)
DEJAVU = Path(str(resources.files("hardware") / "fonts" / "DejaVuSans.ttf"))


class DecodeError(ValueError):
    """The stream is not valid ESC/POS (as far as this reader knows it)."""


@dataclass
class Decoded:
    """What a printer would do with a stream."""

    lines: list[str] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    user_glyphs: dict[int, bytes] = field(default_factory=dict)  # ESC & data: width, columns
    chinese_mode: bool | None = None  # FS & on, FS . off; None: never said (the printer's own)
    cuts: int = 0
    commands: list[str] = field(default_factory=list)
    code_pages_used: list[int] = field(default_factory=list)
    # Everything printed, in order: ("text", line, magnification), ("image", Image, 1),
    # ("qr", payload, 1).
    items: list[tuple[str, object, int]] = field(default_factory=list)

    def text(self) -> list[str]:
        """Return the printed lines with each user-defined glyph read as its letter."""
        letters = {f"<udc:{code:02x}>": read_glyph(g) for code, g in self.user_glyphs.items()}
        lines = []
        for line in self.lines:
            for marker, letter in letters.items():
                line = line.replace(marker, letter)
            lines.append(line)
        return lines


def glyph_image(glyph: bytes) -> Image.Image:
    """Return a Font A user-defined glyph (width byte, 3 bytes a column) as a 1-bit image."""
    width = glyph[0]
    image = Image.new("1", (width, FONT_A_ROWS), 1)
    for column in range(width):
        for row in range(FONT_A_ROWS):
            if glyph[1 + column * 3 + row // 8] & (0x80 >> (row % 8)):
                image.putpixel((column, row), 0)
    return image


def _ink_columns(image: Image.Image) -> Image.Image:
    box = ImageChops.invert(image.convert("L")).getbbox()
    if box is None:
        return image.crop((0, 0, 1, image.height))
    return image.crop((box[0], 0, box[2], image.height))


@cache
def _reference(letter: str, size: int, width: int) -> Image.Image:
    """Draw ``letter`` on Font A's baseline, its ink squeezed or stretched to ``width``."""
    canvas = Image.new("L", (64, FONT_A_ROWS), 255)
    face = ImageFont.truetype(str(DEJAVU), size)
    ImageDraw.Draw(canvas).text((16, FONT_A_BASELINE), letter, font=face, fill=0, anchor="ls")
    ink = _ink_columns(canvas.point(lambda v: 0 if v < 128 else 255).convert("1"))
    return ink.resize((width, FONT_A_ROWS), Image.Resampling.NEAREST)


def read_glyph(glyph: bytes) -> str:
    """Return the Azerbaijani letter a user-defined glyph shows most like (dot by dot)."""
    ink = _ink_columns(glyph_image(glyph))

    def differing_dots(letter: str, size: int) -> int:
        reference = _reference(letter, size, ink.width)
        return ImageChops.logical_xor(ink, reference).histogram()[255]

    return min(
        ((letter, size) for letter in GLYPH_CANDIDATES for size in GLYPH_SIZES),
        key=lambda pair: differing_dots(*pair),
    )[0]


def decode(data: bytes, code_pages: dict[int, str] = CODE_PAGES, firmware: bool = False) -> Decoded:
    """Decode ``data``; user-defined characters appear in text as ``<udc:7e>``.

    ``firmware``: read as a printer's firmware does, which ignores ``ESC t`` to a slot it does
    not have (the page stays), rather than refuse it (the calibration ticket tries slots).
    """
    result = Decoded()
    page, use_udc, line, i, scale = "cp437", False, "", 0, 1

    def need(count: int) -> bytes:
        if i + count > len(data):
            raise DecodeError(f"truncated command at byte {i}")
        return data[i : i + count]

    stripes: list[Image.Image] = []  # ESC * stripes of the bitmap being received

    while i < len(data):
        byte = data[i]
        if byte == 0x0A and stripes and not line:
            i += 1  # the line feed that moves past an ESC * stripe
            if data[i : i + 2] != b"\x1b*":
                _add_image(result, _join(stripes))
                stripes = []
        elif byte == 0x0A:
            result.lines.append(line)
            result.items.append(("text", line, scale))
            line, i = "", i + 1
        elif byte == 0x1B:
            command = need(2)[1:2]
            i += 2
            if command == b"*":
                m, nl, nh = need(3)
                if m not in (0, 1, 32, 33):
                    raise DecodeError(f"ESC * {m}: unknown bit-image mode")
                i += 3
                rows = 24 if m >= 32 else 8
                columns = need((nl + 256 * nh) * rows // 8)
                i += len(columns)
                stripe = _stripe(columns, nl + 256 * nh, rows)
                if m % 2 == 0:  # single density: each column printed twice as wide
                    stripe = stripe.resize((stripe.width * 2, rows), Image.Resampling.NEAREST)
                stripes.append(stripe)
            elif command == b"&":
                y, first, last = need(3)
                i += 3
                for code in range(first, last + 1):
                    width = need(1)[0]
                    result.user_glyphs[code] = need(1 + y * width)  # width byte, then columns
                    i += 1 + y * width
            elif command in ESC_FIXED:
                args = need(ESC_FIXED[command])
                i += len(args)
                if command == b"t":
                    if args[0] not in code_pages and not firmware:
                        raise DecodeError(f"ESC t {args[0]}: unknown code page slot")
                    page = code_pages.get(args[0], page)
                    result.code_pages_used.append(args[0])
                elif command == b"%":
                    use_udc = bool(args[0] & 1)
                elif command == b"!":
                    # ESC ! and GS ! both set the size; the later one wins (bit 4: double height).
                    scale = 2 if args[0] & 0x10 else 1
                result.commands.append(f"ESC {command.decode()}")
            else:
                raise DecodeError(f"unknown command ESC 0x{command.hex()} at byte {i - 2}")
        elif byte == 0x1D:
            command = need(2)[1:2]
            i += 2
            if command == b"V":
                mode = need(1)[0]
                i += 1 + (1 if mode in (65, 66) else 0)
                result.cuts += 1
            elif command == b"v":
                _zero, m, xl, xh, yl, yh = need(6)
                i += 6
                width_bytes, height = xl + 256 * xh, yl + 256 * yh
                raster = need(width_bytes * height)
                i += len(raster)
                image = Image.frombytes("1", (width_bytes * 8, height), bytes(raster))
                image = Image.eval(image.convert("L"), lambda v: 255 - v).convert("1")
                # m bit 0: each dot printed twice as wide; bit 1: twice as tall.
                printed = (image.width * (1 + (m & 1)), image.height * (1 + (m >> 1 & 1)))
                _add_image(result, image.resize(printed, Image.Resampling.NEAREST))
            elif command == b"(":
                function, pl, ph = need(3)
                i += 3
                payload = need(pl + 256 * ph)
                i += len(payload)
                if function == ord("k") and payload[:3] == b"1P0":
                    result.qr_codes.append(payload[3:].decode("ascii"))
                    result.items.append(("qr", result.qr_codes[-1], 1))
                elif function not in (ord("k"), ord("L")):
                    raise DecodeError(f"unknown GS ( {chr(function)}")
            elif command in GS_FIXED:
                args = need(GS_FIXED[command])
                i += len(args)
                if command == b"!":
                    scale = (args[0] & 0x0F) + 1  # character height multiplier
                result.commands.append(f"GS {command.decode()}")
            else:
                raise DecodeError(f"unknown command GS 0x{command.hex()} at byte {i - 2}")
        elif byte == 0x1C:
            command = need(2)[1:2]
            i += 2
            if command not in (b".", b"&"):  # cancel / select Kanji (Chinese) character mode
                raise DecodeError(f"unknown command FS 0x{command.hex()} at byte {i - 2}")
            result.chinese_mode = command == b"&"
            result.commands.append(f"FS {command.decode()}")
        elif byte == 0x10:
            i += 3  # DLE EOT n: a status request, nothing printed
        elif byte < 0x20:
            raise DecodeError(f"unexpected control byte 0x{byte:02x} at {i}")
        else:
            if use_udc and byte in result.user_glyphs:
                line += f"<udc:{byte:02x}>"
            else:
                line += bytes([byte]).decode(page, "replace" if firmware else "strict")
            i += 1
    if stripes:
        raise DecodeError("an ESC * bit image not followed by a line feed")
    if line:
        result.lines.append(line)
        result.items.append(("text", line, scale))
    return result


def _stripe(columns: bytes, width: int, rows: int) -> Image.Image:
    """Return one ESC * stripe (``rows`` dots tall, a column's bytes top first) as an image."""
    image = Image.new("1", (width, rows), 1)
    per_column = rows // 8
    for x in range(width):
        for y in range(rows):
            if columns[x * per_column + y // 8] & (0x80 >> (y % 8)):
                image.putpixel((x, y), 0)
    return image


def _join(stripes: list[Image.Image]) -> Image.Image:
    joined = Image.new("1", (max(s.width for s in stripes), sum(s.height for s in stripes)), 1)
    y = 0
    for stripe in stripes:
        joined.paste(stripe, (0, y))
        y += stripe.height
    return joined


def _add_image(result: Decoded, image: Image.Image) -> None:
    result.images.append(image)
    result.items.append(("image", image, 1))
