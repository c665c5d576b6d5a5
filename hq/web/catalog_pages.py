"""HQ's national catalog pages: its versions for analysts; checking and publishing for admins."""

from __future__ import annotations

import time
from datetime import date, timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hq import catalog, storage
from hq.batches import MAX_COUNT
from hq.web.context import admin_required, analyst_required, store, today
from server.office.catalog import compare_catalogs
from server.office.catalog_files import parse_catalog_text, parse_catalog_upload
from server.queue.errors import Invalid, NotFound, QueueError
from server.queue.storage import audit
from server.web import exports
from server.web.language import refusal, text

catalog_pages = Blueprint("hq_catalog", __name__, url_prefix="/hq")


@catalog_pages.get("/catalog")
@analyst_required
def catalog_versions() -> str:
    """Show the national catalog's versions, and (to admins) the form to publish the next."""
    with store().read() as conn:
        versions = catalog.versions(conn)
        centers = storage.catalog_by_center(conn)
    return render_template(
        "hq/catalog.html",
        versions=versions,
        centers=centers,
        newest=versions[0]["version"] if versions else 0,
        tomorrow=(today() + timedelta(days=1)).isoformat(),
    )


@catalog_pages.get("/catalog/<int:version>.json")
@analyst_required
def catalog_file(version: int) -> Response:
    """Download one version as the catalog file it was published from (canonical JSON)."""
    text_ = None
    if version <= MAX_COUNT:  # a larger number is no version, nor a database integer
        with store().read() as conn:
            text_ = catalog.version_text(conn, version)
    if text_ is None:
        raise NotFound("unknown_version", f"No catalog version {version}.", "version")
    return exports.attachment(text_.encode(), f"dostq-catalog-v{version}.json")


def _publication() -> tuple[str, str, str, int]:
    """Read the publishing form, refusing a day that is past or not a day.

    Returns the catalog's text and file name, the day it takes effect and the version the
    admin's diff was made against.
    """
    filename = request.form.get("filename") or "catalog.json"
    day = _effective_day(request.form.get("effective_day", ""))
    try:
        compared_with = int(request.form.get("compared_with", ""))
    except ValueError as exc:
        raise Invalid("bad_version", "Check the catalog again.", "compared_with") from exc
    return request.form.get("catalog", ""), filename, day, compared_with


def _effective_day(given: str) -> str:
    """Return the day a version takes effect, refusing one that is past or not a day."""
    try:
        day = date.fromisoformat(given)
    except ValueError as exc:
        raise Invalid("bad_day", "The day it takes effect is not a date.", "effective_day") from exc
    if day < today():
        raise Invalid("day_past", "The day it takes effect is already past.", "effective_day")
    return day.isoformat()


@catalog_pages.post("/catalog/check")
@admin_required
def check_catalog() -> str | Response:
    """Check an uploaded catalog and show what publishing it would change."""
    upload = request.files.get("catalog")
    filename = upload.filename if upload else None
    try:
        text_, areas = parse_catalog_upload(filename, upload.read() if upload else b"")
        # Checked here too: the change page shows the day, and publishing refuses a bad one.
        effective = _effective_day(
            request.form.get("effective_day") or (today() + timedelta(days=1)).isoformat()
        )
        with store().read() as conn:
            latest = catalog.newest(conn)
            before = catalog.newest_areas(conn)
    except QueueError as error:
        flash(text("admin.not_changed", why=refusal(error)), "error")
        return redirect(url_for("hq_catalog.catalog_versions"))
    return render_template(
        "hq/catalog_change.html",
        change=compare_catalogs(before, areas),
        text=text_,
        filename=filename,
        effective_day=effective,
        compared_with=latest["version"] if latest else 0,
    )


@catalog_pages.post("/catalog/publish")
@admin_required
def publish_catalog() -> Response:
    """Publish the catalog the admin has seen the change of, as the next version."""
    try:
        text_, filename, effective, compared_with = _publication()
        areas = parse_catalog_text(text_, filename)
        now = time.time()
        with store().write() as conn:
            version = catalog.publish(conn, areas, effective, compared_with, g.user.id, now)
            audit(conn, "catalog_published", now, user_id=g.user.id,
                  detail={"version": version, "effective_day": effective, "file": filename},
                  remote_addr=request.remote_addr)  # fmt: skip
    except QueueError as error:
        flash(text("admin.not_changed", why=refusal(error)), "error")
    else:
        flash(text("hq.catalog.done", version=version, day=effective), "done")
    return redirect(url_for("hq_catalog.catalog_versions"))
