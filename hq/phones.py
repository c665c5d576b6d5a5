"""Tickets' pages at HQ: the statuses centers relay, and the visitors' requests going back.

A center linked to HQ with HQ_PUBLIC_URL set prints QR codes that open ``/hq/t/<token>`` here
(server/hq_link/phones.py). HQ keeps each ticket's public status under the SHA-256 of its
token, never the token: the page's address is the only key, and HQ cannot list one. A
visitor's "leave the queue" or rating waits here until the center's next exchange takes it;
the center applies it with its own checks and acknowledges it. A past day's tickets go at the
center's first exchange of the next day.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from hq import sms_outbox
from hq.batches import refuse_unless_from
from server.hq_link.phones import public_id
from server.office.catalog_files import MAX_TEXT
from server.queue.storage import SqlConnection

# A request the center has not acknowledged is sent again after this long.
RESEND_S = 15.0
MAX_TICKETS = 2000  # a message's statuses: a record day's tickets all changed at once
KINDS = ("cancel", "feedback")
WAITING = ("issued", "waiting", "on_hold")

_NAME = {"type": ["string", "null"], "maxLength": MAX_TEXT}
_TIME = {"type": ["number", "null"], "minimum": 0, "maximum": 2**40}
_MINUTES = {"type": "integer", "minimum": 0, "maximum": 100_000}
STATUS_SCHEMA = {
    "type": "object",
    "required": ["label", "service", "language", "state"],
    "additionalProperties": False,
    "properties": {
        "label": {"type": "string", "minLength": 1, "maxLength": 20},
        "service": {
            "type": "object",
            "required": ["code", "name"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "maxLength": 40},
                "name": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"az": _NAME, "ru": _NAME, "en": _NAME},
                },
            },
        },
        "language": {"enum": ["az", "ru", "en"]},
        "state": {
            "enum": [
                *WAITING,
                "called",
                "serving",
                "done",
                "no_show",
                "cancelled",
                "closed_unserved",
            ]
        },  # fmt: skip
        "people_ahead": _MINUTES,
        "estimated_wait_min": {"type": ["integer", "null"], "minimum": 0, "maximum": 100_000},
        "estimated_wait_range_min": {
            "type": ["array", "null"],
            "items": _MINUTES,
            "minItems": 2,
            "maxItems": 2,
        },  # fmt: skip
        "counter": {"type": ["string", "null"], "maxLength": 200},
        "arrived_at": _TIME,
        "called_at": _TIME,
        "feedback": {
            "type": ["object", "null"],
            "required": ["rating"],
            "additionalProperties": False,
            "properties": {
                "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                "reasons": {
                    "type": "array",
                    "maxItems": 20,
                    "items": {"type": "string", "maxLength": 40},
                },  # fmt: skip
                "editable_until": _TIME,
            },
        },
    },
}
TICKETS_SCHEMA = {
    "type": "object",
    "required": ["center", "day", "at", "tickets", "done"],
    "additionalProperties": False,
    "properties": {
        "center": {"type": "string", "minLength": 1, "maxLength": 40},
        "day": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "at": {"type": "number", "minimum": 0, "maximum": 2**40},
        "tickets": {
            "type": "array",
            "maxItems": MAX_TICKETS,
            "items": {
                "type": "object",
                "required": ["id", "status"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "status": STATUS_SCHEMA,
                },
            },
        },
        "done": {
            "type": "array",
            "maxItems": 1000,
            "items": {"type": "integer", "minimum": 1, "maximum": 2**62},
        },  # fmt: skip
        # Numbers visitors left at the kiosk for an SMS (absent from centers before 0.3).
        "sms": {
            "type": "array",
            "maxItems": MAX_TICKETS,
            "items": {
                "type": "object",
                "required": ["id", "phone", "language"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "phone": {"type": "string", "pattern": "^994[0-9]{9}$"},
                    "language": {"enum": ["az", "ru", "en"]},
                },
            },
        },
    },
}
_validator = Draft202012Validator(TICKETS_SCHEMA)


def check_tickets(message: Any, center: str) -> dict[str, Any]:
    """Return a center's tickets message if it is one, else raise Invalid naming where."""
    refuse_unless_from(center, message, next(iter(_validator.iter_errors(message)), None),
                        "bad_tickets")  # fmt: skip
    return dict(message)


def exchange(
    conn: SqlConnection, center: str, message: dict[str, Any], now: float, near_ahead: int
) -> list[dict[str, Any]]:
    """Keep the statuses sent, forget the acknowledged requests; return the requests to send.

    A newer status wins (the center's clock, ``at``); a past day's tickets are forgotten, and
    the numbers left on them. The messages the statuses call for are owed
    (hq/sms_outbox.py).
    """
    conn.execute("DELETE FROM public_tickets WHERE center = ? AND day < ?",
                 (center, message["day"]))  # fmt: skip
    sms_outbox.forget_past(conn, center, message["day"])
    conn.executemany(
        "INSERT INTO public_tickets (id, center, day, status, at, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
        "at = excluded.at, received_at = excluded.received_at "
        "WHERE public_tickets.center = excluded.center AND public_tickets.at <= excluded.at",
        [(t["id"], center, message["day"], json.dumps(t["status"], ensure_ascii=False),
          message["at"], now) for t in message["tickets"]],
    )  # fmt: skip
    for left in message.get("sms", []):
        sms_outbox.subscribe(conn, left["id"], left["phone"], left["language"], now, near_ahead,
                             center)  # fmt: skip
    sms_outbox.enqueue(conn, center, message["tickets"], near_ahead, now)
    conn.executemany("DELETE FROM ticket_requests WHERE center = ? AND id = ?",
                     [(center, done) for done in message["done"]])  # fmt: skip
    # Requests whose ticket is gone (a past day) go with it.
    conn.execute(
        "DELETE FROM ticket_requests WHERE center = ? AND ticket NOT IN "
        "(SELECT id FROM public_tickets WHERE center = ?)",
        (center, center),
    )
    due = conn.execute(
        "SELECT id, ticket, kind, detail FROM ticket_requests WHERE center = ? "
        "AND (sent_at IS NULL OR sent_at <= ?) ORDER BY id LIMIT 500",
        (center, now - RESEND_S),
    ).fetchall()
    conn.executemany("UPDATE ticket_requests SET sent_at = ? WHERE id = ?",
                     [(now, row["id"]) for row in due])  # fmt: skip
    return [{"id": row["id"], "ticket": row["ticket"], "kind": row["kind"],
             "detail": json.loads(row["detail"])} for row in due]  # fmt: skip


def ticket(conn: SqlConnection, token: str) -> dict[str, Any] | None:
    """Return a ticket's page as HQ last heard it (its center, how old), or None."""
    row = conn.execute(
        "SELECT t.status, t.at, t.received_at, t.center, c.name FROM public_tickets t "
        "JOIN centers c ON c.code = t.center WHERE t.id = ?",
        (public_id(token),),
    ).fetchone()
    if row is None:
        return None
    pending = conn.execute(
        "SELECT kind FROM ticket_requests WHERE ticket = ?", (public_id(token),)
    ).fetchall()
    return {"status": json.loads(row["status"]), "at": row["at"], "heard_at": row["received_at"],
            "center": row["center"], "center_name": row["name"],
            "asked": sorted({r["kind"] for r in pending})}  # fmt: skip


def ask(conn: SqlConnection, token: str, kind: str, detail: dict[str, Any], now: float) -> bool:
    """Queue a visitor's request for the ticket's center; False if the ticket is unknown here."""
    row = conn.execute(
        "SELECT center FROM public_tickets WHERE id = ?", (public_id(token),)
    ).fetchone()
    if row is None:
        return False
    conn.execute(
        "INSERT INTO ticket_requests (ticket, center, kind, detail, made_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (public_id(token), row["center"], kind, json.dumps(detail, ensure_ascii=False), now),
    )
    return True
