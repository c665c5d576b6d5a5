"""The service catalog: service areas (each with a ticket letter) and their services.

Two input shapes are read into one canonical form, and checked whole before anything changes:
- canonical JSON (``{"areas": [{"code", "letter", "name": {"az", "ru", "en"}, "keywords",
  "services": [{"code", "name", "target_minutes", "documents", "keywords"}]}]}``), as the
  default catalog ``server/office/data/dost-catalog.json`` is written;
- CSV, one row per service (columns in ``CSV_COLUMNS``).
Every refusal names the place (``areas[2].services[0].name.az``, or the CSV line and column).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import string
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import sqlite_utils

from server.queue.errors import Invalid
from server.queue.storage import get_setting, put_setting
from server.queue.views import names as localized
from server.settings import LANGUAGES

# The national average per service in 2022 (7 min 31 s), for a service with no target of its own.
DEFAULT_TARGET_MINUTES = 8
MAX_TARGET_MINUTES = 240
MAX_TEXT = 500  # characters of any name, list of documents or keywords
CSV_COLUMNS = (
    "area_code", "area_letter", "area_name_az", "area_name_ru", "area_name_en",
    "service_code", "service_name_az", "service_name_ru", "service_name_en",
    "target_minutes", "documents_az", "documents_ru", "documents_en",
    "keywords_az", "keywords_ru", "keywords_en",
)  # fmt: skip


@dataclass
class Service:
    """One service a visitor can choose."""

    code: str
    name: dict[str, str]
    target_minutes: int = DEFAULT_TARGET_MINUTES
    documents: dict[str, str] = field(default_factory=dict)
    keywords: dict[str, str] = field(default_factory=dict)


@dataclass
class Area:
    """A service area; its letter starts every ticket number of its services."""

    code: str
    letter: str
    name: dict[str, str]
    services: list[Service] = field(default_factory=list)
    keywords: dict[str, str] = field(default_factory=dict)


def bad(where: str, problem: str, field_name: str) -> Invalid:
    """Return the refusal of a catalog, naming the place and the field."""
    return Invalid("bad_catalog", f"{where}: {problem}", field_name)


def default_catalog_path() -> Path:
    """Return the catalog shipped with the package (built from the public DOST sources)."""
    return Path(str(resources.files("server.office") / "data" / "dost-catalog.json"))


def load_catalog(path: Path) -> list[Area]:
    """Read a catalog file (canonical JSON or CSV) and check it."""
    return parse_catalog_text(path.read_text(encoding="utf-8-sig"), path.name)


def parse_catalog_text(text: str, filename: str) -> list[Area]:
    """Read a catalog's text (CSV if ``filename`` ends in .csv, else JSON) and check it."""
    if filename.lower().endswith(".csv"):
        areas = list(_areas_from_csv(text))
    else:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise Invalid("bad_catalog", f"{filename} is not valid JSON: {exc}") from exc
        areas = parse_catalog(data)
    check_catalog(areas)
    return areas


def parse_catalog_upload(filename: str | None, data: bytes) -> tuple[str, list[Area]]:
    """Read an uploaded catalog file: its text (kept for the confirmation) and its areas."""
    if not filename:
        raise Invalid("no_file", "Choose a catalog file (JSON or CSV).", "catalog")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("not_utf8", "Save the catalog as UTF-8 and try again.") from exc
    return text, parse_catalog_text(text, filename)


def load_priority_categories(path: Path) -> list[dict[str, Any]] | None:
    """Return the "priority_categories" of a JSON catalog file, or None if it has none."""
    if path.suffix.lower() == ".csv":
        return None
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    categories = data.get("priority_categories") if isinstance(data, dict) else None
    if categories is not None and not isinstance(categories, list):
        raise Invalid("bad_catalog", "'priority_categories' must be a list.", "priority_categories")
    return categories


def parse_catalog(data: Any) -> list[Area]:
    """Turn canonical catalog JSON into areas, refusing the first malformed place."""
    if not isinstance(data, dict) or not isinstance(data.get("areas"), list):
        raise Invalid("bad_catalog", "A catalog is a JSON object with a list of 'areas'.", "areas")
    return [_area(raw, f"areas[{i}]") for i, raw in enumerate(data["areas"])]


def _area(raw: Any, where: str) -> Area:
    if not isinstance(raw, dict):
        raise bad(where, "an area is an object with code, letter, name and services.", "areas")
    services = raw.get("services")
    if not isinstance(services, list) or not services:
        raise bad(where, "'services' must be a non-empty list.", "services")
    return Area(
        code=_code(raw.get("code"), where),
        letter=str(raw.get("letter") or "").strip().upper(),
        name=_names(raw.get("name"), f"{where}.name"),
        services=[_service(s, f"{where}.services[{j}]") for j, s in enumerate(services)],
        keywords=_texts(raw.get("keywords"), f"{where}.keywords"),
    )


def _service(raw: Any, where: str) -> Service:
    if not isinstance(raw, dict):
        raise bad(where, "a service is an object with code, name and target_minutes.", "services")
    return Service(
        code=_code(raw.get("code"), where),
        name=_names(raw.get("name"), f"{where}.name"),
        target_minutes=_minutes(raw.get("target_minutes"), f"{where}.target_minutes"),
        documents=_texts(raw.get("documents"), f"{where}.documents"),
        keywords=_texts(raw.get("keywords"), f"{where}.keywords"),
    )


def _code(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise bad(where, "'code' must be a non-empty text.", "code")
    code = str(value).strip()
    if len(code) > 20:
        raise bad(where, f"code '{code[:30]}' is longer than 20 characters.", "code")
    return code


def _texts(value: Any, where: str) -> dict[str, str]:
    """Return {language: text} from an optional object of texts, leaving out blanks."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(where, "must map languages (az, ru, en) to text.", where.rsplit(".", 1)[-1])
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise bad(where, f"'{lang}' is not a language (az, ru, en).", lang)
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            raise bad(f"{where}.{lang}", "must be text.", lang)
        if len(text) > MAX_TEXT:
            raise bad(f"{where}.{lang}", f"longer than {MAX_TEXT} characters.", lang)
        texts[lang] = text.strip()
    return texts


def _names(value: Any, where: str) -> dict[str, str]:
    names = _texts(value, where)
    if not names.get("az"):
        raise bad(f"{where}.az", "the Azerbaijani name is required.", "name")
    return names


def _minutes(value: Any, where: str) -> int:
    if value in (None, ""):
        return DEFAULT_TARGET_MINUTES
    try:
        minutes = int(value)
    except (TypeError, ValueError) as exc:
        raise bad(where, "must be a whole number of minutes.", "target_minutes") from exc
    if isinstance(value, bool) or minutes != value and str(minutes) != str(value).strip():
        raise bad(where, "must be a whole number of minutes.", "target_minutes")
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        raise bad(where, f"must be 1 to {MAX_TARGET_MINUTES} minutes.", "target_minutes")
    return minutes


def _areas_from_csv(text: str) -> Iterator[Area]:
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = {"area_code", "area_letter", "area_name_az", "service_code", "service_name_az"}
    missing -= columns
    if missing:
        raise Invalid("bad_catalog", f"CSV catalog lacks columns: {', '.join(sorted(missing))}.")
    # A misspelt column ("service_nmae_ru") would otherwise import as silently empty names.
    unknown = columns - set(CSV_COLUMNS)
    if unknown:
        raise Invalid(
            "bad_catalog",
            f"CSV catalog has unknown columns: {', '.join(sorted(unknown))}"
            f". Known: {', '.join(CSV_COLUMNS)}.",
        )
    areas: dict[str, Area] = {}
    for line, row in enumerate(reader, start=2):
        where = f"CSV line {line}"

        def columns_of(prefix: str) -> dict[str, Any]:
            return {lang: row.get(f"{prefix}_{lang}") for lang in LANGUAGES}  # noqa: B023

        code = _code(row["area_code"], f"{where}, area_code")
        area = areas.get(code)
        if area is None:
            area = areas[code] = Area(
                code=code,
                letter=(row["area_letter"] or "").strip().upper(),
                name=_names(columns_of("area_name"), f"{where}, area_name"),
            )
        area.services.append(
            Service(
                code=_code(row["service_code"], f"{where}, service_code"),
                name=_names(columns_of("service_name"), f"{where}, service_name"),
                target_minutes=_minutes(row.get("target_minutes"), f"{where}, target_minutes"),
                documents=_texts(columns_of("documents"), f"{where}, documents"),
                keywords=_texts(columns_of("keywords"), f"{where}, keywords"),
            )
        )
    yield from areas.values()


def check_catalog(areas: list[Area]) -> None:
    """Raise Invalid naming the first problem across the whole catalog: none, letters, codes."""
    if not areas:
        raise Invalid("bad_catalog", "The catalog has no service areas.", "areas")
    letters: dict[str, str] = {}
    area_codes: set[str] = set()
    service_codes: dict[str, str] = {}
    for area in areas:
        where = f"Area {area.code}"
        if len(area.letter) != 1 or area.letter not in string.ascii_uppercase:
            raise bad(where, "letter must be one of A-Z.", "letter")
        if area.letter in letters:
            other = letters[area.letter]
            raise bad(where, f"letter {area.letter} is area {other}'s too.", "letter")
        letters[area.letter] = area.code
        if area.code in area_codes:
            raise bad(where, "two areas have this code.", "code")
        area_codes.add(area.code)
        if not area.services:
            raise bad(where, "has no services.", "services")
        for service in area.services:
            if service.code in service_codes:
                areas_of = f"areas {service_codes[service.code]} and {area.code}"
                raise bad(f"Service {service.code}", f"listed twice ({areas_of}).", "code")
            service_codes[service.code] = area.code


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


def catalog_data(areas: list[Area]) -> dict[str, Any]:
    """Return checked areas as canonical catalog JSON (what ``parse_catalog`` reads back)."""
    return {"areas": [asdict(area) for area in areas]}


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
        names = _names(raw.get("name"), f"Category {code}")
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
