"""What every HQ page and API route reaches for: the database, the keys, today, the user.

Accessors over the app's extensions, the signers' keys (an unknown signer is refused here),
and the two role checks of the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app, g, redirect, request, session, url_for

from hq import bookings, storage
from hq.keys import CenterKeys
from server.office import accounts
from server.queue.errors import Forbidden
from server.queue.storage import Database, SqlConnection
from server.web.auth import Unauthorized

F = TypeVar("F", bound=Callable[..., Any])


def store() -> Database:
    """Return this HQ's database."""
    return current_app.extensions["dostq.hq_store"]  # type: ignore[no-any-return]


def keys() -> CenterKeys:
    """Return what opens this HQ's centers' keys."""
    return current_app.extensions["dostq.hq_keys"]  # type: ignore[no-any-return]


def today() -> date:
    """Return today's date where HQ is."""
    return datetime.now(ZoneInfo(current_app.config["HQ_TIMEZONE"])).date()


def center_key(conn: SqlConnection, center: str) -> str:
    """Return an active center's key, opened, or refuse the request (401)."""
    stored = storage.center_key(conn, center)
    if stored is None:
        raise Unauthorized("unknown_center", f"No active center '{center[:40]}' at HQ.", "center")
    return keys().open(stored)


def partner_key(conn: SqlConnection, partner: str) -> str:
    """Return an active partner system's key, opened, or refuse the request (401)."""
    stored = bookings.partner_key(conn, partner)
    if stored is None:
        raise Unauthorized("unknown_partner", f"No partner '{partner[:40]}' at HQ.", "partner")
    return keys().open(stored)


def analyst_required(view: F) -> F:
    """Allow the view only to a signed-in analyst (manager) or admin."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None or g.user.role not in ("manager", "admin"):
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Allow the view only to a signed-in HQ admin; others are refused (403)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if g.user.role != "admin":
            raise Forbidden("admins_only", "Only an HQ admin publishes the catalog.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def identify() -> None:
    """Find who signs this request in: an analyst or admin by session, else nobody."""
    g.user, g.device, g.device_by_cookie = None, None, False
    if "uid" in session:
        with store().read() as conn:
            g.user = accounts.load_user(conn, session["uid"], session.get("sv", 0))
