"""The calendar: public holidays close the center, special days have hours of their own."""

import pytest
from click.testing import CliRunner

from server.cli import main
from server.office import accounts, admin, holidays
from server.queue import closing, visits
from server.queue.errors import QueueError
from server.queue.storage import Store, get_setting
from tests.conftest import login

HOUR = 3600.0


def test_a_holiday_on_a_weekend_closes_the_next_working_day():
    days = {h["day"]: h["name"] for h in holidays.public_holidays(2026)}
    # 8 November 2026 is a Sunday and the 9th a holiday itself: the 10th is off.
    assert {"2026-11-08", "2026-11-09", "2026-11-10"} <= set(days)
    assert "instead of 08.11" in days["2026-11-10"]
    assert "2025-03-10" in {h["day"] for h in holidays.public_holidays(2025)}  # 8 March: Sat
    assert "2026-10-18" not in days and "2026-11-12" not in days  # holidays, but working days


def _hours(center, *special):
    with center.store.write() as conn:
        admin.set_hours(conn, "06:00", "17:00", [0, 1, 2, 3, 4], "18:00")
        for day, kwargs in special:
            holidays.set_special_day(conn, day, "test", **kwargs)


def test_no_tickets_on_a_holiday_and_kiosks_say_when_they_issue_again(center, clock):
    _hours(center, ("2026-11-23", {"closed": True}))  # the clock's Monday
    with pytest.raises(QueueError) as refused:
        visits.issue_ticket(center, "2.1", device=None)
    assert refused.value.code == "closed"
    assert "24.11 06:00" in refused.value.message  # Tuesday at opening
    clock.advance(24 * HOUR)
    assert visits.issue_ticket(center, "2.1", device=None).answer["state"] == "waiting"


def test_a_shortened_day_issues_and_closes_at_its_own_hours(center, clock):
    _hours(center, ("2026-11-23", {"closed": False, "opens": "06:00", "last_ticket": "06:30",
                                   "closes": "07:00"}))  # fmt: skip
    visits.issue_ticket(center, "2.1", device=None)  # 06:13: open
    clock.advance(20 * 60)  # 06:33: past the day's last ticket
    with pytest.raises(QueueError):
        visits.issue_ticket(center, "2.1", device=None)
    assert closing.close_due(center) == []
    clock.advance(30 * 60)  # 07:03: past the day's own closing time, not the usual 18:00
    assert [d.answer["closed"] for d in closing.close_due(center)] == [1]


def test_special_days_are_checked_replaced_and_removed(center):
    with center.store.write() as conn:
        for bad in (
            {"day": "2026-02-30", "closed": True},
            {"day": "2026-12-31", "closed": False, "opens": "13:00", "last_ticket": "09:00"},
            {"day": "2026-12-31", "closed": False, "opens": "nine", "last_ticket": "13:00"},
        ):
            day = bad.pop("day")
            with pytest.raises(QueueError):
                holidays.set_special_day(conn, day, "x", **bad)
        holidays.set_special_day(conn, "2026-12-31", "Ilin sonu", closed=True)
        holidays.set_special_day(
            conn, "2026-12-31", "Qısa gün", closed=False, opens="09:00", last_ticket="13:00"
        )
        assert holidays.calendar(conn) == [{"day": "2026-12-31", "name": "Qısa gün",
                                            "opens": "09:00", "last_ticket": "13:00"}]  # fmt: skip
        assert holidays.add_public_holidays(conn, 2026) == 12  # of 13: the 31st stays as set
        assert [e for e in holidays.calendar(conn) if e["day"] == "2026-12-31"][0]["name"] == (
            "Qısa gün"
        )
        holidays.remove_special_day(conn, "2026-12-31")
        with pytest.raises(QueueError):
            holidays.remove_special_day(conn, "2026-12-31")


def test_the_calendar_from_the_command_line(tmp_path):
    def dostq(*args):
        return CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path)])

    assert "public holidays of" in dostq("init").output  # this year's and next: shipped
    closed = dostq("hours", "--holiday", "2027-03-20", "--closed", "--name", "Novruz")
    assert closed.exit_code == 0 and "2027-03-20: closed." in closed.output
    short = dostq("hours", "--holiday", "2027-03-19", "--opens", "09:00", "--last-ticket", "12:00")
    assert "2027-03-19: tickets 09:00-12:00." in short.output
    assert dostq("hours", "--holiday", "2027-03-18").exit_code == 2  # closed, or hours
    assert dostq("hours", "--holiday", "2027-13-01", "--closed").exit_code == 1
    assert "ordinary day again" in dostq("hours", "--holiday", "2027-03-19", "--remove").output
    with Store(tmp_path / "dostq.db").read() as conn:
        days = {e["day"]: e for e in get_setting(conn, "calendar", [])}
    assert days["2027-03-20"]["name"] == "Novruz" and "2027-03-19" not in days


def test_the_calendar_on_the_admin_page(app_center):
    admin_client = app_center.app.test_client()
    with app_center.app.extensions["dostq.center"].store.write() as conn:
        accounts.create_user(conn, "chief", "calendar-admin-secret", "admin", 0)
    headers = login(admin_client, "chief", "calendar-admin-secret")
    page = admin_client.post(
        "/manager/admin/calendar",
        data={"day": "2027-03-20", "name": "Novruz", "closed": "on"},
        headers=headers, follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert 'data-day="2027-03-20"' in page and ">bağlı<" in page
    added = admin_client.post(
        "/manager/admin/calendar/public-holidays", data={"year": "2027"}, headers=headers,
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "2027: bayram günləri əlavə edildi: 13" in added and 'data-day="2027-01-04"' in added
    removed = admin_client.post(
        "/manager/admin/calendar/2027-03-20/remove", headers=headers, follow_redirects=True
    ).get_data(as_text=True)
    assert 'data-day="2027-03-20"' not in removed


def test_only_a_closed_special_day_names_a_holiday_for_the_kiosk(tmp_path):
    store = Store(tmp_path / "dostq.db")
    with store.write() as conn:
        holidays.set_special_day(conn, "2027-03-20", "Novruz", closed=True)
        holidays.set_special_day(conn, "2027-03-19", "Bayram ərəfəsi", closed=False,
                                 opens="09:00", last_ticket="13:00")  # fmt: skip
        assert holidays.closed_for(conn, "2027-03-20") == "Novruz"
        assert holidays.closed_for(conn, "2027-03-19") is None  # a shortened day is open
        assert holidays.closed_for(conn, "2027-03-21") is None
