"""Names and notices are printed on tickets, shown and spoken: no control characters in them.

A control character (an escape, a tab pasted from a spreadsheet) in a name reached the ticket
printer's byte stream as a command (ESC @ resets it, GS V cuts, DLE DC4 opens a drawer);
every text staff or a catalog give for screens, tickets and voice passes through here.
"""

from __future__ import annotations

import unicodedata

from server.queue.errors import Invalid


def has_control_character(text: str) -> bool:
    """Say whether ``text`` holds a control character (C0, DEL or C1)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def plain_text(text: str, field: str, what: str = "A name") -> str:
    """Return ``text``, or refuse it (naming ``field``) if it holds a control character."""
    if has_control_character(text):
        raise Invalid(
            "control_character",
            f"{what} holds a control character (a pasted tab or escape code): type it again.",
            field,
        )
    return text
