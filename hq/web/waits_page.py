"""HQ's public page of waits: every center's hall now, for visitors choosing where to go."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template

from hq import storage
from hq.web.context import store
from server.queue.forecast import band

waits_page = Blueprint("waits", __name__, url_prefix="/hq")


@waits_page.get("/waits")
def waits() -> str:
    """Every center's waits now, for visitors choosing where to go: public, no sign-in.

    The page reloads its own list every HQ_WAITS_REFRESH_S (hq/static/waits.js); a center
    silent for HQ_NOW_STALE_S shows when it was last heard from, never its last figures.
    """
    now = time.time()
    with store().read() as conn:
        centers = storage.live_waits(conn, now, current_app.config["HQ_NOW_STALE_S"])
    return render_template(
        "hq/waits.html",
        centers=centers,
        clock=_clock,
        band=band,  # the band the ticket itself is printed with
        now=now,
        refresh_s=current_app.config["HQ_WAITS_REFRESH_S"],
    )


def _clock(at: float, now: float) -> str:
    """Return HQ's local time of ``at``: "14:05", or "02.12 14:05" on another day."""
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    moment, today = datetime.fromtimestamp(at, zone), datetime.fromtimestamp(now, zone)
    return f"{moment:%H:%M}" if moment.date() == today.date() else f"{moment:%d.%m %H:%M}"
