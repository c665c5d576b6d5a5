"""What HQ accepts from a center: day records (checked field by field), its hall, questions.

Besides a batch of day records, a center sends its hall now and asks for a newer catalog.

A batch that passed the signature is still refused when a field could not come from a real
center: a number past 2**53 (JavaScript's exact integers; SQLite's own limit is 2**63), a day
that is not a real date, the same day or hour twice, more served than visits. Refusals name the
place and never quote more than a few characters of what was sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, ValidationError

from server.office.catalog_files import MAX_TEXT
from server.queue.errors import Invalid

MAX_RECORDS = 200
MAX_COUNT = 2**53
MAX_SECONDS = 10 * 365 * 86400  # a mean wait or service time; no visit lasts ten years
FIRST_DAY, LAST_DAY = "2000-01-01", "2999-12-31"
MESSAGE_CHARS = 200

COUNTS = ("visits", "served", "no_show", "transferred", "priority", "called", "within_target")
_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
_SECONDS = {"type": ["number", "null"], "minimum": 0, "maximum": MAX_SECONDS}
# What a center sends: one record per day, no personal data (counts, times, shares).
BATCH_SCHEMA = {
    "type": "object",
    "required": ["center", "pending", "records"],
    "properties": {
        "center": {"type": "string", "minLength": 1, "maxLength": 40},
        # The center's dost-queue version: absent from centers older than it.
        "version": {
            "type": "string",
            "minLength": 1,
            "maxLength": 40,
            "pattern": r"^[0-9A-Za-z.+-]+$",
        },
        "pending": _COUNT,
        "records": {
            "type": "array",
            "maxItems": MAX_RECORDS,
            "items": {
                "type": "object",
                "required": ["day", "revision", "final", "totals", "hours"],
                "properties": {
                    "day": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"},
                    "revision": {**_COUNT, "minimum": 1},
                    "final": {"type": "boolean"},
                    "totals": {
                        "type": "object",
                        "required": [*COUNTS, "wait_mean_s", "service_mean_s"],
                        "properties": {
                            **{key: _COUNT for key in COUNTS},
                            "wait_mean_s": _SECONDS,
                            "service_mean_s": _SECONDS,
                            # The waits told against the waits had: absent before 0.2.
                            "told": _COUNT,
                            "told_within_5min": _COUNT,
                            "told_5min_longer": _COUNT,
                            # Visitors' ratings: absent from centers older than them.
                            "rated": _COUNT,
                            "satisfied": _COUNT,
                            "rating_mean": {
                                "type": ["number", "null"],
                                "minimum": 1,
                                "maximum": 5,
                            },
                        },
                    },
                    "hours": {
                        "type": "array",
                        "maxItems": 24,
                        "items": {
                            "type": "object",
                            "required": ["hour", "arrived", "served"],
                            "properties": {
                                "hour": {"type": "integer", "minimum": 0, "maximum": 23},
                                "arrived": _COUNT,
                                "served": _COUNT,
                            },
                        },
                    },
                },
            },
        },
    },
}
_validator = Draft202012Validator(BATCH_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
# The same schema compiled to Python: a valid batch passes in a fifth of jsonschema's time
# (0.9 ms a record of 24 hours). A batch it refuses is checked again by jsonschema, whose
# message and place the center is told; its date format is looser, so days are also parsed.
_passes = fastjsonschema.compile(BATCH_SCHEMA)
# Counts that are parts of another count of the same day.
PARTS = (
    ("served", "visits"),
    ("no_show", "visits"),
    ("transferred", "visits"),
    ("priority", "visits"),
    ("called", "visits"),
    ("within_target", "called"),
    ("told", "called"),
    ("told_within_5min", "told"),
    ("told_5min_longer", "told"),
    ("rated", "served"),
    ("satisfied", "rated"),
)


def shortened(text: str) -> str:
    """Cut a message to MESSAGE_CHARS: a refusal never sends a large body back."""
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def _is_date(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def check_batch(batch: Any, center: str) -> dict[str, Any]:
    """Return the batch if a real center could have sent it, else raise Invalid naming where."""
    try:
        _passes(batch)
        error = None
    except fastjsonschema.JsonSchemaException:
        error = next(iter(_validator.iter_errors(batch)), None)
    refuse_unless_from(center, batch, error, "bad_batch")
    days: set[str] = set()
    for index, record in enumerate(batch["records"]):
        where = f"records/{index}"
        day = record["day"]
        if not FIRST_DAY <= day <= LAST_DAY or not _is_date(day):
            raise Invalid("bad_batch", f"{where}/day: {day} is not a day of this system.", where)
        if day in days:
            raise Invalid("bad_batch", f"{where}/day: {day} is twice in this batch.", where)
        days.add(day)
        totals = record["totals"]
        for part, whole in PARTS:
            if totals.get(part, 0) > totals.get(whole, 0):
                raise Invalid(
                    "bad_batch",
                    f"{where}/totals: {part} ({totals[part]}) is more than {whole} "
                    f"({totals[whole]}).",
                    f"{where}/totals/{part}",
                )
        hours = [h["hour"] for h in record["hours"]]
        if len(hours) != len(set(hours)):
            raise Invalid("bad_batch", f"{where}/hours: an hour is given twice.", where)
    return dict(batch)


# As long as a center's catalog allows (server/office/catalog_files.py MAX_TEXT): the longest
# service name of the shipped catalog is 230 characters.
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
# What a center says of its hall now (server/hq_link/sync.now_record): no personal data.
NOW_SCHEMA = {
    "type": "object",
    "required": ["center", "at", "open", "open_counters", "areas"],
    "properties": {
        "center": {"type": "string", "minLength": 1, "maxLength": 40},
        "at": {"type": "number", "minimum": 0, "maximum": 2**40},
        "open": {"type": "boolean"},
        "open_counters": {"type": "integer", "minimum": 0, "maximum": 1000},
        "areas": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["code", "name", "waiting", "wait_min"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 40},
                    "name": {
                        "type": "object",
                        "required": ["az"],
                        "additionalProperties": False,
                        "properties": {"az": _NAME, "ru": _NAME, "en": _NAME},
                    },
                    "waiting": {"type": "integer", "minimum": 0, "maximum": 100_000},
                    "wait_min": {"type": "integer", "minimum": 0, "maximum": 100_000},
                },
            },
        },
    },
}
_now_validator = Draft202012Validator(NOW_SCHEMA)


def check_now(message: Any, center: str) -> dict[str, Any]:
    """Return a center's hall now if it is one, else raise Invalid naming where."""
    refuse_unless_from(center, message, next(iter(_now_validator.iter_errors(message)), None),
                        "bad_now")  # fmt: skip
    return dict(message)


def refuse_unless_from(center: str, message: Any, error: ValidationError | None, code: str) -> None:
    """Refuse a message that failed its schema (naming where), or that names another center."""
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise Invalid(code, shortened(f"{where}: {error.message}"), where)
    if message["center"] != center:
        raise Invalid("center_mismatch", "The body names another center.", "center")


_VERSION_NUMBER = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_COUNT}
# A center asking for a newer national catalog (server/hq_link/catalog.py): what it runs
# and holds, and whether it imported a catalog of its own since it last applied one.
CATALOG_ASK_SCHEMA = {
    "type": "object",
    "required": ["center", "at", "runs", "holds", "local"],
    "additionalProperties": False,
    "properties": {
        "center": {"type": "string", "minLength": 1, "maxLength": 40},
        # The center's clock: two questions are never the same bytes (a replay's are).
        "at": {"type": "number", "minimum": 0, "maximum": 2**40},
        "runs": _VERSION_NUMBER,
        "holds": _VERSION_NUMBER,
        "local": {"type": "boolean"},
    },
}
_catalog_ask_validator = Draft202012Validator(CATALOG_ASK_SCHEMA)


def check_catalog_ask(message: Any, center: str) -> dict[str, Any]:
    """Return a center's question for a newer catalog if it is one, else raise Invalid."""
    error = next(iter(_catalog_ask_validator.iter_errors(message)), None)
    refuse_unless_from(center, message, error, "bad_catalog_ask")
    return dict(message)


_CODE = {"type": "string", "pattern": "^[A-Z2-7]{20}$"}
_CENTER_CODE = {"type": "string", "minLength": 1, "maxLength": 40}
_SERVICE = {"type": "string", "minLength": 1, "maxLength": 50}
_NAMES = {
    "type": "object",
    "required": ["az"],
    "additionalProperties": False,
    "properties": {"az": _NAME, "ru": _NAME, "en": _NAME},
}
_MOMENT = {"type": "integer", "minimum": 0, "maximum": 2**40}
# A center's appointments (server/hq_link/bookings.py): the slots it offers for the next two
# weeks, and what became of its recent bookings. No personal data either way.
APPOINTMENTS_SCHEMA = {
    "type": "object",
    "required": ["center", "at", "services", "slots", "outcomes"],
    "additionalProperties": False,
    "properties": {
        "center": {"type": "string", "minLength": 1, "maxLength": 40},
        "at": {"type": "number", "minimum": 0, "maximum": 2**40},
        # HQ's clock at its last answer this center kept: only bookings changed since then
        # are listed again (null: all of them).
        "since": {"type": ["number", "null"], "minimum": 0, "maximum": 2**40},
        # How early and late around its slot the center checks a booking in, in minutes:
        # what the booking's page tells the visitor.
        "window": {
            "type": "object",
            "required": ["early_min", "late_min"],
            "additionalProperties": False,
            "properties": {
                "early_min": {"type": "integer", "minimum": 0, "maximum": 1440},
                "late_min": {"type": "integer", "minimum": 0, "maximum": 1440},
            },
        },
        # The services the slots are for, named as the center's kiosks name them.
        "services": {
            "type": "array",
            "maxItems": 1000,
            "items": {
                "type": "object",
                "required": ["code", "name", "area"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 50},
                    "name": _NAMES,
                    "area": _NAMES,
                },
            },
        },
        "slots": {
            "type": "array",
            "maxItems": 20_000,
            "items": {
                "type": "object",
                "required": ["service", "service_id", "slot_at", "seats"],
                "additionalProperties": False,
                "properties": {
                    "service": {"type": "string", "minLength": 1, "maxLength": 50},
                    "service_id": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "slot_at": _MOMENT,
                    "seats": {"type": "integer", "minimum": 1, "maximum": 255},
                },
            },
        },
        "outcomes": {
            "type": "array",
            "maxItems": 100_000,
            "items": {
                "type": "object",
                "required": ["code", "state", "called_after_s"],
                "additionalProperties": False,
                "properties": {
                    "code": _CODE,
                    "state": {"enum": ["checked_in", "no_show"]},
                    "called_after_s": {
                        "type": ["integer", "null"],
                        "minimum": -86400,
                        "maximum": 86400,
                    },
                },
            },
        },
    },
}
_appointments_validator = Draft202012Validator(APPOINTMENTS_SCHEMA)


def check_appointments(message: Any, center: str) -> dict[str, Any]:
    """Return a center's slots and outcomes if they are that, else raise Invalid naming where."""
    error = next(iter(_appointments_validator.iter_errors(message)), None)
    refuse_unless_from(center, message, error, "bad_appointments")
    return dict(message)


# What another state system (e-Social) asks of HQ's booking API (hq/app.py, partner_bookings).
_PARTNER_ACTIONS = {
    "slots": {"center": _CENTER_CODE, "service": _SERVICE},
    "book": {"center": _CENTER_CODE, "service": _SERVICE, "slot_at": _MOMENT,
             "phone": {"type": "string", "minLength": 1, "maxLength": 30}},
    "move": {"code": {"type": "string", "minLength": 1, "maxLength": 40}, "slot_at": _MOMENT},
    "cancel": {"code": {"type": "string", "minLength": 1, "maxLength": 40}},
}  # fmt: skip
PARTNER_SCHEMA = {
    "oneOf": [
        {
            "type": "object",
            "required": ["action", "at", *fields],
            "additionalProperties": False,
            "properties": {
                "action": {"const": action},
                "at": {"type": "number", "minimum": 0, "maximum": 2**40},
                **fields,
            },
        }
        for action, fields in _PARTNER_ACTIONS.items()
    ]
}
_partner_validator = Draft202012Validator(PARTNER_SCHEMA)


def check_partner_request(message: Any) -> dict[str, Any]:
    """Return a partner's request if it is one of the actions, else raise Invalid."""
    action = message.get("action") if isinstance(message, dict) else None
    if not isinstance(action, str) or action not in _PARTNER_ACTIONS:  # {} is unhashable
        raise Invalid("bad_request", f"action: one of {', '.join(_PARTNER_ACTIONS)}.", "action")
    error = next(iter(_partner_validator.iter_errors(message)), None)
    if error is not None:
        raise Invalid("bad_request", shortened(f"body: {error.message}"), "body")
    return dict(message)
