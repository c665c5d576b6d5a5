"""The service catalog: service areas (each with a ticket letter) and their services.

Three input shapes are read, all into one canonical form:
- the canonical JSON this module writes (``{"areas": [{"code", "letter", "name": {...},
  "services": [...]}]}``);
- the recovered public DOST catalog shipped in ``server/office/data/dost-services.json``
  (``name_az``/``name_en`` fields, nested sub-services, unnamed entries);
- CSV, one row per service (columns in ``CSV_COLUMNS``).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import sqlite_utils

from server.queue.errors import Invalid
from server.queue.views import names as localized
from server.settings import LANGUAGES

DEFAULT_TARGET_MINUTES = 15
CSV_COLUMNS = (
    "area_code", "area_letter", "area_name_az", "area_name_ru", "area_name_en",
    "service_code", "service_name_az", "service_name_ru", "service_name_en",
    "target_minutes", "documents_az", "documents_ru", "documents_en",
)  # fmt: skip


@dataclass
class Service:
    """One service a visitor can choose."""

    code: str
    name: dict[str, str]
    target_minutes: int = DEFAULT_TARGET_MINUTES
    documents: dict[str, str] = field(default_factory=dict)


@dataclass
class Area:
    """A service area; its letter starts every ticket number of its services."""

    code: str
    letter: str
    name: dict[str, str]
    services: list[Service] = field(default_factory=list)


def default_catalog_path() -> Path:
    """Return the catalog shipped with the package (the recovered public DOST catalog)."""
    return Path(str(resources.files("server.office") / "data" / "dost-services.json"))


def load_catalog(path: Path) -> list[Area]:
    """Read a catalog file (canonical JSON, recovered DOST JSON or CSV) and check it."""
    return parse_catalog_text(path.read_text(encoding="utf-8-sig"), path.name)


def parse_catalog_text(text: str, filename: str) -> list[Area]:
    """Read a catalog's text (CSV if ``filename`` ends in .csv, else JSON) and check it."""
    if filename.lower().endswith(".csv"):
        areas = list(_areas_from_csv(text))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid("bad_catalog", f"{filename} is not valid JSON: {exc}") from exc
        areas = parse_catalog(data)
    check_catalog(areas)
    return areas


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
    """Turn catalog JSON (canonical or the recovered DOST format) into areas."""
    if not isinstance(data, dict) or not isinstance(data.get("areas"), list):
        raise Invalid("bad_catalog", "A catalog is a JSON object with a list of 'areas'.", "areas")
    raw_areas = data["areas"]
    if raw_areas and all(isinstance(a, dict) and "name" in a for a in raw_areas):
        return [_canonical_area(a) for a in raw_areas]
    return _areas_from_recovered(raw_areas)


def _names(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid("bad_catalog", f"{where}: 'name' must map languages to text.", "name")
    names = {lang: str(value[lang]).strip() for lang in LANGUAGES if value.get(lang)}
    return _with_fallbacks(names, where)


def _with_fallbacks(names: dict[str, str], where: str) -> dict[str, str]:
    # Azerbaijani is the language of record; a name known only in English is shown as is.
    if "az" not in names:
        if not names:
            raise Invalid("bad_catalog", f"{where} has no name in any language.", "name")
        names["az"] = names.get("en") or names["ru"]
    return names


def _canonical_area(raw: dict[str, Any]) -> Area:
    code = str(raw.get("code") or "").strip()
    where = f"Area {code or '?'}"
    services = [
        Service(
            code=str(s.get("code") or "").strip(),
            name=_names(s.get("name"), f"Service {s.get('code')}"),
            target_minutes=_minutes(s.get("target_minutes"), f"Service {s.get('code')}"),
            documents={k: v for k, v in (s.get("documents") or {}).items() if v},
        )
        for s in raw.get("services") or []
    ]
    return Area(
        code, str(raw.get("letter") or "").strip().upper(), _names(raw["name"], where), services
    )


def _minutes(value: Any, where: str) -> int:
    if value in (None, ""):
        return DEFAULT_TARGET_MINUTES
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Invalid(
            "bad_catalog", f"{where}: target_minutes must be a whole number.", "target_minutes"
        ) from exc


def _recovered_names(raw: dict[str, Any], fallback: str) -> dict[str, str]:
    names = {lang: raw[f"name_{lang}"].strip() for lang in LANGUAGES if raw.get(f"name_{lang}")}
    if not names:
        names = {
            "az": f"Xidmət {fallback}",
            "ru": f"Услуга {fallback}",
            "en": f"Service {fallback}",
        }
    return _with_fallbacks(names, fallback)


def _leaves(services: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for service in services:
        if service.get("children"):
            yield from _leaves(service["children"])
        else:
            yield service


def _areas_from_recovered(raw_areas: list[Any]) -> list[Area]:
    areas = []
    letters = iter(string.ascii_uppercase)
    for position, raw in enumerate(raw_areas, start=1):
        # Areas the public site lists without a number get a code of their own, not an official one.
        code = str(raw.get("code") or f"x{position}")
        area_names = _recovered_names(raw, code)
        services = [
            Service(
                code=str(s.get("code")),
                name=_recovered_names(s, str(s.get("code"))),
                target_minutes=s.get("standard_minutes") or DEFAULT_TARGET_MINUTES,
            )
            for s in _leaves(raw.get("services") or [])
        ]
        if not services:
            # An area with no services recorded is offered as one service of its own name,
            # so a visitor can still take a ticket for it.
            services = [Service(code=f"{code}.0", name=dict(area_names))]
        areas.append(Area(code=code, letter=next(letters), name=area_names, services=services))
    return areas


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
        code = (row["area_code"] or "").strip()
        area = areas.get(code)
        if area is None:
            area = areas[code] = Area(
                code=code,
                letter=(row["area_letter"] or "").strip().upper(),
                name=_names({lang: row.get(f"area_name_{lang}") for lang in LANGUAGES}, where),
            )
        area.services.append(
            Service(
                code=(row["service_code"] or "").strip(),
                name=_names({lang: row.get(f"service_name_{lang}") for lang in LANGUAGES}, where),
                target_minutes=_minutes(row.get("target_minutes"), where),
                documents={
                    lang: row[f"documents_{lang}"]
                    for lang in LANGUAGES
                    if row.get(f"documents_{lang}")
                },
            )
        )
    yield from areas.values()


def check_catalog(areas: list[Area]) -> None:
    """Raise Invalid naming the first problem: empty catalog, duplicate codes or letters."""
    if not areas:
        raise Invalid("bad_catalog", "The catalog has no service areas.", "areas")
    seen_letters: set[str] = set()
    seen_codes: set[str] = set()
    for area in areas:
        if not area.code:
            raise Invalid("bad_catalog", "Every area needs a code.", "code")
        if len(area.letter) != 1 or area.letter not in string.ascii_uppercase:
            raise Invalid("bad_catalog", f"Area {area.code}: letter must be one of A-Z.", "letter")
        if area.letter in seen_letters:
            raise Invalid("bad_catalog", f"Letter {area.letter} is used by two areas.", "letter")
        seen_letters.add(area.letter)
        if not area.services:
            raise Invalid("bad_catalog", f"Area {area.code} has no services.", "services")
        codes = [("Area", area.code), *(("Service", s.code) for s in area.services)]
        for kind, code in codes:
            if not code or f"{kind}:{code}" in seen_codes:
                raise Invalid("bad_catalog", f"Code '{code}' is empty or repeated.", "code")
            seen_codes.add(f"{kind}:{code}")
        for service in area.services:
            if not 1 <= service.target_minutes <= 480:
                raise Invalid(
                    "bad_catalog",
                    f"Service {service.code}: target_minutes must be 1 to 480.",
                    "target_minutes",
                )


def import_catalog(conn: sqlite3.Connection, areas: list[Area]) -> dict[str, int]:
    """Upsert areas and services by code inside the caller's transaction.

    What the import no longer lists is deactivated, not deleted: past tickets keep pointing at it.
    """
    check_catalog(areas)
    db = sqlite_utils.Database(conn)
    # Letters are unique; park them first so two areas may swap letters in one import.
    conn.execute("UPDATE areas SET letter = '#' || id")
    conn.execute("UPDATE areas SET active = 0")
    conn.execute("UPDATE services SET active = 0")
    for area_position, area in enumerate(areas):
        db.table("areas").upsert(
            {
                "code": area.code,
                "letter": area.letter,
                "position": area_position,
                "active": 1,
                **{f"name_{lang}": area.name.get(lang) for lang in LANGUAGES},
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
                },
                pk="code",
            )
    stale = conn.execute("SELECT code FROM areas WHERE letter LIKE '#%'").fetchall()
    for (code,) in stale:  # an area dropped from the catalog gives its letter up
        conn.execute("UPDATE areas SET letter = lower(?) || '#' WHERE code = ?", (code, code))
    return {"areas": len(areas), "services": sum(len(a.services) for a in areas)}


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
