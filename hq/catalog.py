"""The national catalog: HQ publishes numbered versions, each center fetches the newest.

An HQ admin imports a catalog file (checked as a center checks one), sees what it changes
against the version before, and publishes it with the day it takes effect. Versions are never
edited or deleted: a center may hold any of them. Publishing names the version the admin
compared against, so two admins publishing at once cannot publish what neither saw.

A center asks on its sync cycle, saying which version it runs and which it holds (fetched,
not yet applied); HQ answers with the newest version if that is newer than both, so a center
that missed several publications gets the latest in one step. What the center said is kept
for the dashboard's "catalog" column.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from server.office.catalog_files import Area, catalog_data, parse_catalog
from server.queue.errors import QueueError
from server.queue.storage import SqlConnection


class PublishedMeanwhile(QueueError):
    """Another version was published after the admin's diff was made."""


def canonical(areas: list[Area]) -> tuple[str, str]:
    """Return a checked catalog as the JSON text HQ stores and sends, and its sha256."""
    text = orjson.dumps(catalog_data(areas), option=orjson.OPT_SORT_KEYS).decode()
    return text, hashlib.sha256(text.encode()).hexdigest()


def newest(conn: SqlConnection) -> dict[str, Any] | None:
    """Return the newest published version (with its catalog text), or None before the first."""
    row = conn.execute(
        "SELECT version, effective_day, published_at, catalog, digest, areas, services "
        "FROM catalog_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()
    return _version(row) if row else None


def newest_areas(conn: SqlConnection) -> list[Area]:
    """Return the newest version's areas (none before the first publication)."""
    latest = newest(conn)
    return parse_catalog(orjson.loads(latest["catalog"])) if latest else []


def versions(conn: SqlConnection) -> list[dict[str, Any]]:
    """Return every version, newest first, without its catalog text, and who published it."""
    rows = conn.execute(
        "SELECT v.version, v.effective_day, v.published_at, v.areas, v.services, "
        "u.display_name AS published_by FROM catalog_versions v "
        "LEFT JOIN users u ON u.id = v.published_by ORDER BY v.version DESC"
    ).fetchall()
    return [
        {
            "version": r["version"],
            "effective_day": r["effective_day"],
            "published_at": r["published_at"],
            "areas": r["areas"],
            "services": r["services"],
            "published_by": r["published_by"],
        }
        for r in rows
    ]


def version_text(conn: SqlConnection, version: int) -> str | None:
    """Return one version's catalog JSON text, or None if there is no such version."""
    row = conn.execute(
        "SELECT catalog FROM catalog_versions WHERE version = ?", (version,)
    ).fetchone()
    return None if row is None else str(row[0])


def publish(
    conn: SqlConnection,
    areas: list[Area],
    effective_day: str,
    compared_with: int,
    user_id: int | None,
    now: float,
) -> int:
    """Publish checked ``areas`` as the version after ``compared_with``; return its number.

    Raises PublishedMeanwhile when ``compared_with`` is no longer the newest version (0: none).
    """
    text, digest = canonical(areas)
    services = sum(len(area.services) for area in areas)
    row = conn.execute(
        "INSERT INTO catalog_versions (version, effective_day, published_at, published_by, "
        "catalog, digest, areas, services) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
        "WHERE (SELECT coalesce(max(version), 0) FROM catalog_versions) = ? "
        "ON CONFLICT (version) DO NOTHING RETURNING version",
        (compared_with + 1, effective_day, now, user_id, text, digest, len(areas), services,
         compared_with),
    ).fetchone()  # fmt: skip
    if row is None:
        raise PublishedMeanwhile(
            "published_meanwhile",
            "Another version was published after you checked this one: check it again.",
        )
    return int(row[0])


def offer(
    conn: SqlConnection, center: str, runs: int | None, holds: int | None, local: bool
) -> dict[str, Any] | None:
    """Note what a center runs and holds; return the newest version if it is newer than both.

    ``local``: the center imported a catalog of its own since it last applied a version.
    """
    conn.execute(
        "UPDATE centers SET catalog_version = ?, catalog_held = ?, catalog_local = ? "
        "WHERE code = ?",
        (runs, holds, int(local), center),
    )
    latest = newest(conn)
    if latest is None or latest["version"] <= max(runs or 0, holds or 0):
        return None
    return latest


def _version(row: Any) -> dict[str, Any]:
    return {
        "version": row["version"],
        "effective_day": row["effective_day"],
        "published_at": row["published_at"],
        "catalog": row["catalog"],
        "digest": row["digest"],
        "areas": row["areas"],
        "services": row["services"],
    }
