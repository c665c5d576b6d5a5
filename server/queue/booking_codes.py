"""Booking codes: what HQ gives a visitor who booked, and what a kiosk checks offline.

A code carries the center (a 2-byte tag of its code), the slot's start (minutes since
2025-01-01 UTC), the center's own id of the service, the seat (the nth booking made in that
slot) and a 4-byte HMAC-SHA256 over all of it under the key that center shares with HQ. So
a center checks a code with nothing but its key: no call to HQ, which may be far away or down.

Twelve bytes are twenty base32 letters and digits, shown in groups of four (``ABCD-EFGH-…``)
to be typed on a kiosk's keyboard or read from the QR code by a scanner that types them.
Reading forgives what people and scanners do: case, spaces, dashes, 0/1/8 for O/I/B, and a
whole booking address (``…/book/ABCD…``) instead of the code.

The MAC is 32 bits: a guesser needs about two billion tries per valid code, and a kiosk
answers a few a second. A cancelled code stays valid by its MAC, so the center keeps the
cancellations it hears from HQ (``server/office/appointments.py``) and refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass

EPOCH = 1_735_689_600  # 2025-01-01 00:00 UTC
_LAYOUT = ">2s3sHB"  # center tag, minute (3 bytes), service id, seat
_MAC_BYTES = 4
_LENGTH = 20  # base32 characters of the 12 bytes
# What people type for a letter that base32 has not got.
_READ_AS = str.maketrans({"0": "O", "1": "I", "8": "B"})


@dataclass(frozen=True)
class Booking:
    """What a code says: which center, service and slot, and which seat of that slot."""

    center_tag: bytes
    slot_at: int  # the slot's start, Unix seconds
    service_id: int
    seat: int


class BadCode(ValueError):
    """The text is not a booking code (a mistyped or partial one)."""


def center_tag(center: str) -> bytes:
    """Return the 2 bytes that name a center in its codes."""
    return hashlib.sha256(center.encode()).digest()[:2]


def _mac(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), b"booking\n" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def make_code(key: str, center: str, slot_at: int, service_id: int, seat: int) -> str:
    """Return the code of a booking, grouped in fours for people to read."""
    minute = (slot_at - EPOCH) // 60
    if not (0 <= minute < 2**24 and 0 <= service_id < 2**16 and 0 < seat < 2**8):
        raise ValueError("slot, service or seat out of a code's range")
    payload = struct.pack(_LAYOUT, center_tag(center), minute.to_bytes(3, "big"), service_id, seat)
    text = base64.b32encode(payload + _mac(key, payload)).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise(text: str) -> str:
    """Return the code in ``text`` as 20 characters without dashes, or raise BadCode.

    ``text`` may be an address whose last part is the code, as the QR's is.
    """
    last = text.strip().rstrip("/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in last.upper() if ch not in " -\t").translate(_READ_AS)
    if len(cleaned) != _LENGTH or not all(ch.isascii() and ch.isalnum() for ch in cleaned):
        raise BadCode("A booking code has 20 letters and digits.")
    return cleaned


def read_code(text: str) -> tuple[Booking, bytes, bytes]:
    """Return the booking a code describes, its payload and its MAC, or raise BadCode.

    Nothing is checked yet: ``verify`` does, under the center's key.
    """
    try:
        raw = base64.b32decode(normalise(text) + "====")
    except ValueError as exc:  # binascii.Error: a letter base32 has not got
        raise BadCode("A booking code has 20 letters and digits.") from exc
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    tag, minute, service_id, seat = struct.unpack(_LAYOUT, payload)
    return Booking(tag, EPOCH + int.from_bytes(minute, "big") * 60, service_id, seat), payload, mac


def verify(key: str, center: str, text: str) -> Booking:
    """Return the booking if ``text`` is a code this center's key signed.

    Raises BadCode for what is not a code, ``OtherCenter`` for another center's code and
    ``Forged`` when the MAC does not match.
    """
    booking, payload, mac = read_code(text)
    if booking.center_tag != center_tag(center):
        raise OtherCenter("This booking is for another center.")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise Forged("This booking code is not valid.")
    return booking


def pretty(code: str) -> str:
    """Return a code in groups of four, however it was typed."""
    text = normalise(code)
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


class OtherCenter(BadCode):
    """A real-looking code made for another center."""


class Forged(BadCode):
    """A code whose MAC does not match: mistyped, altered or made up."""
