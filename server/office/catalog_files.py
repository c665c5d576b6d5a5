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
import string
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from server.queue.errors import Invalid
from server.queue.plain_text import has_control_character
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
        name=checked_names(raw.get("name"), f"{where}.name"),
        services=[_service(s, f"{where}.services[{j}]") for j, s in enumerate(services)],
        keywords=_texts(raw.get("keywords"), f"{where}.keywords"),
    )


def _service(raw: Any, where: str) -> Service:
    if not isinstance(raw, dict):
        raise bad(where, "a service is an object with code, name and target_minutes.", "services")
    return Service(
        code=_code(raw.get("code"), where),
        name=checked_names(raw.get("name"), f"{where}.name"),
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
        if has_control_character(text):
            raise bad(f"{where}.{lang}", "holds a control character (a tab, an escape).", lang)
        texts[lang] = text.strip()
    return texts


def checked_names(value: Any, where: str) -> dict[str, str]:
    """Return a name in each language, the Azerbaijani one required; refuse it naming ``where``."""
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
                name=checked_names(columns_of("area_name"), f"{where}, area_name"),
            )
        area.services.append(
            Service(
                code=_code(row["service_code"], f"{where}, service_code"),
                name=checked_names(columns_of("service_name"), f"{where}, service_name"),
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
    # A name two services share, in any language, is two buttons a visitor cannot tell apart.
    service_names: dict[tuple[str, str], str] = {}
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
            for language, name in service.name.items():
                key = (language, " ".join(name.casefold().split()))
                if key[1] and key in service_names:
                    raise bad(f"Service {service.code}", f"its {language} name is service "
                              f"{service_names[key]}'s too.", "name")  # fmt: skip
                service_names[key] = service.code


def catalog_data(areas: list[Area]) -> dict[str, Any]:
    """Return checked areas as canonical catalog JSON (what ``parse_catalog`` reads back)."""
    return {"areas": [asdict(area) for area in areas]}
