"""What every administration page shares: the blueprint, the change decorator, form readers.

Every change runs in one transaction with its audit row; a refused change comes back to the
same page with the reason, and the page keeps what was stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    request,
    url_for,
)

from server.office import admin
from server.queue.errors import Invalid, QueueError
from server.queue.storage import audit
from server.web.auth import user_required
from server.web.language import refusal, text
from server.web.wiring import center

bp = Blueprint("admin", __name__, url_prefix="/manager/admin", template_folder="../templates")
F = TypeVar("F", bound=Callable[..., Any])


def change(page: str) -> Callable[[F], F]:
    """Run a form's change for managers and admins; on refusal, flash why and show ``page``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @user_required("manager", "admin")
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                message = view(*args, **kwargs)
            except QueueError as error:
                flash(text("admin.not_changed", why=refusal(error)), "error")
                return redirect(url_for(page))
            if isinstance(message, str):
                flash(message, "done")
                return redirect(url_for(page))
            return message

        return wrapped  # type: ignore[return-value]

    return decorator


@contextmanager
def audited(action: str, detail: dict[str, Any]) -> Iterator[sqlite3.Connection]:
    """Run a change as one transaction that also writes its audit row (none if it fails)."""
    with center().transaction() as (conn, now):
        yield conn
        audit(conn, action, now, user_id=g.user.id, detail=detail, remote_addr=request.remote_addr)


def form_fields() -> dict[str, Any]:
    """Return the submitted fields fit for the audit log: no CSRF token, no password."""
    return {
        key: values if len(values) > 1 else values[0]
        for key, values in request.form.lists()
        if key not in ("csrf_token", "password")
    }


def names_given(prefix: str = "name") -> dict[str, str]:
    """Return the form's names in each language (``name_az``, ``name_ru``, ``name_en``)."""
    return {lang: request.form.get(f"{prefix}_{lang}", "") for lang in ("az", "ru", "en")}


def whole_number(field: str) -> int:
    """Return a form field as a whole number, or refuse the change naming the field."""
    try:
        return int(request.form.get(field, ""))
    except ValueError as exc:
        raise Invalid("not_a_number", f"{field} must be a whole number.", field) from exc


def _weight(code: str) -> float:
    raw = request.form.get(f"weight_{code}") or "1"
    try:
        return float(raw)
    except ValueError as exc:
        raise Invalid("bad_weight", f"The weight of {code} must be a number.") from exc


def counter_weights(conn: sqlite3.Connection) -> dict[str, float]:
    """Read what a counter serves: the ticked services with their weights, and whole areas.

    Ticking an area (or "all services") that was not ticked adds all its services; unticking
    one that was removes them; otherwise each service's own box decides, so a service of an
    area served whole can still be left out (an exception).
    """
    weights = {code: _weight(code) for code in request.form.getlist("service")}
    areas = admin.services_by_area(conn)
    groups = {f"area_{code}": codes for code, codes in areas.items()}
    groups["all"] = [code for codes in areas.values() for code in codes]
    ticked = set(request.form.getlist("group"))
    for group, codes in groups.items():
        was = request.form.get(f"was_{group}") == "1"
        if group in ticked and not was:
            weights.update({code: weights.get(code) or _weight(code) for code in codes})
        elif was and group not in ticked:
            for code in codes:
                weights.pop(code, None)
    return weights
