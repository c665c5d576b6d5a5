"""The national catalog at a center: a version HQ published is held, shown, then applied.

The sync fetches the newest version HQ has (server/hq_link/catalog.py) and ``hold`` keeps it,
checked as any catalog is, replacing an older one held. The admin's catalog page shows what
applying it would change; it is applied when the admin says so, or by itself at the start of
a day on or after its effective day: before the first ticket of that day, so the services on
the kiosk never change under a visitor's feet. Applying is the catalog import, which keeps
the center's own choices: what its counters serve, and the areas and services its admin
closed here. One that would close most open services waits for the admin instead.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date
from typing import Any

from server.office.catalog import CatalogChange, catalog_change, import_catalog
from server.office.catalog_files import Area, check_catalog, parse_catalog
from server.queue.errors import Invalid
from server.queue.storage import audit, get_setting, put_setting

HELD = "national_catalog_held"  # {"version", "effective_day", "catalog" (JSON text), "received_at"}
RUNS = "national_catalog_version"  # the version applied last
LOCAL = "catalog_local"  # a catalog file was imported here since that version


def ask(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return what the center tells HQ when it asks for a newer version."""
    held = get_setting(conn, HELD, None)
    return {
        "runs": get_setting(conn, RUNS, None),
        "holds": held["version"] if held else None,
        "local": bool(get_setting(conn, LOCAL, False)),
    }


def hold(conn: sqlite3.Connection, offer: dict[str, Any], now: float) -> bool:
    """Keep a version HQ sent, if it is newer than the one run and the one held.

    Raises Invalid if it is not a catalog this center can run (its digest or its contents).
    """
    text = offer.get("catalog")
    version = offer.get("version")
    if not isinstance(text, str) or not isinstance(version, int) or isinstance(version, bool):
        raise Invalid("bad_national_catalog", "HQ's answer holds no catalog version.")
    effective_day = offer.get("effective_day")
    try:
        date.fromisoformat(str(effective_day))
    except ValueError as exc:
        raise Invalid("bad_national_catalog", f"Catalog version {version} has no day.") from exc
    if hashlib.sha256(text.encode()).hexdigest() != offer.get("digest"):
        raise Invalid("bad_national_catalog", f"Catalog version {version} arrived damaged.")
    try:
        areas = parse_catalog(json.loads(text))
        check_catalog(areas)
    except (ValueError, RecursionError) as exc:
        raise Invalid("bad_national_catalog", f"Catalog version {version}: {exc}") from exc
    state = ask(conn)
    if version <= max(state["runs"] or 0, state["holds"] or 0):
        return False
    put_setting(
        conn,
        HELD,
        {
            "version": version,
            "effective_day": str(effective_day),
            "catalog": text,
            "received_at": now,
        },
    )
    audit(conn, "national_catalog_received", now,
          detail={"version": version, "services": sum(len(a.services) for a in areas)})  # fmt: skip
    return True


def held(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """Return the version held (its number, effective day, areas), or None."""
    stored = get_setting(conn, HELD, None)
    if stored is None:
        return None
    return {**stored, "areas": parse_catalog(json.loads(stored["catalog"]))}


def page(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return what the admin's page shows: the version run, the one held, its change."""
    version = held(conn)
    return {
        "runs": get_setting(conn, RUNS, None),
        "local": bool(get_setting(conn, LOCAL, False)),
        "held": version,
        "change": catalog_change(conn, version["areas"]) if version else None,
    }


def due(conn: sqlite3.Connection, today: str) -> bool:
    """Tell whether the version held applies now: its day has come, today's first ticket not."""
    stored = get_setting(conn, HELD, None)
    if stored is None or stored["effective_day"] > today:
        return False
    return conn.execute("SELECT 1 FROM tickets WHERE day = ? LIMIT 1", (today,)).fetchone() is None


def apply_held(
    conn: sqlite3.Connection, now: float, user_id: int | None = None, force: bool = False
) -> CatalogChange:
    """Import the version held, in the caller's transaction; return what changed.

    Raises Invalid if none is held, or (without ``force``) if it would close most services.
    """
    version = held(conn)
    if version is None:
        raise Invalid("no_national_catalog", "No national catalog version is waiting.")
    areas: list[Area] = version["areas"]
    change = import_catalog(conn, areas, force=force)
    put_setting(conn, RUNS, version["version"])
    put_setting(conn, LOCAL, False)
    conn.execute("DELETE FROM settings WHERE key = ?", (HELD,))
    audit(conn, "national_catalog_applied", now, user_id=user_id,
          detail={"version": version["version"], **change.counts()})  # fmt: skip
    return change


def imported_locally(conn: sqlite3.Connection) -> None:
    """Remember that the admin imported a catalog file here (HQ's dashboard shows it)."""
    if get_setting(conn, RUNS, None) is not None:
        put_setting(conn, LOCAL, True)
