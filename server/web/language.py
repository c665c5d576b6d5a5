"""The staff pages' language: one catalog of texts per language, chosen per user and switchable.

Every visible word of a staff page (its template, its script, a message it flashes) is a key
of ``text/<lang>.json``. The three catalogs hold the same keys, and no staff template carries
a word outside them (tests/test_language.py fails otherwise). A signed-in user's choice is
stored with their account; before sign-in a cookie, then the browser's languages, choose.
Dates and numbers follow the language through Babel's CLDR data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal
from flask import Blueprint, Flask, g, redirect, request
from werkzeug.wrappers import Response

from server.queue.errors import Invalid, QueueError
from server.queue.storage import Database, SqlConnection
from server.web.security import is_local_path

LANGUAGES = {"az": "Azərbaycanca", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "az"
COOKIE = "dostq_lang"
TEXT_DIR = Path(__file__).parent / "text"

log = logging.getLogger(__name__)


@cache
def catalog(language: str) -> dict[str, str]:
    """Return every staff text in one language, by key."""
    texts: dict[str, str] = json.loads((TEXT_DIR / f"{language}.json").read_text("utf-8"))
    return texts


def translate(language: str, key: str, **values: Any) -> str:
    """Return the text ``key`` in ``language`` with its ``{name}`` slots filled."""
    text = catalog(language).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:  # the catalog test keeps this from shipping; a page still renders
        log.error("no staff text %r", key)
        return key
    return text.format(**values) if values else text


def current() -> str:
    """Return the language of this request's page."""
    if "language" not in g:
        user = g.get("user")
        chosen = request.cookies.get(COOKIE, "")
        if user is not None:
            g.language = user.language
        elif chosen in LANGUAGES:
            g.language = chosen
        else:
            g.language = request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    return str(g.language)


def text(key: str, **values: Any) -> str:
    """Return the text ``key`` in this request's language."""
    return translate(current(), key, **values)


def named(value: Any) -> str:
    """Return a name in this request's language, Azerbaijani when it has none there.

    ``value`` is a row with ``name_az``/``name_ru``/``name_en`` or a ``{az, ru, en}`` dict:
    the one way every staff page and export shows a catalog, area or category name (the
    report, the counters' page and the counter choice showed Azerbaijani on ru/en pages).
    """
    if value is None:
        return ""
    keys = value.keys() if hasattr(value, "keys") else ()
    shown = current()
    for key in (shown, f"name_{shown}", "az", "name_az", "name"):
        if key in keys and value[key]:
            return str(value[key])
    return ""


def audit_action(action: str) -> str:
    """Return what an audit line records, in words (its code for one with no words yet)."""
    key = f"audit.{action}"
    return text(key) if key in catalog(DEFAULT_LANGUAGE) else action.replace("_", " ")


def audit_detail(detail: str | None) -> str:
    """Return an audit line's detail as ``name: value`` pairs, not the JSON it is kept as."""
    if not detail:
        return ""
    try:
        values = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(values, dict):
        return str(values)
    shown = []
    for name, value in values.items():
        if isinstance(value, list | dict):
            value = ", ".join(map(str, value.values() if isinstance(value, dict) else value))
        shown.append(f"{name.replace('_', ' ')}: {value}")
    return " · ".join(shown)


def number(value: float | int | None) -> str:
    """Show a number as this request's language writes it (1 646,5 · 1.646,5 · 1,646.5)."""
    return "–" if value is None else format_decimal(value, locale=current())


def day(value: str | date | None) -> str:
    """Show a day (a date or ISO text) as this request's language writes it."""
    if not value:
        return "–"
    when = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(when, "medium", locale=current())


def weekdays() -> list[str]:
    """Return the short names of the weekdays, Monday first, in this request's language."""
    names = get_day_names("abbreviated", locale=current())
    return [names[day] for day in range(7)]


# Refusals whose message carries what the admin must see (the place in an uploaded file, the
# printer URL forms or models allowed): said after the sentence, as the server wrote it.
WITH_PLACE = frozenset(
    {"bad_catalog", "bad_national_catalog", "bad_printer_url", "unknown_printer_profile"}
)


def refusal(error: QueueError) -> str:
    """Say why a change was refused, as a sentence in this request's language.

    The field's own sentence, else the code's, else a general one: never the server's raw
    text (a schema's regex or a library's message, in English), which goes to the log.
    The same order as screen.js's ``refusal`` on the pages that refuse in the browser.
    """
    known = catalog(DEFAULT_LANGUAGE)
    for key in (f"error.{error.code}.{error.field}", f"error.{error.code}"):
        if key in known:
            said = text(key, **(error.detail or {}))
            return f"{said}: {error.message}" if error.code in WITH_PLACE else said
    log.warning("A refusal with no words of its own: %s (%s)", error.code, error.message)
    return text("error.unexplained", status=error.status)


def check_language(language: str) -> str:
    """Return ``language`` if the staff pages offer it; refuse it otherwise."""
    if language not in LANGUAGES:
        raise Invalid("bad_language", f"Language must be one of {', '.join(LANGUAGES)}.")
    return language


def save_choice(conn: SqlConnection, user_id: int, language: str) -> None:
    """Store a user's language for the staff pages."""
    conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


def init_app(app: Flask, store: Callable[[], Database], url: str) -> None:
    """Give templates ``_``, ``number`` and ``day`` and the page's texts; add the switch at url."""
    app.add_template_global(text, "_")
    app.add_template_filter(number)
    app.add_template_filter(day)
    app.add_template_filter(named)
    app.add_template_filter(audit_action)
    app.add_template_filter(audit_detail)

    @app.context_processor
    def language_of_page() -> dict[str, Any]:
        return {"language": current(), "languages": LANGUAGES, "texts": catalog(current())}

    switch = Blueprint("language", __name__)

    @switch.post(url)
    def choose() -> Response:
        """Switch the staff pages' language: stored for a signed-in user, a cookie before."""
        chosen = check_language(request.form.get("language", ""))
        user = g.get("user")
        if user is not None:
            with store().write() as conn:
                save_choice(conn, user.id, chosen)
        back = request.form.get("next", "")
        response = redirect(back if is_local_path(back) else "/")  # never an open redirect
        response.set_cookie(
            COOKIE, chosen, max_age=365 * 86400, samesite="Lax", secure=request.is_secure
        )
        return response

    app.register_blueprint(switch)
