"""How a center proves to headquarters that a request is its own, fresh and unaltered.

The center signs ``center, timestamp, method, path, sha256(body)`` with HMAC-SHA256 under the
key it shares with HQ alone. HQ recomputes the signature, refuses a timestamp outside a short
window (so an old capture is useless) and remembers the signatures it saw within that window
(so a replay inside it is refused too).

An answer that carries what the center will act on (a national catalog) is signed the same
way, with ``ANSWER`` for the method, so nothing between them can forge or alter it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CENTER_HEADER = "X-DostQ-Center"
# Another state system booking through HQ's API signs the same way, naming itself here.
PARTNER_HEADER = "X-DostQ-Partner"
TIMESTAMP_HEADER = "X-DostQ-Timestamp"
SIGNATURE_HEADER = "X-DostQ-Signature"
# Center and HQ clocks may disagree this much; a request older than this is refused.
WINDOW_S = 300
# The "method" signed in HQ's answers: no request has it, so a request's signature is no answer's.
ANSWER = "ANSWER"


def new_key() -> str:
    """Return a new random center key (256 bits), to be set up on both sides."""
    return secrets.token_urlsafe(32)


def signature(key: str, center: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of the request's parts."""
    message = "\n".join(
        (center, str(timestamp), method.upper(), path, hashlib.sha256(body).hexdigest())
    )
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    key: str, center: str, timestamp: int, method: str, path: str, body: bytes
) -> dict[str, str]:
    """Return the headers that authenticate one request."""
    return {
        CENTER_HEADER: center,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, center, timestamp, method, path, body),
    }


def check(
    key: str,
    center: str,
    timestamp: str,
    given: str,
    method: str,
    path: str,
    body: bytes,
    now: float,
) -> str | None:
    """Return why the request is refused, or None if its signature and time are good."""
    # At most 12 digits: a longer number (400 of them once) is no time, nor a float to compare.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "The timestamp header is not a whole number of seconds."
    stamp = int(timestamp)
    if abs(now - stamp) > WINDOW_S:
        return f"The request is more than {WINDOW_S} s old or early: check the center's clock."
    expected = signature(key, center, stamp, method, path, body)
    if not hmac.compare_digest(expected, given):
        return "The signature does not match: wrong key, or the request was altered."
    return None
