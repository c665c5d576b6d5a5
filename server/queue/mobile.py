"""Mobile numbers as visitors write them, for an SMS: at the kiosk, on a ticket's page at HQ."""

from __future__ import annotations

import re

from server.queue.errors import Invalid

# Azerbaijan's mobile prefixes after +994 (Azercell 50, 51, 10; Bakcell 55, 99; Nar 70, 77;
# Naxtel 60).
MOBILE = re.compile(r"^994(10|50|51|55|60|70|77|99)\d{7}$")


def mobile_number(text: str) -> str:
    """Return an Azerbaijani mobile number as 994XXXXXXXXX, or refuse it naming the field.

    Written as a visitor would: +994 50 123 45 67, 050 123 45 67, 994501234567.
    """
    digits = re.sub(r"[\s()+.-]", "", str(text or ""))[:20]
    if digits.startswith("0") and len(digits) == 10:
        digits = "994" + digits[1:]
    if not MOBILE.match(digits):
        raise Invalid("bad_phone", "A mobile number is written +994 50 123 45 67.", "phone")
    return digits


def masked(number: str) -> str:
    """Say a number back as a page may show it: its last two digits ("••• 67")."""
    return "••• " + number[-2:]
