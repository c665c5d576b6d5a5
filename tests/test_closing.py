"""Closing a day: what is still open at closing time, or when a day is over, closes unserved."""

import json

from click.testing import CliRunner

from server.cli import main
from server.hq_link import sync
from server.office import accounts, admin, reports
from server.queue import calls, closing, desk, ticket_views, visits
from server.queue.center import Center
from server.queue.facts import CounterFreed, QueueChanged
from server.queue.storage import Store
from tests.conftest import login

HOUR = 3600.0


def _clerk(center, username, password):
    with center.store.write() as conn:
        return accounts.authenticate(conn, username, password)


def _states(center):
    with center.store.read() as conn:
        return dict(conn.execute("SELECT label, state FROM tickets ORDER BY id").fetchall())


def _a_worked_morning(center, clock):
    """Four visitors of 2.1: one on hold, one being served, one called, one waiting."""
    with center.store.write() as conn:
        admin.set_hours(conn, "06:00", "17:00", [0, 1, 2, 3, 4], "18:00")
    for _ in range(4):
        visits.issue_ticket(center, "2.1", device=None)
        clock.advance(60)
    one = _clerk(center, "clerk1", "masa-one-secret")
    two = _clerk(center, "clerk2", "masa-two-secret")
    desk.sign_in(center, 1, one)
    calls.call_next(center, 1, one)
    desk.start_service(center, 1, one)
    desk.hold(center, 1, one)
    calls.call_next(center, 1, one)
    desk.start_service(center, 1, one)
    desk.sign_in(center, 2, two)
    calls.call_next(center, 2, two)
    return one


def test_at_closing_time_what_still_waits_closes_and_a_visitor_being_served_stays(center, clock):
    _a_worked_morning(center, clock)
    assert list(_states(center).values()) == ["on_hold", "serving", "called", "waiting"]
    assert closing.close_due(center) == []  # 06:17: long before closing
    clock.now = clock.now - (clock.now % 60) + 11 * HOUR + 40 * 60  # 17:57: not yet
    assert closing.close_due(center) == []
    clock.advance(3 * 60)  # 18:00 in Baku
    (done, released) = closing.close_due(center)
    # Counter 2's visitor was closed: it is closed and free; counter 1 still serves.
    assert released.answer == {"released": [2]}
    assert done.answer["closed"] == 3
    assert done.answer["by_state"] == {"on_hold": 1, "called": 1, "waiting": 1}
    assert list(_states(center).values()) == [
        "closed_unserved", "serving", "closed_unserved", "closed_unserved",
    ]  # fmt: skip
    assert CounterFreed(2) in done.facts and QueueChanged() in done.facts
    assert closing.close_due(center) == []  # closed once: nothing the second time
    with center.store.read() as conn:
        (detail,) = conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'day_closed'"
        ).fetchone()
    assert json.loads(detail)["reason"] == "closing_time"


def test_a_day_that_is_over_closes_everything_so_the_next_day_starts_clean(center, clock):
    clerk = _a_worked_morning(center, clock)
    day = center.day(clock.now)
    clock.advance(24 * HOUR)  # the server was off until the next morning
    (done, released) = closing.close_due(center)
    assert done.answer == {"day": day, "closed": 4, "by_state": {
        "on_hold": 1, "serving": 1, "called": 1, "waiting": 1}}  # fmt: skip
    # No counter carries a visit, a clerk or "open" into the new day.
    assert released.answer == {"released": [1, 2]}
    with center.store.read() as conn:
        assert [tuple(r) for r in conn.execute("SELECT clerk_user_id, status FROM counters")] == [
            (None, "closed")
        ] * len(conn.execute("SELECT id FROM counters").fetchall())
    visits.issue_ticket(center, "2.1", device=None)
    desk.sign_in(center, 1, clerk)  # this morning's sign-in opens it again
    call, _ = calls.call_next(center, 1, clerk)
    assert call["ticket"]["day"] == center.day(clock.now)
    with center.store.read() as conn:
        report = reports.build_report(
            reports.visits(conn, day, day), day, day, center.timezone, reports.service_level(conn)
        )
        record = sync.day_record(center, conn, day, 1)
    assert report["totals"]["unserved"] == 4 and report["totals"]["served"] == 0
    assert record["totals"]["unserved"] == 4  # HQ learns it too


def test_with_no_opening_hours_a_day_closes_only_once_it_is_over(center, clock):
    visits.issue_ticket(center, "2.1", device=None)
    clock.advance(17 * HOUR)  # 23:13, same day
    assert closing.close_due(center) == []
    clock.advance(HOUR)  # 00:13, the next day
    assert [d.answer["closed"] for d in closing.close_due(center)] == [1]


def test_the_visitors_phone_says_the_day_closed(app_center):
    center = app_center.app.extensions["dostq.center"]
    ticket, _ = visits.issue_ticket(center, "2.1", device=None, language="en")
    app_center.clock.advance(24 * HOUR)
    assert app_center.app.extensions["dostq.day_closer"].check() == 1  # what runs at start
    with center.store.read() as conn:
        assert ticket_views.public_status(conn, ticket["token"])["state"] == "closed_unserved"
    page = app_center.app.test_client().get(f"/t/{ticket['token']}").get_data(as_text=True)
    assert "The day closed before this ticket was served" in page  # the ticket's language


def test_a_manager_closes_the_day_from_the_floor_after_confirming(app_center):
    center = app_center.app.extensions["dostq.center"]
    visits.issue_ticket(center, "2.1", device=None)
    manager = app_center.app.test_client()
    headers = login(manager, "manager", "floor-boss-secret")
    unconfirmed = manager.post("/manager/close-day", headers=headers, follow_redirects=True)
    assert "qutunu işarələyin" in unconfirmed.get_data(as_text=True)
    assert list(_states(center).values()) == ["waiting"]
    closed = manager.post(
        "/manager/close-day", data={"confirm": "yes"}, headers=headers, follow_redirects=True
    )
    assert "1 bilet xidmətsiz bağlandı" in closed.get_data(as_text=True)
    assert list(_states(center).values()) == ["closed_unserved"]


def test_close_day_command_as_the_readme_runs_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative --data-dir, as a center's operator types it
    CliRunner().invoke(main, ["init", "--data-dir", "data"], catch_exceptions=False)
    center = Center(Store(tmp_path / "data" / "dostq.db"))
    for _ in range(2):
        visits.issue_ticket(center, "2.1", device=None)
    center.store.close()
    result = CliRunner().invoke(main, ["close-day", "--data-dir", "data"])
    assert result.exit_code == 0 and "Closed 2 tickets of" in result.output, result.output
    again = CliRunner().invoke(main, ["close-day", "--data-dir", "data"])
    assert "Nothing open on" in again.output
    for bad in ("2026-02-30", "tomorrow", "2999-01-01"):
        refused = CliRunner().invoke(main, ["close-day", "--data-dir", "data", "--day", bad])
        assert refused.exit_code == 2 and "--day" in refused.output


def test_a_server_off_for_weeks_closes_every_day_it_missed_once(center, clock):
    # Ten clerks' worth of visits left open on three days, then three weeks off.
    days = []
    for _ in range(3):
        days.append(center.day(clock.now))
        for n in range(40):
            visits.issue_ticket(center, ("2.1", "6", "4.4")[n % 3], device=None)
        clock.advance(24 * HOUR)
    clock.advance(21 * 24 * HOUR)
    done = closing.close_due(center)
    assert [(d.answer["day"], d.answer["closed"]) for d in done] == [(day, 40) for day in days]
    assert set(_states(center).values()) == {"closed_unserved"}
    assert closing.close_due(center) == []  # nothing twice
