"""Drawing text with the bundled DejaVu font.

Whole lines for raster tickets, and single characters as ESC/POS user-defined glyphs for
the letters no printer code page has (ə, Ə).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(str(resources.files("hardware") / "fonts"))
# Font A on 80 mm Epson-class printers: 12 x 24 dots per character.
GLYPH_WIDTH, GLYPH_HEIGHT = 12, 24


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Return the bundled DejaVu Sans at ``size`` pixels."""
    return ImageFont.truetype(
        str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size
    )


def render_lines(lines: list[str], width: int, size: int = 26, bold: bool = False) -> Image.Image:
    """Draw ``lines`` centred in a 1-bit image ``width`` dots wide, cropped to the ink."""
    face = font(size, bold)
    lines = [part for line in lines for part in wrap_to_width(line, face, width)]
    line_height = int(size * 1.35)
    image = Image.new("1", (width, line_height * len(lines) + 4), 1)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        text_width = draw.textlength(line, font=face)
        draw.text(((width - text_width) / 2, row * line_height), line, font=face, fill=0)
    return crop_to_ink(image)


def wrap_to_width(line: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break ``line`` at spaces so each part is at most ``width`` dots wide."""
    parts: list[str] = []
    for word in line.split(" "):
        if parts and face.getlength(f"{parts[-1]} {word}") <= width:
            parts[-1] = f"{parts[-1]} {word}"
        else:
            parts.append(word)
    return parts or [""]


def crop_to_ink(image: Image.Image) -> Image.Image:
    """Crop white margins; the width stays a multiple of 8 (whole raster bytes)."""
    box = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox()
    if box is None:
        return image.crop((0, 0, 8, 1))
    left, top, right, bottom = box
    right = left + ((right - left + 7) // 8) * 8
    return image.crop((left, top, min(right, image.width), bottom))


@cache
def user_defined_glyph(char: str) -> bytes:
    """Return ``char`` as ESC & glyph data: width byte, then 3 bytes per column, top first."""
    image = Image.new("1", (GLYPH_WIDTH, GLYPH_HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    face = font(22)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=face)
    # Sit the letter on the same baseline as the printer's own Font A letters.
    x = (GLYPH_WIDTH - (right - left)) / 2 - left
    draw.text((x, 19 - face.getmetrics()[0]), char, font=face, fill=0)
    data = bytearray([GLYPH_WIDTH])
    for column in range(GLYPH_WIDTH):
        for band in range(GLYPH_HEIGHT // 8):
            byte = 0
            for bit in range(8):
                if image.getpixel((column, band * 8 + bit)) == 0:
                    byte |= 0x80 >> bit
            data.append(byte)
    return bytes(data)
