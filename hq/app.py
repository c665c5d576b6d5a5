"""The HQ application: the signed records API for centers, and the analysts' dashboard."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from prometheus_client import CollectorRegistry
from werkzeug.wrappers import Response

from hq import bookings, catalog, storage
from hq.batches import (
    MAX_COUNT,
    check_appointments,
    check_batch,
    check_catalog_ask,
    check_now,
    check_partner_request,
)
from hq.database import open_database
from hq.keys import CenterKeys
from hq.metrics import HqMetrics
from server import settings
from server.hq_link import signing
from server.office import accounts, reports
from server.office.catalog import compare_catalogs, parse_catalog_text, parse_catalog_upload
from server.queue.errors import Forbidden, Invalid, NotFound, QueueError
from server.queue.storage import Database, SqlConnection, audit
from server.web import exports, health, language, security
from server.web.auth import TooManyAttempts, Unauthorized, safe_next, sign_in_to
from server.web.charts import bar_chart
from server.web.language import refusal, text
from server.web.shell import build_app
from server.web.validation import BadRequest, decode_json

F = TypeVar("F", bound=Callable[..., Any])

api = Blueprint("hq_api", __name__, url_prefix="/hq/api/v1")
# Named "auth" so the center's CSRF rule for sign-in forms covers this one too.
auth = Blueprint("auth", __name__, url_prefix="/hq")
# The dashboard dresses like the center's manager pages: same style sheet, served from here.
dashboard = Blueprint(
    "hq",
    __name__,
    url_prefix="/hq",
    template_folder="templates",
    static_folder="static",
)


class Replayed(QueueError):
    """A request HQ received already, byte for byte and signature for signature."""

    status = 409


def store() -> Database:
    """Return this HQ's database."""
    return current_app.extensions["dostq.hq_store"]  # type: ignore[no-any-return]


def keys() -> CenterKeys:
    """Return what opens this HQ's centers' keys."""
    return current_app.extensions["dostq.hq_keys"]  # type: ignore[no-any-return]


def today() -> date:
    """Return today's date where HQ is."""
    return datetime.now(ZoneInfo(current_app.config["HQ_TIMEZONE"])).date()


def center_key(conn: SqlConnection, center: str) -> str:
    """Return an active center's key, opened, or refuse the request (401)."""
    stored = storage.center_key(conn, center)
    if stored is None:
        raise Unauthorized("unknown_center", f"No active center '{center[:40]}' at HQ.", "center")
    return keys().open(stored)


def partner_key(conn: SqlConnection, partner: str) -> str:
    """Return an active partner system's key, opened, or refuse the request (401)."""
    stored = bookings.partner_key(conn, partner)
    if stored is None:
        raise Unauthorized("unknown_partner", f"No partner '{partner[:40]}' at HQ.", "partner")
    return keys().open(stored)


def signed_message(
    conn: SqlConnection,
    now: float,
    header: str = signing.CENTER_HEADER,
    key_of: Callable[[SqlConnection, str], str] = center_key,
) -> tuple[str, Any]:
    """Return who signed this request and its JSON body, or refuse it.

    The signer is a center, or the partner system ``header`` names. Refused: an unknown
    signer, a bad or stale signature (401), a body that is not JSON (422), the exact request
    again (409).
    """
    body = request.get_data(cache=False)
    center = request.headers.get(header, "")
    given = request.headers.get(signing.SIGNATURE_HEADER, "")
    why = signing.check(
        key_of(conn, center),
        center,
        request.headers.get(signing.TIMESTAMP_HEADER, ""),
        given,
        request.method,
        request.path,
        body,
        now,
    )
    if why:
        raise Unauthorized("bad_signature", why, signing.SIGNATURE_HEADER)
    try:
        message = decode_json(body)
    except BadRequest as exc:
        raise Invalid("not_json", exc.message) from exc
    if not storage.remember_signature(conn, given, now, signing.WINDOW_S):
        raise Replayed("replayed", "This exact request was received already.")
    return center, message


@api.post("/records")
def receive_records() -> Response:
    """Take a signed batch of day records from a center; the newest revision of a day wins."""
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        batch = check_batch(message, center)
        counts = storage.apply_records(
            conn, center, batch["records"], batch["pending"], now, batch.get("version")
        )
    return jsonify(counts)


@api.post("/now")
def receive_now() -> Response:
    """Take a center's hall as it stands now (the public page of waits shows the newest)."""
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        kept = storage.store_now(conn, center, check_now(message, center), now)
    return jsonify({"kept": kept})


@api.post("/catalog")
def offer_catalog() -> Response:
    """Answer a center's question for a newer national catalog, signed with its key.

    ``{"version": null}`` when it runs or holds the newest; else the newest version, its
    catalog as canonical JSON text and that text's sha256.
    """
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        ask = check_catalog_ask(message, center)
        latest = catalog.offer(conn, center, ask["runs"], ask["holds"], ask["local"])
        key = center_key(conn, center)
    answer: dict[str, Any] = {"version": None}
    if latest is not None:
        answer = {
            "version": latest["version"],
            "effective_day": latest["effective_day"],
            "catalog": latest["catalog"],
            "digest": latest["digest"],
        }
    return signed_answer(jsonify(answer), key, center, now)


def signed_answer(response: Response, key: str, center: str, now: float) -> Response:
    """Sign an answer the center will act on with its key (method ANSWER)."""
    stamp = int(now)
    response.headers[signing.TIMESTAMP_HEADER] = str(stamp)
    response.headers[signing.SIGNATURE_HEADER] = signing.signature(
        key, center, stamp, signing.ANSWER, request.path, response.get_data()
    )
    return response


@api.post("/appointments")
def trade_bookings() -> Response:
    """Take a center's slots and its bookings' outcomes; answer with its bookings, signed.

    The answer lists the center's bookings from yesterday on, cancelled ones too, so the
    center refuses a cancelled code even while HQ is out of reach later: those made or
    changed since the answer it kept last (``since``), or all of them, with HQ's clock
    (``as_of``) for its next question.
    """
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        offer = check_appointments(message, center)
        bookings.store_offer(conn, center, offer, now)
        listed = bookings.bookings_for(conn, center, now - 86400, offer.get("since"))
        key = center_key(conn, center)
    return signed_answer(jsonify({"as_of": now, "bookings": listed}), key, center, now)


@api.post("/bookings")
def partner_bookings() -> Response:
    """Book, move or cancel for another state system (e-Social), or list a service's free times.

    Signed like a center's request, naming the partner in ``X-DostQ-Partner``; one action per
    request: ``slots`` {center, service}, ``book`` {center, service, slot_at, phone}, ``move``
    {code, slot_at}, ``cancel`` {code}. A booking's answer is the booking with its code.
    """
    now = time.time()
    with store().write() as conn:
        partner, message = signed_message(conn, now, signing.PARTNER_HEADER, partner_key)
        answer = bookings.act_for_partner(
            conn, check_partner_request(message), partner, lambda c: center_key(conn, c), now
        )
    return jsonify(answer)


@dashboard.get("/waits")
def waits() -> str:
    """Every center's waits now, for visitors choosing where to go: public, no sign-in.

    The page reloads its own list every HQ_WAITS_REFRESH_S (hq/static/waits.js); a center
    silent for HQ_NOW_STALE_S shows when it was last heard from, never its last figures.
    """
    now = time.time()
    with store().read() as conn:
        centers = storage.live_waits(conn, now, current_app.config["HQ_NOW_STALE_S"])
    return render_template(
        "hq/waits.html",
        centers=centers,
        clock=_clock,
        now=now,
        refresh_s=current_app.config["HQ_WAITS_REFRESH_S"],
    )


def _clock(at: float, now: float) -> str:
    """Return HQ's local time of ``at``: "14:05", or "02.12 14:05" on another day."""
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    moment, today = datetime.fromtimestamp(at, zone), datetime.fromtimestamp(now, zone)
    return f"{moment:%H:%M}" if moment.date() == today.date() else f"{moment:%d.%m %H:%M}"


def analyst_required(view: F) -> F:
    """Allow the view only to a signed-in analyst (manager) or admin."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None or g.user.role not in ("manager", "admin"):
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Allow the view only to a signed-in HQ admin; others are refused (403)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if g.user.role != "admin":
            raise Forbidden("admins_only", "Only an HQ admin publishes the catalog.")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@auth.route("/login", methods=["GET", "POST"])
def login() -> str | tuple[str, int] | Response:
    """Analysts' sign-in; an analyst already signed in goes on to the dashboard."""
    if request.method == "GET" and g.user is not None and g.user.role in ("manager", "admin"):
        return redirect(safe_next(url_for("hq.centers")))
    if request.method == "POST":
        form = request.form
        try:
            user = sign_in_to(
                store(), time.time(), form.get("username", ""), form.get("password", "")
            )
        except TooManyAttempts as refused:
            flash(refusal(refused), "error")
            return render_template("login.html", layout="hq/_base.html"), 429
        if user is not None:
            return redirect(safe_next(url_for("hq.centers")))
        flash(text("login.wrong"), "error")
    return render_template("login.html", layout="hq/_base.html")


@auth.post("/logout")
def logout() -> Response:
    """Sign out everywhere."""
    if g.user is not None:
        with store().write() as conn:
            accounts.end_sessions(conn, g.user.id)
    session.clear()
    return redirect(url_for("auth.login"))


def _range() -> tuple[str, str]:
    last_default = today()
    first_default = last_default - timedelta(days=6)
    return reports.parse_range(
        request.args.get("from") or first_default.isoformat(),
        request.args.get("to") or last_default.isoformat(),
        last_default.isoformat(),
    )


@dashboard.get("/")
@analyst_required
def centers() -> str:
    """All centers side by side for a range (the last seven days by default)."""
    first, last = _range()
    with store().read() as conn:
        rows = storage.side_by_side(conn, first, last)
    return render_template("hq/centers.html", rows=rows, first=first, last=last, now=time.time())


@dashboard.get("/appointments")
@analyst_required
def appointments() -> str:
    """Bookings with a slot in a range (the last seven days by default): by center, service, day."""
    first, last = _range()
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    start = datetime.combine(date.fromisoformat(first), datetime.min.time(), zone)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), datetime.min.time(), zone)
    with store().read() as conn:
        visits = {
            row[0]: int(row[1])
            for row in conn.execute(
                "SELECT center, sum(visits) FROM day_records WHERE day BETWEEN ? AND ? "
                "GROUP BY center",
                (first, last),
            )
        }
        figures = bookings.report(
            conn,
            start.timestamp(),
            end.timestamp(),
            visits,
            lambda at: datetime.fromtimestamp(at, zone).date().isoformat(),
        )
    return render_template("hq/appointments.html", booked=figures, first=first, last=last)


@dashboard.get("/centers/<code>")
@analyst_required
def center_trend(code: str) -> str:
    """One center's figures day by day (the last 8 weeks by default)."""
    asked = request.args.get("to") or today().isoformat()
    _, last = reports.parse_range(asked, asked, asked)  # a bad "to": 400 before it is used
    last_day, eight_weeks = date.fromisoformat(last), timedelta(weeks=8)
    default_first = last_day - eight_weeks if last_day - date.min > eight_weeks else date.min
    first = request.args.get("from") or default_first.isoformat()
    first, last = reports.parse_range(first, last, last)
    with store().read() as conn:
        name = conn.execute("SELECT name FROM centers WHERE code = ?", (code,)).fetchone()
        days = storage.trend(conn, code, first, last)
    if name is None:
        raise NotFound("unknown_center", f"No center '{code}'.", "code")
    chart = bar_chart(
        [d["day"][5:] for d in days],
        [("arrived", text("report.visits"), [d["visits"] for d in days]),
         ("served", text("report.served"), [d["served"] for d in days])],
    )  # fmt: skip
    return render_template(
        "hq/trend.html", code=code, name=name[0], days=days, chart=chart, first=first, last=last
    )


EXPORT_COLUMNS = (
    "code", "name", "days", "visits", "served", "no_show", "no_show_percent", "transfer_percent",
    "priority_percent", "within_target_percent", "wait_mean_s", "service_mean_s", "busiest_hour",
    "rated", "satisfied_percent", "rating_mean", "last_sync_at", "pending", "version",
    "catalog_version",
)  # fmt: skip


@dashboard.get("/centers.<any(csv, xlsx):kind>")
@analyst_required
def centers_export(kind: str) -> Response:
    """Download the side-by-side table as CSV or XLSX."""
    first, last = _range()
    with store().read() as conn:
        rows = [[row[c] for c in EXPORT_COLUMNS] for row in storage.side_by_side(conn, first, last)]
    write = exports.table_csv if kind == "csv" else exports.table_xlsx
    return exports.attachment(write(EXPORT_COLUMNS, rows), f"dostq-hq-{first}-{last}.{kind}")


@dashboard.get("/catalog")
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


@dashboard.get("/catalog/<int:version>.json")
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


@dashboard.post("/catalog/check")
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
        return redirect(url_for("hq.catalog_versions"))
    return render_template(
        "hq/catalog_change.html",
        change=compare_catalogs(before, areas),
        text=text_,
        filename=filename,
        effective_day=effective,
        compared_with=latest["version"] if latest else 0,
    )


@dashboard.post("/catalog/publish")
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
    return redirect(url_for("hq.catalog_versions"))


SERVICE_COLUMNS = (
    "code", "name", "centers", "visits", "served", "no_show_percent", "within_target_percent",
    "wait_mean_s", "service_mean_s",
)  # fmt: skip


def _services_range() -> tuple[str, str, bool]:
    """Return the range by service, cut to its last MAX_SERVICE_DAYS; True if it was cut."""
    first, last = _range()
    last_day = date.fromisoformat(last)
    if (last_day - date.fromisoformat(first)).days < storage.MAX_SERVICE_DAYS:
        return first, last, False
    return (last_day - timedelta(days=storage.MAX_SERVICE_DAYS - 1)).isoformat(), last, True


def _services(first: str, last: str) -> list[dict[str, Any]]:
    """Return every service's figures over all centers, named in the page's language."""
    with store().read() as conn:
        rows = storage.services_nationwide(conn, first, last)
        names = {s.code: s.name for area in catalog.newest_areas(conn) for s in area.services}
    shown = language.current()
    for row in rows:
        national = names.get(row["code"], {})
        row["name"] = national.get(shown) or national.get("az") or row["sent_name"] or ""
        row["national"] = bool(national) or not names  # before the first version: all are
    return rows


@dashboard.get("/services")
@analyst_required
def services() -> str:
    """Every service over all centers for a range: national codes make the sums add up."""
    first, last, cut = _services_range()
    return render_template(
        "hq/services.html", rows=_services(first, last), first=first, last=last, cut=cut
    )


@dashboard.get("/services.<any(csv, xlsx):kind>")
@analyst_required
def services_export(kind: str) -> Response:
    """Download the table by service as CSV or XLSX."""
    first, last, _ = _services_range()
    rows = [[row[c] for c in SERVICE_COLUMNS] for row in _services(first, last)]
    write = exports.table_csv if kind == "csv" else exports.table_xlsx
    name = f"dostq-hq-services-{first}-{last}.{kind}"
    return exports.attachment(write(SERVICE_COLUMNS, rows), name)


def _identify() -> None:
    g.user, g.device, g.device_by_cookie = None, None, False
    if "uid" in session:
        with store().read() as conn:
            g.user = accounts.load_user(conn, session["uid"], session.get("sv", 0))


def create_hq_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the HQ app; ``config`` overrides defaults and ``DOSTQ_HQ_*`` variables."""
    values = settings.resolve(settings.HQ_SETTINGS, config)
    data_dir = values["HQ_DATA_DIR"]
    timezone = ZoneInfo(values["HQ_TIMEZONE"])
    app = build_app(__name__, values, data_dir, "dostq_hq", "/hq/api/", timezone)
    app.config.update(CENTER_NAME="DOST HQ", MAX_CONTENT_LENGTH=int(values["HQ_MAX_BATCH_BYTES"]))
    metrics = CollectorRegistry()
    # First: it times (and with ACCESS_LOG logs) every request.
    health.init_app(app, metrics, values["METRICS_TOKEN"], bool(values["ACCESS_LOG"]))
    hq_store = open_database(data_dir, values["HQ_DATABASE"])
    metrics.register(HqMetrics(hq_store, data_dir))
    center_keys = CenterKeys.in_folder(data_dir)
    with hq_store.write() as conn:
        center_keys.seal_plain_keys(conn)
    app.extensions["dostq.hq_store"] = hq_store
    app.extensions["dostq.hq_keys"] = center_keys
    app.before_request(_identify)
    app.before_request(security.protect_from_csrf)
    language.init_app(app, lambda: hq_store, "/hq/language")
    # Imported here: the booking pages use this module's store and keys.
    from hq.booking import bp as booking

    for blueprint in (api, auth, dashboard, booking):
        app.register_blueprint(blueprint)

    @app.get("/")
    def home() -> Response:
        return redirect(url_for("hq.centers"))

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        body, status = health.health(hq_store, data_dir)
        return jsonify(body), status

    return app
