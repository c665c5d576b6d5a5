"""What the audio-guided kiosk may speak: its own words, the catalog's names, a ticket's number.

A blind visitor turns guidance on with the Listen button; each screen's heading and each
choice focused is spoken in the visitor's language by the center's espeak-ng (hardware/voice.py
makes and caches the clips). Only phrases the kiosk itself shows are ever synthesised, so no
request can fill the cache or the CPU with text of its own.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

I18N_DIR = Path(__file__).parent / "static" / "kiosk" / "i18n"
MAX_PHRASE = 300  # characters: the longest service name is about 200
# What the kiosk speaks as a ticket is issued, {label} and {n} filled in, or as a booking is
# checked in, {label} and {time} (see spoken_ticket).
TICKET_SENTENCES = ("ticket_spoken", "booking_spoken")
LABEL = r"[A-Z]-\d{1,4}"


@cache
def kiosk_texts(language: str) -> dict[str, str]:
    """Return the kiosk's own words in one language (i18n/<lang>.json)."""
    texts: dict[str, str] = json.loads((I18N_DIR / f"{language}.json").read_text("utf-8"))
    return texts


def plain(text: str) -> str:
    """Return the words of a button as spoken: arrows and page marks dropped, spaces joined."""
    return " ".join(text.replace("←", " ").replace("◀", " ").replace("▶", " ").split())


def phrases(catalog: dict[str, Any], language: str) -> set[str]:
    """Return every phrase the kiosk may speak in ``language`` (besides a ticket's sentence)."""
    spoken = {plain(text) for text in kiosk_texts(language).values() if "{" not in text}
    names = [area["name"] for area in catalog["areas"]]
    names += [service["name"] for area in catalog["areas"] for service in area["services"]]
    names += [category["name"] for category in catalog["priority_categories"]]
    spoken |= {plain(name.get(language) or name["az"]) for name in names}
    return spoken - {""}


def spoken_ticket(text: str, language: str) -> str | None:
    """Return the label if ``text`` is the kiosk's sentence for a just-issued ticket."""
    for key in TICKET_SENTENCES:
        pattern = (
            re.escape(kiosk_texts(language)[key])
            .replace(r"\{label\}", f"({LABEL})")
            .replace(r"\{n\}", r"\d{1,4}")
            .replace(r"\{time\}", r"\d{2}:\d{2}")
        )
        match = re.fullmatch(pattern, text)
        if match:
            return match.group(1)
    return None


def may_speak(text: str, language: str, catalog: dict[str, Any]) -> bool:
    """Say whether ``text`` is a phrase of the kiosk (a single letter: an on-screen key)."""
    if len(text) == 1:
        return text.isalpha()
    return plain(text) in phrases(catalog, language)
