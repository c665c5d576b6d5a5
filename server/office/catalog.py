"""The catalog in the center's database: what an import changes, the import itself, reading it.

Files are read and checked whole in catalog_files.py; here they meet the database: the change
an import would make (said before it is made), the import in one transaction, the services
closed here kept through imports, and the catalog as the screens read it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlite_utils

from server.office.catalog_files import Area, check_catalog, checked_names
from server.queue.errors import Invalid
from server.queue.localized import names as localized
from server.queue.storage import get_setting, put_setting
from server.settings import LANGUAGES

# The parts of a change, as the command line says them (the pages say them in their language).
SECTION_TITLES = {
    "added": "Added",
    "renamed": "Renamed",
    "deactivated": "Deactivated",
    "reactivated": "Reactivated",
    "offered": "Offered to the counters of their area",
}


@dataclass(frozen=True)
class CatalogChange:
    """What an import changes, said before (dry run, admin's confirmation) and after it."""

    areas: int
    services: int
    added: list[str]  # "4.x3 Name"
    renamed: list[str]  # "2.1: old name -> new name"
    deactivated: list[str]
    reactivated: list[str]
    offered: list[str]  # "4.x3 -> Masa 1, Masa 3": counters that serve the area serve it too
    active_before: int

    @property
    def deactivates_most(self) -> bool:
        """Tell whether the import would close more than half the services open now."""
        return len(self.deactivated) * 2 > self.active_before

    def sections(self) -> list[tuple[str, list[str]]]:
        """Return the change's non-empty parts in order, each named by its key."""
        parts = (
            ("added", self.added),
            ("renamed", self.renamed),
            ("deactivated", self.deactivated),
            ("reactivated", self.reactivated),
            ("offered", self.offered),
        )
        return [(key, items) for key, items in parts if items]

    def lines(self) -> list[str]:
        """Return the change as lines a person reads (the command's dry run)."""
        out = [f"{self.areas} areas, {self.services} services."]
        for key, items in self.sections():
            out.append(f"{SECTION_TITLES[key]} ({len(items)}):")
            out += [f"  {item}" for item in items]
        return out

    def counts(self) -> dict[str, int]:
        """Return the change as counts (the audit row)."""
        return {
            "areas": self.areas,
            "services": self.services,
            "added": len(self.added),
            "renamed": len(self.renamed),
            "deactivated": len(self.deactivated),
            "reactivated": len(self.reactivated),
        }


def catalog_change(conn: sqlite3.Connection, areas: list[Area]) -> CatalogChange:
    """Compare a checked catalog with the database: what importing it would change."""
    stored = {
        r["code"]: r
        for r in conn.execute(
            "SELECT s.code, s.name_az, s.active, s.area_id, a.code AS area_code "
            "FROM services s JOIN areas a ON a.id = s.area_id"
        )
    }
    listed = {s.code: (area, s) for area in areas for s in area.services}
    kept_closed = set(closed_here(conn)["services"])
    added, renamed, reactivated, offered = [], [], [], []
    for code, (area, service) in listed.items():
        row = stored.get(code)
        if row is None:
            added.append(f"{code} {service.name['az']}")
            counters = _counters_of_area(conn, area.code)
            if counters:
                offered.append(f"{code} -> {', '.join(counters)}")
            continue
        if row["name_az"] != service.name["az"]:
            renamed.append(f"{code}: {row['name_az']} -> {service.name['az']}")
        if not row["active"] and code not in kept_closed:
            reactivated.append(f"{code} {service.name['az']}")
    deactivated = [
        f"{code} {row['name_az']}"
        for code, row in stored.items()
        if row["active"] and code not in listed
    ]
    return CatalogChange(
        areas=len(areas),
        services=len(listed),
        added=added,
        renamed=renamed,
        deactivated=deactivated,
        reactivated=reactivated,
        offered=offered,
        active_before=sum(bool(row["active"]) for row in stored.values()),
    )


def compare_catalogs(before: list[Area], after: list[Area]) -> CatalogChange:
    """Compare two checked catalogs (HQ's versions): what publishing ``after`` would change."""
    old = {s.code: s for area in before for s in area.services}
    new = {s.code: s for area in after for s in area.services}
    return CatalogChange(
        areas=len(after),
        services=len(new),
        added=[f"{code} {s.name['az']}" for code, s in new.items() if code not in old],
        renamed=[
            f"{code}: {old[code].name['az']} -> {s.name['az']}"
            for code, s in new.items()
            if code in old and old[code].name["az"] != s.name["az"]
        ],
        deactivated=[f"{code} {s.name['az']}" for code, s in old.items() if code not in new],
        reactivated=[],
        offered=[],
        active_before=len(old),
    )


def _counters_of_area(conn: sqlite3.Connection, area_code: str) -> list[str]:
    """Return the counters serving any service of an area (by its code), by name."""
    rows = conn.execute(
        "SELECT DISTINCT c.name FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
        "JOIN services s ON s.id = cs.service_id JOIN areas a ON a.id = s.area_id "
        "WHERE a.code = ? ORDER BY c.name",
        (area_code,),
    )
    return [r[0] for r in rows]


def import_catalog(
    conn: sqlite3.Connection, areas: list[Area], force: bool = False
) -> CatalogChange:
    """Upsert areas and services by code inside the caller's transaction; return the change.

    What the import no longer lists is deactivated, not deleted: past tickets keep pointing at it.
    An import that would close more than half the open services needs ``force``. A new service
    is served by the counters that serve its area, so no import leaves it silently unserved.
    What the center's admin closed here stays closed, and counters keep what they serve.
    """
    check_catalog(areas)
    change = catalog_change(conn, areas)
    if change.deactivates_most and not force:
        raise Invalid(
            "import_deactivates_most",
            f"This catalog would close {len(change.deactivated)} of the "
            f"{change.active_before} open services. Check the file; if it is right, import "
            "it with --force (or tick 'Close them' on the admin page).",
            "force",
            {"closing": str(len(change.deactivated)), "open": str(change.active_before)},
        )
    new_codes = {line.split(" ", 1)[0] for line in change.added}
    db = sqlite_utils.Database(conn)
    # Letters are unique; park them first so two areas may swap letters in one import.
    conn.execute("UPDATE areas SET letter = '#' || id")
    conn.execute("UPDATE areas SET active = 0")
    conn.execute("UPDATE services SET active = 0")
    for area_position, area in enumerate(areas):
        counters = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT cs.counter_id FROM counter_services cs "
                "JOIN services s ON s.id = cs.service_id JOIN areas a ON a.id = s.area_id "
                "WHERE a.code = ?",
                (area.code,),
            )
        ]
        db.table("areas").upsert(
            {
                "code": area.code,
                "letter": area.letter,
                "position": area_position,
                "active": 1,
                **{f"name_{lang}": area.name.get(lang) for lang in LANGUAGES},
                **{f"keywords_{lang}": area.keywords.get(lang) for lang in LANGUAGES},
            },
            pk="code",
        )
        area_id = conn.execute("SELECT id FROM areas WHERE code = ?", (area.code,)).fetchone()[0]
        for position, service in enumerate(area.services):
            db.table("services").upsert(
                {
                    "code": service.code,
                    "area_id": area_id,
                    "position": position,
                    "active": 1,
                    "target_minutes": service.target_minutes,
                    **{f"name_{lang}": service.name.get(lang) for lang in LANGUAGES},
                    **{f"documents_{lang}": service.documents.get(lang) for lang in LANGUAGES},
                    **{f"keywords_{lang}": service.keywords.get(lang) for lang in LANGUAGES},
                },
                pk="code",
            )
            if service.code in new_codes:
                service_id = conn.execute(
                    "SELECT id FROM services WHERE code = ?", (service.code,)
                ).fetchone()[0]
                conn.executemany(
                    "INSERT INTO counter_services (counter_id, service_id) VALUES (?, ?)",
                    [(counter_id, service_id) for counter_id in counters],
                )
    stale = conn.execute("SELECT code FROM areas WHERE letter LIKE '#%'").fetchall()
    for (code,) in stale:  # an area dropped from the catalog gives its letter up
        conn.execute("UPDATE areas SET letter = lower(?) || '#' WHERE code = ?", (code, code))
    closed = closed_here(conn)
    for table in ("areas", "services"):
        conn.executemany(
            f"UPDATE {table} SET active = 0 WHERE code = ?",  # noqa: S608  # two fixed names
            [(code,) for code in closed[table]],
        )
    return change


def closed_here(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Return the area and service codes this center's admin closed: kept closed by imports."""
    stored = get_setting(conn, "closed_here", {})
    return {"areas": stored.get("areas", []), "services": stored.get("services", [])}


def keep_closed_here(conn: sqlite3.Connection, table: str, code: str, closed: bool) -> None:
    """Remember that the admin closed (or opened again) an area or service at this center."""
    kept = closed_here(conn)
    codes = set(kept[table]) - {code}
    kept[table] = sorted(codes | {code} if closed else codes)
    put_setting(conn, "closed_here", kept)


def import_priority_categories(conn: sqlite3.Connection, categories: list[dict[str, Any]]) -> int:
    """Upsert the configured priority categories; those not listed are deactivated."""
    conn.execute("UPDATE priority_categories SET active = 0")
    for position, raw in enumerate(categories):
        code = str(raw.get("code") or "").strip()
        if not code or code == "general":
            raise Invalid("bad_catalog", "A priority category needs a code other than 'general'.")
        names = checked_names(raw.get("name"), f"Category {code}")
        conn.execute(
            "INSERT INTO priority_categories (code, name_az, name_ru, name_en, position, active) "
            "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (code) DO UPDATE SET name_az = excluded.name_az,"
            " name_ru = excluded.name_ru, name_en = excluded.name_en,"
            " position = excluded.position, active = 1",
            (code, names.get("az"), names.get("ru"), names.get("en"), position),
        )
    return len(categories)


def default_priority_categories() -> list[dict[str, Any]]:
    """Return the priority categories shipped with the package."""
    path = resources.files("server.office") / "data" / "priority-categories.json"
    return list(json.loads(path.read_text(encoding="utf-8"))["priority_categories"])


def service_use(conn: sqlite3.Connection, since_day: str) -> dict[str, int]:
    """Return, per service code, its visits since ``since_day`` (most used first on kiosks)."""
    rows = conn.execute(
        "SELECT s.code, count(*) FROM tickets t JOIN services s ON s.id = t.service_id "
        "WHERE t.day >= ? GROUP BY s.id",
        (since_day,),
    )
    return {code: count for code, count in rows}


def service_availability(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """Return, per active service code, how many counters serve it and how many are open now."""
    rows = conn.execute(
        "SELECT s.code, count(cs.counter_id) AS counters, "
        "coalesce(sum(c.status = 'open'), 0) AS open FROM services s "
        "LEFT JOIN counter_services cs ON cs.service_id = s.id "
        "LEFT JOIN counters c ON c.id = cs.counter_id WHERE s.active = 1 GROUP BY s.id"
    ).fetchall()
    return {r["code"]: {"counters": r["counters"], "open": r["open"]} for r in rows}


def read_catalog(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the active catalog and priority categories as plain JSON-ready data."""
    areas = []
    for area in conn.execute("SELECT * FROM areas WHERE active = 1 ORDER BY position, id"):
        services = [
            {
                "code": s["code"],
                "name": localized(s, "name"),
                "target_minutes": s["target_minutes"],
                "documents": localized(s, "documents"),
                "keywords": localized(s, "keywords"),
            }
            for s in conn.execute(
                "SELECT * FROM services WHERE area_id = ? AND active = 1 ORDER BY position, id",
                (area["id"],),
            )
        ]
        areas.append(
            {
                "code": area["code"],
                "letter": area["letter"],
                "name": localized(area, "name"),
                "keywords": localized(area, "keywords"),
                "services": services,
            }
        )
    categories = [
        {"code": c["code"], "name": localized(c, "name")}
        for c in conn.execute(
            "SELECT * FROM priority_categories WHERE active = 1 ORDER BY position, code"
        )
    ]
    return {"areas": areas, "priority_categories": categories}
