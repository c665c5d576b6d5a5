"""Drawing text with the bundled DejaVu font.

Whole lines for raster tickets, and single characters as ESC/POS user-defined glyphs for
the letters a printer's code pages lack (ə and Ə on every printer; ğ, ı, İ, ş on many).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(str(resources.files("hardware") / "fonts"))
# Font A on Epson-class printers, 58 mm and 80 mm: 12 x 24 dots per character, the baseline
# under the 20th row; a glyph leaves one dot column of spacing on each side.
GLYPH_WIDTH, GLYPH_HEIGHT, GLYPH_BASELINE, GLYPH_INK_WIDTH = 12, 24, 19, 10
# DejaVu at 20 px: Ğ's breve reaches row 0 and Ş's cedilla row 23, so nothing is clipped.
GLYPH_SIZE = 20
# Raster lines: a line's height over the font size; DejaVu's ink, accents and cedillas
# included, spans 1.2 of it, so lines never touch.
LINE_SPACING = 1.25


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Return the bundled DejaVu Sans at ``size`` pixels."""
    return ImageFont.truetype(
        str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size
    )


def render_lines(
    lines: list[str], width: int, size: int = 26, bold: bool = False
) -> list[Image.Image]:
    """Draw ``lines``, wrapped to ``width`` dots, as one 1-bit image per printed line.

    Each keeps the full line pitch (so lines never touch) but only its own ink's width: a
    short line costs a short bitmap, not the widest line's.
    """
    face = font(size, bold)
    parts = [part for line in lines for part in wrap_to_width(line, face, width)]
    height = round(size * LINE_SPACING)
    images = []
    for part in parts:
        image = Image.new("1", (width, height), 1)
        ImageDraw.Draw(image).text((0, 0), part, font=face, fill=0)
        images.append(crop_columns_to_ink(image))
    return images


def wrap_to_width(line: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break ``line`` at spaces so each part is at most ``width`` dots wide."""
    parts: list[str] = []
    for word in line.split(" "):
        if parts and face.getlength(f"{parts[-1]} {word}") <= width:
            parts[-1] = f"{parts[-1]} {word}"
        else:
            parts.append(word)
    return parts or [""]


def crop_columns_to_ink(image: Image.Image) -> Image.Image:
    """Crop white columns; the width stays a multiple of 8 (whole raster bytes)."""
    box = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    if box is None:
        return image.crop((0, 0, 8, image.height))
    left, right = box[0], box[2]
    left = max(0, min(left, image.width - (right - left + 7) // 8 * 8))
    return image.crop((left, 0, left + (right - left + 7) // 8 * 8, image.height))


@cache
def user_defined_glyph(char: str) -> bytes:
    """Return ``char`` as ESC & glyph data for Font A: width byte, then 3 bytes per column.

    Drawn at the size where every Azerbaijani letter, dots, breves and cedillas included,
    fits the 24 rows on one baseline (that of the printer's own letters); a letter wider than
    the cell is narrowed to it rather than clipped.
    """
    face = font(GLYPH_SIZE)
    canvas = Image.new("L", (GLYPH_WIDTH * 3, GLYPH_HEIGHT), 255)
    ImageDraw.Draw(canvas).text((GLYPH_WIDTH, GLYPH_BASELINE), char, font=face, fill=0, anchor="ls")
    box = Image.eval(canvas, lambda v: 255 - v).getbbox()
    cell = Image.new("L", (GLYPH_WIDTH, GLYPH_HEIGHT), 255)
    if box is not None:
        ink = canvas.crop((box[0], 0, box[2], GLYPH_HEIGHT))
        if ink.width > GLYPH_INK_WIDTH:
            ink = ink.resize((GLYPH_INK_WIDTH, GLYPH_HEIGHT), Image.Resampling.LANCZOS)
        cell.paste(ink, ((GLYPH_WIDTH - ink.width) // 2, 0))
    # The last column is always blank (ink is centred in columns 1 to 10): it is not sent, and
    # the blank first column still parts the letter from the next; 3 bytes less a letter.
    data = bytearray([GLYPH_WIDTH - 1])
    for column in range(GLYPH_WIDTH - 1):
        for band in range(GLYPH_HEIGHT // 8):
            byte = 0
            for bit in range(8):
                if cell.getpixel((column, band * 8 + bit)) < 128:  # type: ignore[operator]
                    byte |= 0x80 >> bit
            data.append(byte)
    return bytes(data)
