"""The visitor's ticket page, drawn the same at the center and at HQ (which relays it).

The template and its script (ticket_status.html, phone.js) are one; the two servers differ in
where the page reads and sends (``urls``), the center's name, the chime, and what HQ adds
(how old its word is, the SMS form).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, request

from server.queue.feedback import COMMENT_MAX, REASONS
from server.web.language import LANGUAGES, catalog, translate


def render_phone_page(
    ticket: Mapping[str, Any],
    token: str,
    center_name: str,
    urls: Mapping[str, str],
    near_ahead: int,
    **extra: Any,
) -> str:
    """Draw a ticket's page in its language, or the one the visitor switched to (``?lang=``)."""
    chosen = request.args.get("lang", "")
    shown = chosen if chosen in LANGUAGES else str(ticket["language"])
    return render_template(
        "ticket_status.html",
        ticket=ticket,
        token=token,
        center_name=center_name,
        urls=urls,
        shown=shown,
        near_ahead=near_ahead,
        reasons=REASONS,
        comment_max=COMMENT_MAX,
        tr=lambda key, **values: translate(shown, key, **values),
        # The page's script words later changes with these (window.dostq.t).
        phone_texts={
            k: v
            for k, v in catalog(shown).items()
            if k.startswith(("phone.", "feedback.", "error."))
        },  # fmt: skip
        **extra,
    )
