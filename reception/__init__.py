"""Reception: volunteers at the entrance issue tickets for visitors and tell a ticket's status.

A thin page over the JSON API (``GET /api/v1/catalog``, ``POST /api/v1/reception/tickets``,
``GET /api/v1/tickets``):
the ticket prints on the reception printer chosen, or the page shows the number large for the
volunteer to write down.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from server.office.accounts import printing_devices
from server.web.auth import user_required
from server.web.wiring import center

bp = Blueprint(
    "reception",
    __name__,
    url_prefix="/reception",
    template_folder="templates",
    static_folder="static",
)


@bp.get("/")
@user_required()
def index() -> str:
    """Show the reception page to any signed-in member of staff."""
    with center().store.read() as conn:
        printers = [device.name for device in printing_devices(conn)]
    return render_template("reception/index.html", printers=printers)
