"""The calibration ticket: which code-page numbering, if any, a printer's text mode really has.

A clone's firmware may number its code pages unlike the model it copies, ignore user-defined
characters (which ə and Ə always need) or never have had PC857. Nothing on the wire tells; the
paper does. So the ticket prints the same Azerbaijani and Russian line once per candidate
numbering, each line numbered, and once drawn (raster, right on every printer that draws). The
technician types the number whose lines read right, or 0 for none: the printer then prints in
text mode with that numbering, or stays drawn.

Candidates are the printer's own profile's numbering, then those the common firmwares use
(python-escpos' database holds one model of each), each once: a numbering is the slots its
Latin and Cyrillic pages take.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.layout import Block, TextEncoder, cyrillic_page, page_bytes
from hardware.profiles import PrinterProfile, get, with_text_pages

# Models whose numbering the common firmwares share: P822D's is the usual Chinese clone's
# (PC857 at 61, PC866 at 17), then Epson's (13, 17), Rongta's, Citizen's, Kefar's, Star's in
# its ESC/POS emulation, Wincor Nixdorf's.
COMMON_NUMBERINGS = ("P822D", "TM-T20II", "RP326", "CT-S651", "KR-306", "SP2000", "TH230")
LATIN_TEST = "Əə Ğğ İı Şş Çç Öö Üü"
CYRILLIC_TEST = "Жж Щщ Ыы Юю Яя Ёё"


@dataclass(frozen=True)
class Candidate:
    """One numbering to try: the model whose code-page slots it is, and those slots."""

    number: int  # as printed on the ticket and typed back; 0 is "none: draw"
    pages_of: str
    latin_slot: int | None
    cyrillic_slot: int | None


def candidates(profile: str) -> list[Candidate]:
    """Return the numberings worth trying on a printer of the model ``profile``, numbered 1..n."""
    model = get(profile)
    found: list[Candidate] = []
    seen: set[tuple[int | None, int | None]] = set()
    for name in (profile, *COMMON_NUMBERINGS):
        numbered = with_text_pages(model, name)
        encoder = TextEncoder(numbered, [LATIN_TEST])
        latin = numbered.slot(encoder.latin) if encoder.latin else None
        cyrillic_codec = cyrillic_page(numbered)
        cyrillic = numbered.slot(cyrillic_codec) if cyrillic_codec else None
        if (latin, cyrillic) in seen or (latin is None and cyrillic is None):
            continue
        seen.add((latin, cyrillic))
        found.append(Candidate(len(found) + 1, name, latin, cyrillic))
    return found


def pages_of_choice(profile: str, number: int) -> str | None:
    """Return the numbering ``number`` stands for on this model's ticket; None for 0 (draw).

    Raise ValueError for a number the ticket does not show.
    """
    if number == 0:
        return None
    for candidate in candidates(profile):
        if candidate.number == number:
            return candidate.pages_of
    raise ValueError(f"{number} is not a line of the calibration ticket")


def build_calibration(profile: str) -> bytes:
    """Return the calibration ticket's ESC/POS bytes for a printer of the model ``profile``."""
    model = get(profile)
    parts: list[tuple[PrinterProfile, str, list[Block]]] = [
        (model, "raster", [
            Block("line", f"dost-queue calibration: {profile}, {model.paper}", bold=True),
            Block("line", "The letters should look like this:"),
            Block("line", LATIN_TEST),
            Block("line", CYRILLIC_TEST),
        ]),
    ]  # fmt: skip
    for candidate in candidates(profile):
        lines = [f"{candidate.number}: {LATIN_TEST}", f"{candidate.number}: {CYRILLIC_TEST}"]
        numbered = with_text_pages(model, candidate.pages_of)
        parts.append((numbered, "text", [Block("line", line) for line in lines]))
    footer = "Type the number whose two lines look the same; 0 if none does."
    parts.append((model, "text", [Block("line", footer)]))
    return page_bytes(parts)
