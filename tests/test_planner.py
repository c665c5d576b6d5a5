"""The staffing planner: a forecast from a history with a known profile, the simulated day
against Erlang C on a pooled hall, advice that meets the goal when replayed, a what-if."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.office import planner
from server.queue.engine import CounterPolicy, WaitingTicket
from server.queue.forecast import Desk, Hall, replay
from server.queue.numbers import insert_tickets
from tests.conftest import login

BAKU = ZoneInfo("Asia/Baku")
DAY = date(2026, 12, 8)  # a Tuesday
SERVICE = 1


def flat_day(per_hour: float, minutes: float, hours=(9, 17)):
    arrivals = {(h, SERVICE): per_hour for h in range(*hours)}
    return planner.DayForecast(DAY, ("x",), arrivals, {SERVICE: minutes})


def pooled(counters):
    return [planner.PlannedCounter(f"Masa {n}", CounterPolicy(n, {SERVICE: 1.0}), (9, 17))
            for n in range(1, counters + 1)]  # fmt: skip


def test_a_visit_arriving_later_is_called_when_it_comes():
    # The replay a simulated day runs: the desk idles until the visit arrives.
    start = 1_000_000.0
    later = WaitingTicket(1, SERVICE, "general", start + 300)
    hall = Hall(start, [later], [Desk(CounterPolicy(1, {SERVICE: 1.0}), start)], {SERVICE: 10})
    assert replay(hall).call_at == {1: start + 300}
    closed = Hall(start, [later], [Desk(CounterPolicy(1, {SERVICE: 1.0}), start, 0, start + 60)],
                  {SERVICE: 10})  # fmt: skip
    assert replay(closed).call_at == {}  # the desk's hours ended before it came


def test_the_forecast_is_the_mean_of_the_same_weekday_with_holidays_left_out(center):
    # Five past Tuesdays with 12 visits at 10:00 and 6 at 14:00 of service 2.1; the sixth
    # Tuesday was a holiday (no visit): it is left out, not counted as an empty day.
    with center.store.write() as conn:
        service_id = conn.execute("SELECT id FROM services WHERE code = '2.1'").fetchone()[0]
        number = 0
        for week in range(1, 6):
            day = DAY - timedelta(weeks=week)
            for hour, count in ((10, 12), (14, 6)):
                for n in range(count):
                    number += 1
                    at = datetime(day.year, day.month, day.day, hour, n, tzinfo=BAKU).timestamp()
                    insert_tickets(conn, [{
                        "token": f"t{number}", "day": day.isoformat(), "letter": "B",
                        "number": number, "label": f"B-{number:03d}", "service_id": service_id,
                        "state": "done", "print_status": "none", "arrived_at": at,
                        "queued_at": at, "first_called_at": at + 60, "finished_at": at + 660,
                    }])  # fmt: skip
        forecast = planner.forecast_day(conn, DAY, BAKU)
    assert len(forecast.days_used) == 5
    assert forecast.arrivals == {(10, service_id): 12.0, (14, service_id): 6.0}
    assert forecast.minutes_per_call[service_id] == pytest.approx(10.5)  # 10 min + walk-up


def test_a_pooled_hall_needs_what_erlang_c_says_within_one_counter():
    # 30 visitors an hour, 10 minutes each: 5 erlangs. Erlang C asks for its count to call
    # 80 % within 20 minutes; the simulated advice for a midday hour agrees within one.
    forecast = flat_day(30, 10)
    needed = planner.erlang_c_counters(30, 10, 20, 80)
    advised, figures = planner.advise(forecast, pooled(1), (9, 17), BAKU, 20, 80)
    midday = next(f for f in figures if f.hour == 13)
    assert abs(midday.counters - needed) <= 1, (midday.counters, needed)


def test_the_advice_meets_the_goal_when_the_day_is_replayed():
    forecast = flat_day(40, 9)
    advised, figures = planner.advise(forecast, pooled(2), (9, 17), BAKU, 20, 80)
    assert len(advised) > 2
    replayed = planner.simulate(forecast, advised, (9, 17), BAKU, 20)
    assert all(f.within_goal_percent >= 80 for f in replayed)


def test_a_what_if_counter_shortens_the_waits_of_its_hours_only():
    forecast = flat_day(36, 10)
    base = planner.simulate(forecast, pooled(6), (9, 17), BAKU, 20)
    extra = [planner.PlannedCounter("extra", CounterPolicy(99, {SERVICE: 1.0}), (9, 12))]
    tried = planner.simulate(forecast, pooled(6) + extra, (9, 17), BAKU, 20)
    assert all(t.mean_wait_min <= b.mean_wait_min for t, b in zip(tried[:3], base[:3], strict=True))
    assert sum(t.mean_wait_min for t in tried[:3]) < sum(b.mean_wait_min for b in base[:3])
    assert [t.counters for t in tried] == [7, 7, 7, 6, 6, 6, 6, 6]


def test_the_planner_page_and_its_csv_in_each_language(app_center):
    from server.office import history

    center = app_center.app.extensions["dostq.center"]
    today = date.fromisoformat(center.day(center.now()))
    with center.store.write() as conn:
        history.generate(conn, history.working_days_before(today, 30), 30, center.timezone)
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    tomorrow = today + timedelta(days=1)
    page = client.get(f"/manager/planner?day={tomorrow}&add=2&area=D&from=9&to=12")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'id="plan"' in body and 'class="what-if"' in body
    csv = client.get(f"/manager/planner.csv?day={tomorrow}").get_data(as_text=True)
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("hour,arrivals,counters")
    bad = client.get("/manager/planner?day=tomorrow&add=many", headers=headers)
    assert bad.status_code == 200 and "İİİİ-AA-GG" in bad.get_data(as_text=True)  # in words


def test_pooling_the_counters_shortens_a_split_hall_s_waits():
    # Two counters split by skill, one service far busier: serving everything, the same two
    # counters share the load (the biggest lever the simulated days showed).
    from server.office.staffing import WhatIf

    busy = {(h, 1): 10.0 for h in range(9, 17)}
    quiet = {(h, 2): 2.0 for h in range(9, 17)}
    forecast = planner.DayForecast(DAY, ("x",), {**busy, **quiet}, {1: 10.0, 2: 10.0})
    split = [planner.PlannedCounter("A", CounterPolicy(1, {1: 1.0}), (9, 17)),
             planner.PlannedCounter("B", CounterPolicy(2, {2: 1.0}), (9, 17))]  # fmt: skip
    pooled_plan = WhatIf(pooled=True).applied(split, {1: "A", 2: "B"}, [])
    assert all(c.policy.service_weights == {1: 1.0, 2: 1.0} for c in pooled_plan)
    before = planner.simulate(forecast, split, (9, 17), BAKU, 20)
    after = planner.simulate(forecast, pooled_plan, (9, 17), BAKU, 20)
    assert sum(f.mean_wait_min for f in after) < sum(f.mean_wait_min for f in before) / 2


def test_a_past_day_shows_the_forecast_beside_what_came(app_center):
    from server.office import history, staffing

    center = app_center.app.extensions["dostq.center"]
    today = date.fromisoformat(center.day(center.now()))
    with center.store.write() as conn:
        history.generate(conn, history.working_days_before(today, 40), 40, center.timezone)
        past = date.fromisoformat(conn.execute("SELECT max(day) FROM tickets").fetchone()[0])
        page = staffing.day_plan(center, conn, past)
    came = sum(r["came"] for r in page["rows"])
    assert came > 300 and page["error"] is not None
    assert abs(page["error"]["day_percent"]) < 30  # the generated days vary around one profile


def test_a_counter_serving_one_more_area_and_a_break_wave_moved_off_the_peak():
    from datetime import time

    from server.office.staffing import WhatIf
    from server.queue.breaks import BreakWave

    busy = {(h, 1): 10.0 for h in range(9, 17)}
    quiet = {(h, 2): 2.0 for h in range(9, 17)}
    forecast = planner.DayForecast(DAY, ("x",), {**busy, **quiet}, {1: 10.0, 2: 10.0})
    split = [planner.PlannedCounter("A", CounterPolicy(1, {1: 1.0}), (9, 17)),
             planner.PlannedCounter("B", CounterPolicy(2, {2: 1.0}), (9, 17))]  # fmt: skip
    letters = {1: "A", 2: "B"}
    widened = WhatIf(widened=(2, "A")).applied(split, letters, [])
    assert widened[1].policy.service_weights == {1: 1.0, 2: 1.0}
    assert widened[0].policy.service_weights == {1: 1.0}  # the other counter as it was
    before = planner.simulate(forecast, split, (9, 17), BAKU, 20)
    after = planner.simulate(forecast, widened, (9, 17), BAKU, 20)
    assert sum(f.mean_wait_min for f in after) < sum(f.mean_wait_min for f in before)

    # Counter A's hour-long break at 10:00 costs its visitors; moved to 16:00, the morning is
    # spared and the planned counters carry the wave's breaks.
    waves = [BreakWave(time(10), 60, frozenset({1}))]
    with_break = WhatIf(counters=0, wave_moved=(0, "10:00")).applied(split, letters, waves)
    assert with_break[0].breaks == ((10 * 3600.0, 3600.0),) and with_break[1].breaks == ()
    moved = WhatIf(wave_moved=(0, "16:00")).applied(split, letters, waves)
    assert moved[0].breaks == ((16 * 3600.0, 3600.0),)
    at_ten = planner.simulate(forecast, with_break, (9, 17), BAKU, 20)
    at_four = planner.simulate(forecast, moved, (9, 17), BAKU, 20)
    assert at_ten[1].mean_wait_min > at_four[1].mean_wait_min  # 10:00's visitors


def test_the_planner_reads_the_center_s_break_waves_and_tries_the_new_what_ifs(app_center):
    from server.office import history
    from server.queue.breaks import save_break_wave

    center = app_center.app.extensions["dostq.center"]
    today = date.fromisoformat(center.day(center.now()))
    with center.store.write() as conn:
        history.generate(conn, history.working_days_before(today, 30), 30, center.timezone)
        save_break_wave(conn, None, "13:00", 30, [1])
        plan = planner.current_plan(conn, (9, 18))
    assert plan[0].breaks == ((13 * 3600.0, 1800.0),) and plan[1].breaks == ()
    client = app_center.app.test_client()
    login(client, "manager", "floor-boss-secret")
    page = client.get("/manager/planner?widen=2&widen_area=A&wave=0&wave_at=14:00")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'value="14:00"' in body and "13:00" in body
    bad = client.get("/manager/planner?wave=0&wave_at=2pm")
    assert bad.status_code == 200 and "SS:DD" in bad.get_data(as_text=True)  # in words


def test_the_floor_gives_the_next_open_day_s_advice_once_the_last_ticket_is_out(app_center):
    from server.office import history
    from server.office.next_day import _kept
    from server.queue.storage import put_setting

    center = app_center.app.extensions["dostq.center"]
    today = date.fromisoformat(center.day(center.now()))  # T0: Monday 06:13 in Baku
    with center.store.write() as conn:
        history.generate(conn, history.working_days_before(today, 30), 30, center.timezone)
        put_setting(conn, "hours", {"opens": "05:00", "last_ticket": "07:00",
                                    "weekdays": [0, 1, 2, 3, 4]})  # fmt: skip
    client = app_center.app.test_client()
    login(client, "manager", "floor-boss-secret")
    assert client.get("/manager/floor/next-day.json").get_json() == {"advice": None}  # 06:13
    app_center.clock.advance(50 * 60)  # 07:03: the last ticket is out
    advice = client.get("/manager/floor/next-day.json").get_json()["advice"]
    assert advice["day"] == (today + timedelta(days=1)).isoformat()  # Tuesday
    assert advice["visitors"] > 300 and advice["hours"][0]["hour"] == 5
    assert advice["peak"]["counters"] == max(h["counters"] for h in advice["hours"])
    assert advice["day_label"] and advice["counters_now"] == 3
    # Friday evening: the next open day is Monday.
    app_center.clock.advance(4 * 86400)
    _kept.clear()
    advice = client.get("/manager/floor/next-day.json").get_json()["advice"]
    assert advice["day"] == (today + timedelta(days=7)).isoformat()
    assert 'id="next-day"' in client.get("/manager/").get_data(as_text=True)


def test_a_what_if_taking_counters_away_for_some_hours_lengthens_those_hours_waits():
    from server.office.staffing import WhatIf

    forecast = flat_day(36, 10)
    plan = pooled(8)
    fewer = WhatIf(counters=-3, hours=(10, 12)).applied(plan, {SERVICE: "A"}, [])
    assert [c.breaks for c in fewer[-3:]] == [((36000.0, 7200.0),)] * 3 and fewer[0].breaks == ()
    base = planner.simulate(forecast, plan, (9, 17), BAKU, 20)
    tried = planner.simulate(forecast, fewer, (9, 17), BAKU, 20)
    assert tried[1].mean_wait_min > base[1].mean_wait_min  # 10:00
    assert tried[0].mean_wait_min == base[0].mean_wait_min  # 09:00: as it was
