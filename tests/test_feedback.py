"""A visitor's rating of a done visit: once per ticket, changeable for 30 minutes, no personal
data; counted in the manager's report, its exports and the day's record for HQ."""

import csv
import io
import json

import pytest

from hq.batches import check_batch
from server.hq_link import sync
from server.office import accounts, reports
from server.queue import calls, desk, feedback, views, visits
from server.queue.errors import Invalid, QueueError
from server.web import exports
from tests.conftest import login


def served(center, clock, label_count=1):
    """Serve ``label_count`` visits at Masa 1 and return their tickets (tokens included)."""
    with center.store.read() as conn:
        clerk = accounts.load_user(conn, 1, 1)
    desk.sign_in(center, 1, clerk)
    tickets = []
    for _ in range(label_count):
        tickets.append(visits.issue_ticket(center, "2.1", device=None).answer)
        clock.advance(60)
        calls.call_next(center, 1, clerk)
        desk.start_service(center, 1, clerk)
        clock.advance(300)
        desk.finish(center, 1, clerk, [])
    return tickets


def test_a_done_visit_is_rated_once_and_can_be_changed_for_30_minutes(center, clock):
    waiting = visits.issue_ticket(center, "4.4", device=None).answer  # not Masa 1's
    with pytest.raises(QueueError) as refused:
        feedback.rate_visit(center, waiting["token"], 5)
    assert refused.value.code == "visit_not_done"
    (ticket,) = served(center, clock)
    given = feedback.rate_visit(center, ticket["token"], 2, ["waiting_time"]).answer
    assert (given["rating"], given["reasons"]) == (2, ["waiting_time"])
    clock.advance(29 * 60)
    changed = feedback.rate_visit(
        center, ticket["token"], 4, ["documents", "politeness"], "Yaxşı idi"
    ).answer
    # The list's own order, whatever order they came in; still one rating for the visit.
    assert (changed["rating"], changed["reasons"]) == (4, ["politeness", "documents"])
    with center.store.read() as conn:
        assert tuple(conn.execute("SELECT count(*), max(rating) FROM feedback").fetchone()) == (
            1,
            4,
        )
    clock.advance(2 * 60)
    with pytest.raises(QueueError) as closed:
        feedback.rate_visit(center, ticket["token"], 1)
    assert closed.value.code == "feedback_closed"


@pytest.mark.parametrize(
    ("rating", "reasons", "comment", "code"),
    [
        (0, None, None, "bad_rating"),
        (6, None, None, "bad_rating"),
        (True, None, None, "bad_rating"),
        ("5", None, None, "bad_rating"),
        (5, ["rude"], None, "unknown_reason"),
        (5, "waiting_time", None, "bad_reasons"),
        (5, None, "x" * 301, "comment_too_long"),
        (5, None, 42, "bad_comment"),
    ],
)
def test_a_rating_no_phone_could_send_is_refused(center, clock, rating, reasons, comment, code):
    (ticket,) = served(center, clock)
    with pytest.raises(Invalid) as refused:
        feedback.rate_visit(center, ticket["token"], rating, reasons, comment)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Zəng edin: +994 50 123 45 67, çox sağ olun", "Zəng edin: •••, çox sağ olun"),
        ("yazın ali.mammadov@mail.az", "yazın •••"),
        ("FİN kodum 5ABCD7E idi", "FİN kodum ••• idi"),
        ("Növbə 20 dəqiqə çəkdi, B-012", "Növbə 20 dəqiqə çəkdi, B-012"),
        ("line\nbreak\tand\x00control", "line break and control"),
    ],
)
def test_a_comment_keeps_no_phone_number_mail_or_fin_and_stays_on_one_line(typed, kept):
    assert feedback.checked_comment(typed) == kept


def test_ratings_are_counted_in_the_report_its_exports_and_the_record_for_hq(center, clock):
    happy, unhappy, silent = served(center, clock, 3)
    feedback.rate_visit(center, happy["token"], 5, ["politeness"], "=HYPERLINK(1)")
    feedback.rate_visit(center, unhappy["token"], 2, ["waiting_time", "premises"])
    leaving = visits.issue_ticket(center, "2.1", device=None).answer
    visits.cancel_by_visitor(center, leaving["token"])
    day = center.day(clock.now)
    with center.store.read() as conn:
        report = reports.report(conn, day, day, center.timezone)
        rows = list(reports.visit_rows(reports.visits(conn, day, day), center.timezone))
        record = sync.day_record(center, conn, day, 1)
    totals = report["totals"]
    assert (totals["rated"], totals["satisfied"], totals["satisfied_percent"]) == (2, 1, 50.0)
    assert totals["rating_mean"] == 3.5
    assert (totals["reason_waiting_time"], totals["reason_politeness"]) == (1, 1)
    assert totals["cancelled_by_visitor"] == 1 and totals["cancelled"] == 1
    (clerk,) = report["clerks"]
    assert (clerk["rated"], clerk["satisfied_percent"]) == (2, 50.0)
    assert [h["rated"] for h in report["hours"] if h["rated"]] == [2]
    assert report["days"][0]["day"] == day
    # The visits export carries each rating and its comment, never as a formula.
    by_ticket = {row[1]: dict(zip(reports.VISIT_COLUMNS, row, strict=True)) for row in rows}
    assert by_ticket[happy["label"]]["rating"] == 5
    assert by_ticket[silent["label"]]["rating"] is None
    assert by_ticket[leaving["label"]]["outcome"] == "cancelled_by_visitor"
    text = exports.table_csv(reports.VISIT_COLUMNS, rows).decode("utf-8-sig")
    comments = [r["rating_comment"] for r in csv.DictReader(io.StringIO(text)) if r["rating"]]
    assert "'=HYPERLINK(1)" in comments
    report_text = exports.report_csv(report).decode("utf-8-sig")
    assert "satisfied_percent" in report_text and "reason_waiting_time" in report_text
    # HQ gets the counts and the shares, no comment; HQ's own check accepts them.
    assert (record["totals"]["rated"], record["totals"]["satisfied"]) == (2, 1)
    assert "HYPERLINK" not in json.dumps(record)
    check_batch({"center": "baku-1", "pending": 0, "records": [record]}, "baku-1")


def test_the_phone_rates_through_the_api_and_addresses_are_limited(app_center):
    center = app_center.app.extensions["dostq.center"]
    (ticket,) = served(center, app_center.clock)
    phone = app_center.app.test_client()
    csrf = {"X-CSRFToken": phone.get("/api/v1/session").get_json()["csrf_token"]}
    url = f"/api/v1/tickets/status/{ticket['token']}/feedback"
    assert phone.get(f"/api/v1/tickets/status/{ticket['token']}").get_json()["feedback"] is None
    given = phone.post(url, json={"rating": 5, "reasons": ["competence"]}, headers=csrf)
    assert given.status_code == 200 and given.get_json()["reasons"] == ["competence"]
    status = phone.get(f"/api/v1/tickets/status/{ticket['token']}").get_json()
    assert status["feedback"]["rating"] == 5
    assert phone.post(url, json={"rating": 9}, headers=csrf).status_code == 400
    assert phone.post(url, json={"rating": 5, "who": "me"}, headers=csrf).status_code == 400
    assert (
        phone.post("/api/v1/tickets/status/nosuch/feedback", json={"rating": 5}, headers=csrf)
    ).status_code == 404
    answers = [phone.post(url, json={"rating": 4}, headers=csrf) for _ in range(8)]
    # PHONE_RATINGS_PER_MINUTE = 10 per address: four answered above, six more, then 429.
    assert [a.status_code for a in answers] == [200] * 6 + [429] * 2
    assert answers[-1].get_json()["error"]["code"] == "too_many_ratings"


def test_a_clerk_cannot_see_the_report_a_manager_reads_satisfaction_there(app_center):
    center = app_center.app.extensions["dostq.center"]
    (ticket,) = served(center, app_center.clock)
    feedback.rate_visit(center, ticket["token"], 4, ["premises"])
    clerk = app_center.app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    assert clerk.get("/manager/report").status_code in (302, 403)
    manager = app_center.app.test_client()
    login(manager, "manager", "floor-boss-secret")
    page = manager.get("/manager/report").text
    assert 'id="satisfaction"' in page and "Bina və şərait" in page


def test_a_clerk_sees_what_visitors_said_of_their_own_visits_only(center, clock):
    first, second = served(center, clock, 2)
    feedback.rate_visit(center, first["token"], 5)
    feedback.rate_visit(center, second["token"], 3)
    day = center.day(clock.now)
    with center.store.read() as conn:
        mine, other = views.clerk_day(conn, 1, day), views.clerk_day(conn, 2, day)
    assert (mine["rated"], mine["satisfied_percent"]) == (2, 50.0)
    assert (other["rated"], other["satisfied_percent"]) == (0, None)


@pytest.fixture
def tablet(app_center):
    """A feedback tablet on Masa 1, its socket connected."""
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        token = accounts.enrol_device(
            conn, "masa-1-tablet", "feedback", 0.0, counter_id=app_center.ids["counter1"]
        )
    socketio = app_center.app.extensions["socketio"]
    client = socketio.test_client(app_center.app, auth={"device_token": token})
    assert client.is_connected()
    client.get_received()
    return token, client


def test_the_tablet_on_the_counter_asks_after_each_finished_visit_and_rates_it(app_center, tablet):
    token, socket = tablet
    clerk = app_center.app.test_client()
    csrf = login(clerk, "clerk1", "masa-one-secret")
    center = app_center.app.extensions["dostq.center"]
    ticket = visits.issue_ticket(center, "2.1", device=None, language="ru").answer
    base = f"/api/v1/counters/{app_center.ids['counter1']}"
    for step in ("session", "call-next", "start"):
        clerk.post(f"{base}/{step}", headers=csrf)
    clerk.post(f"{base}/finish", json={"delivered": []}, headers=csrf)
    (wanted,) = [e["args"][0] for e in socket.get_received() if e["name"] == "feedback_wanted"]
    assert wanted == {"ticket_id": ticket["id"], "label": ticket["label"], "language": "ru"}
    device = app_center.app.test_client()
    headers = {"Authorization": f"Device {token}"}
    rated = device.post(
        "/api/v1/feedback",
        json={"ticket_id": ticket["id"], "rating": 5, "reasons": ["politeness"]},
        headers=headers,
    )
    assert rated.status_code == 200 and rated.get_json()["rating"] == 5
    # The phone sees the tablet's rating: one per visit, whichever gave it.
    status = device.get(f"/api/v1/tickets/status/{ticket['token']}").get_json()
    assert status["feedback"]["rating"] == 5
    # ...and a phone already open on it is told (it went on asking for a rating): the rating
    # wakes the phones' pass.
    from server.queue.facts import VisitRated

    with center.store.read() as conn:
        tablet_device = accounts.device_for_token(conn, token)
    again = feedback.rate_at_counter(center, tablet_device, ticket["id"], 4)
    assert VisitRated(ticket["id"]) in again.facts
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    body = {"ticket_id": ticket["id"], "rating": 1}
    assert device.post("/api/v1/feedback", json=body, headers=kiosk).status_code == 403
    assert device.post("/api/v1/feedback", json=body).status_code == 401


def test_a_tablet_rates_only_its_own_counters_visits(app_center, tablet):
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        other = accounts.enrol_device(
            conn, "masa-2-tablet", "feedback", 0.0, counter_id=app_center.ids["counter2"]
        )
    (ticket,) = served(center, app_center.clock)  # at Masa 1
    answer = app_center.app.test_client().post(
        "/api/v1/feedback",
        json={"ticket_id": ticket["id"], "rating": 5},
        headers={"Authorization": f"Device {other}"},
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "not_your_counter"


@pytest.mark.parametrize(
    ("kind", "counter", "code"),
    [("feedback", None, "feedback_needs_counter"), ("display", 1, "feedback_needs_counter")],
)
def test_a_tablet_and_only_a_tablet_names_its_counter(center, kind, counter, code):
    with center.store.write() as conn, pytest.raises(Invalid) as refused:
        accounts.enrol_device(conn, "x", kind, 0.0, counter_id=counter)
    assert refused.value.code == code
