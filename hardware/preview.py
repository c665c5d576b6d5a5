"""A picture of what a printer would print: for the virtual printer and for people to look at."""

from __future__ import annotations

import qrcode
from PIL import Image, ImageDraw

from hardware.decode import CODE_PAGES, decode, read_glyph
from hardware.glyphs import font

WIDTH = 576  # an 80 mm printer's dots


def render_preview(
    data: bytes, code_pages: dict[int, str] = CODE_PAGES, width: int = WIDTH
) -> Image.Image:
    """Render an ESC/POS job as the paper would show it: text, bitmaps and QR codes in order.

    ``code_pages`` is the printer model's slot table, as in ``hardware.decode``; ``width`` its
    printable dots (384 on 58 mm paper), so what would not fit shows as not fitting.
    """
    decoded = decode(data, code_pages, firmware=True)  # as the printer would: never refuses
    glyph_for = {f"<udc:{c:02x}>": read_glyph(g) for c, g in decoded.user_glyphs.items()}
    parts: list[Image.Image] = []
    for kind, value, scale in decoded.items:
        if kind == "text":
            line = str(value)
            for placeholder, letter in glyph_for.items():
                line = line.replace(placeholder, letter)
            face = font(24 * scale, bold=scale > 1)
            image = Image.new("L", (width, 34 * scale), 255)
            draw = ImageDraw.Draw(image)
            draw.text(((width - draw.textlength(line, font=face)) / 2, 4), line, font=face, fill=0)
            parts.append(image)
        elif kind == "image":
            parts.append(value.convert("L"))  # type: ignore[attr-defined]
        else:
            qr = qrcode.QRCode(border=2, box_size=6)
            qr.add_data(str(value))
            parts.append(qr.make_image().get_image().convert("L"))
    height = sum(p.height + 8 for p in parts) + 16
    page = Image.new("L", (width, height), 255)
    y = 8
    for part in parts:
        page.paste(part, ((width - part.width) // 2, y))
        y += part.height + 8
    return page
