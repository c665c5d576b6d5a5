"""A visitor's word on a finished visit: five faces, a few reasons, a short comment.

One rating per visit, given from the phone page of its ticket (the token is the proof) or on
the feedback tablet of the counter that served it, and changeable for ``EDITABLE_S`` after it
was first given; never before the visit is done. The
comment is stored without what would name a person: phone numbers, e-mail addresses and
personal ID codes (FIN) typed into it are blanked before it is written.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from typing import Any

from server.queue.actors import Device
from server.queue.center import Center
from server.queue.errors import Forbidden, Invalid, NotFound, QueueError
from server.queue.facts import Done, VisitRated

RATINGS = range(1, 6)  # 1 (very unhappy) to 5 (very happy); 4 and 5 count as satisfied
SATISFIED = 4
# The short list the phone offers, in its order (their words: server/web/text, feedback.*).
REASONS = ("waiting_time", "politeness", "competence", "documents", "premises")
COMMENT_MAX = 300
EDITABLE_S = 30 * 60

# What would identify a visitor in a comment. A phone number is a run of 7 or more digits,
# spaces, dashes or brackets (+994 50 123 45 67); a FIN is 7 letters and digits with at least
# one of each (5ABCD7E); an e-mail is anything@anything.
PERSONAL = re.compile(
    r"\S+@\S+"
    r"|\+?\d[\d\s()-]{5,}\d"
    r"|\b(?=[0-9A-Za-z]*\d)(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{7}\b"
)
BLANKED = "•••"


def without_personal_data(comment: str) -> str:
    """Return the comment with phone numbers, e-mail addresses and FIN codes blanked."""
    return PERSONAL.sub(BLANKED, comment)


def checked_comment(comment: Any) -> str | None:
    """Return the comment as it may be stored (trimmed, one line, blanked), or None."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise Invalid("bad_comment", "The comment is text.", "comment")
    # Control characters (new lines included) go: the comment is one line in every export.
    cleaned = "".join(
        " " if unicodedata.category(ch).startswith("C") else ch for ch in comment
    ).strip()
    if len(cleaned) > COMMENT_MAX:
        raise Invalid("comment_too_long", f"At most {COMMENT_MAX} characters.", "comment")
    return without_personal_data(" ".join(cleaned.split())) or None


def checked_reasons(reasons: Any) -> list[str]:
    """Return the reasons as stored: known codes, each once, in the list's order."""
    if reasons is None:
        return []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise Invalid("bad_reasons", "Reasons are a list of codes.", "reasons")
    unknown = sorted(set(reasons) - set(REASONS))
    if unknown:
        raise Invalid("unknown_reason", f"No reason '{unknown[0]}'.", "reasons")
    return [reason for reason in REASONS if reason in reasons]


def checked_rating(rating: Any) -> int:
    """Return the rating, 1 to 5."""
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise Invalid("bad_rating", "The rating is a whole number from 1 to 5.", "rating")
    return rating


def feedback_view(row: sqlite3.Row) -> dict[str, Any]:
    """Shape a feedback row as the phone page shows it."""
    return {
        "rating": row["rating"],
        "reasons": [r for r in row["reasons"].split(",") if r],
        "comment": row["comment"],
        "editable_until": row["given_at"] + EDITABLE_S,
    }


def feedback_of(conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any] | None:
    """Return the feedback given on a visit, or None."""
    row = conn.execute("SELECT * FROM feedback WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return feedback_view(row) if row is not None else None


def rate_visit(
    center: Center, token: str, rating: Any, reasons: Any = None, comment: Any = None
) -> Done[dict[str, Any]]:
    """Record, or change within EDITABLE_S, a done visit's rating given on its phone page.

    The ticket's token (in its QR code) is the visitor's proof.
    """
    checked = checked_rating(rating), checked_reasons(reasons), checked_comment(comment)
    with center.transaction() as (conn, now):
        ticket = conn.execute(
            "SELECT id, day, state FROM tickets WHERE token = ?", (token,)
        ).fetchone()
        if ticket is None:
            raise NotFound("unknown_ticket", "No ticket with this code.", "token")
        return Done(_record(conn, now, ticket, *checked), (VisitRated(ticket["id"]),))


def rate_at_counter(
    center: Center, device: Device, ticket_id: int, rating: Any, reasons: Any = None
) -> Done[dict[str, Any]]:
    """Record the rating a visitor gave on the feedback tablet of the counter that served them.

    The tablet rates only visits its own counter finished, within EDITABLE_S of the finish
    (the tablet asks right after it, and a later visitor must not rate someone else's visit).
    """
    checked = checked_rating(rating), checked_reasons(reasons)
    with center.transaction() as (conn, now):
        ticket = conn.execute(
            "SELECT id, day, state, counter_id, finished_at FROM tickets WHERE id = ?",
            (ticket_id,),
        ).fetchone()
        if ticket is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket_id")
        if ticket["counter_id"] != device.counter_id:
            raise Forbidden("not_your_counter", "A tablet rates its own counter's visits only.")
        if ticket["finished_at"] is not None and now > ticket["finished_at"] + EDITABLE_S:
            raise QueueError("feedback_closed", "A rating can be changed for 30 minutes only.")
        # The visitor's phone stopped asking only when it rated: the tablet's rating tells it.
        return Done(_record(conn, now, ticket, *checked, None), (VisitRated(ticket["id"]),))


def _record(
    conn: sqlite3.Connection,
    now: float,
    ticket: sqlite3.Row,
    rating: int,
    reasons: list[str],
    comment: str | None,
) -> dict[str, Any]:
    if ticket["state"] != "done":
        raise QueueError("visit_not_done", "A visit is rated once it is done.")
    given = conn.execute(
        "SELECT given_at FROM feedback WHERE ticket_id = ?", (ticket["id"],)
    ).fetchone()
    if given is not None and now > given["given_at"] + EDITABLE_S:
        raise QueueError("feedback_closed", "A rating can be changed for 30 minutes only.")
    conn.execute(
        "INSERT INTO feedback (ticket_id, day, rating, reasons, comment, given_at, changed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO UPDATE SET"
        " rating = excluded.rating, reasons = excluded.reasons,"
        " comment = excluded.comment, changed_at = excluded.changed_at",
        (ticket["id"], ticket["day"], rating, ",".join(reasons), comment, now, now),
    )
    row = conn.execute("SELECT * FROM feedback WHERE ticket_id = ?", (ticket["id"],)).fetchone()
    return feedback_view(row)
