"""The wait a visitor is told, replayed over small halls worked out by hand.

Each hall: desks with what they serve and when they come free, visits waiting, ten minutes of
counter time per call. The old estimate (those of the same service ahead, shared by the
counters open) is given beside the hand-worked answer where it differed.
"""

from server.queue import calls, desk, visits
from server.queue.engine import CounterPolicy, WaitingTicket
from server.queue.forecast import SOON_MIN, Desk, Hall, band, minutes_until, replay

NOW = 100_000.0
MIN = 60.0


def desk_serving(counter_id, *services, categories=None, free_in_min=0.0, streak=0):
    policy = CounterPolicy(
        counter_id, dict.fromkeys(services, 1.0), frozenset(categories) if categories else None
    )
    return Desk(policy, NOW + free_in_min * MIN, streak)


def visit(ticket_id, service, waited_min, category="general", slot_in_min=None):
    slot = None if slot_in_min is None else NOW + slot_in_min * MIN
    return WaitingTicket(ticket_id, service, category, NOW - waited_min * MIN, None, slot)


def hall(desks, waiting, minutes=10.0):
    services = {t.service_id for t in waiting}
    return Hall(NOW, waiting, desks, dict.fromkeys(services, minutes))


def test_a_desk_shared_with_another_service_counts_its_visitors_ahead():
    # Desk 1 serves 1 and 2, desk 2 only 1. Visit 1 (service 2) came first and takes desk 1;
    # visit 2 takes desk 2; visit 3 waits for one of them: 10 minutes, two ahead. The old
    # estimate said one ahead in its service, shared by two counters: 5 minutes.
    found = replay(hall([desk_serving(1, 1, 2), desk_serving(2, 1)],
                        [visit(1, 2, 3), visit(2, 1, 2), visit(3, 1, 1)]))  # fmt: skip
    assert found.call_at == {1: NOW, 2: NOW, 3: NOW + 10 * MIN}
    assert found.ahead[3] == 2
    assert found.wait_minutes(3) == 10


def test_a_priority_only_desk_does_not_shorten_a_general_visitors_wait():
    # The old estimate counted desk 1 (disability only) for everyone: 2 counters, 5 minutes.
    desks = [desk_serving(1, 1, categories=["disability"]), desk_serving(2, 1)]
    found = replay(hall(desks, [visit(1, 1, 2), visit(2, 1, 1)]))
    assert found.call_at == {1: NOW, 2: NOW + 10 * MIN}
    assert found.desk_free_at[1] == NOW  # idle: nobody it may serve
    priority = replay(hall(desks, [visit(1, 1, 2), visit(2, 1, 1, category="disability")]))
    assert priority.call_at == {1: NOW, 2: NOW}


def test_a_counter_on_break_calls_once_it_is_back():
    # Desk 1 is on a break for 15 more minutes; desk 2 is free now.
    desks = [desk_serving(1, 1, free_in_min=15), desk_serving(2, 1)]
    found = replay(hall(desks, [visit(1, 1, 3), visit(2, 1, 2), visit(3, 1, 1)]))
    assert found.call_at == {1: NOW, 2: NOW + 10 * MIN, 3: NOW + 15 * MIN}


def test_a_due_appointment_goes_before_the_walk_ins():
    # Visit 2 booked a slot that began a minute ago: it is called first, visit 1 after it.
    found = replay(hall([desk_serving(1, 1)], [visit(1, 1, 10), visit(2, 1, 1, slot_in_min=-1)]))
    assert found.call_at == {2: NOW, 1: NOW + 10 * MIN}
    # One booked for in 20 minutes waits for its slot while walk-ins come first.
    later = replay(hall([desk_serving(1, 1)], [visit(1, 1, 10), visit(2, 1, 1, slot_in_min=20)]))
    assert later.call_at == {1: NOW, 2: NOW + 10 * MIN}  # the desk is idle: served early


def test_a_new_visit_waits_for_the_first_desk_that_may_serve_it():
    found = replay(hall([desk_serving(1, 1, 2), desk_serving(2, 1, free_in_min=4)],
                        [visit(1, 1, 2), visit(2, 1, 1)]))  # fmt: skip
    assert found.new_visit_minutes(1) == 10  # desk 1 frees at 10, desk 2 at 14
    assert found.new_visit_minutes(2) == 10
    assert found.new_visit_minutes(3) is None  # no open desk serves service 3


def test_soon_and_the_band():
    assert minutes_until(NOW, NOW + (SOON_MIN - 0.1) * MIN) == 0  # "called soon"
    assert minutes_until(NOW, NOW + 3 * MIN) == 3
    assert band(0) == [0, 5] and band(12) == [7, 17] and band(60) == [45, 75]


def test_a_ticket_is_told_the_replayed_wait_and_those_ahead_at_shared_desks(center, clock):
    from server.office.accounts import authenticate

    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)  # Masa 1 serves 2.1, 2.2 and 6
    first, _ = visits.issue_ticket(center, "6", device=None)
    clock.advance(1)
    second, _ = visits.issue_ticket(center, "2.1", device=None)
    # Masa 1 is free: the first is called at once; the second waits for Masa 1's visit, of
    # another service, though nobody is ahead of it in its own.
    assert first["estimated_wait_min"] == 0 and first["estimated_wait_range_min"] == [0, 5]
    assert second["people_ahead"] == 1
    assert second["estimated_wait_min"] > 0
    calls.call_next(center, 1, clerk)
    with center.store.read() as conn:
        from server.queue.ticket_views import ticket_view

        assert ticket_view(conn, second["id"], clock())["people_ahead"] == 0


def test_the_kiosk_is_told_which_services_the_day_will_not_reach(app_center):
    # T0 is 06:13 in Baku; the center closes at 07:00. Masa 1 alone serves 6, 2.1 and 2.2:
    # ten visits of 6 ahead take it past closing; 4.4's desk is closed (no estimate, no word).
    from server.office.accounts import authenticate
    from server.queue.storage import put_setting

    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        put_setting(conn, "hours", {"opens": "06:00", "last_ticket": "06:50", "closes": "07:00",
                                    "weekdays": list(range(7))})  # fmt: skip
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    client = app_center.app.test_client()

    def not_today():
        state = client.get("/kiosk/state", headers=kiosk).get_json()
        return {s["code"] for a in state["areas"] for s in a["services"] if s["not_today"]}

    assert not_today() == set()
    for _ in range(10):
        visits.issue_ticket(center, "6", device=None)
        app_center.clock.advance(1)
    assert {"6", "2.1", "2.2"} <= not_today() and "4.4" not in not_today()


def test_the_day_simulator_drives_the_real_operations_and_measures_the_estimate(tmp_path):
    # bench/day_simulator.py: a normal day through issue, call, start, finish, no-show and
    # breaks on a real Center. Every walk-in called gets its told and actual wait recorded,
    # and the replay's estimate is nearer the wait than 0.1's on the same day.
    from bench import day_simulator

    day = day_simulator.simulate("normal", 1, tmp_path)
    assert len(day.told) == len(day.told_before) > 400
    found = day_simulator.figures({"normal": [day]})
    assert (
        found["wait_estimate_within_5min_normal"] > found["wait_estimate_within_5min_normal_before"]
    )
    assert abs(found["wait_estimate_bias_min_normal"]) < abs(
        found["wait_estimate_bias_min_normal_before"]
    )


def test_a_break_said_to_last_half_an_hour_keeps_the_desk_out_of_the_wait_that_long(center, clock):
    from server.office.accounts import authenticate
    from server.queue.ticket_views import hall_forecast

    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    desk.set_status(center, 1, clerk, "break", "nahar", 30)
    ticket, _ = visits.issue_ticket(center, "6", device=None)
    with center.store.read() as conn:
        hall = hall_forecast(conn, center.day(clock()), clock())
    assert hall.call_at[ticket["id"]] == clock() + 30 * 60
    assert ticket["estimated_wait_min"] == 30


def test_visits_issued_since_the_last_replay_are_placed_as_the_replay_places_them(center, clock):
    # Issuing appends to the last replay (a desk per newcomer) instead of replaying the queue:
    # for walk-ins of one line the answer is the full replay's.
    from server.office.accounts import authenticate
    from server.queue import forecast as forecasts
    from server.queue.ticket_views import hall_forecast

    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    for _ in range(6):
        visits.issue_ticket(center, "2.1", device=None)
        clock.advance(1)
    with center.store.read() as conn:
        appended = hall_forecast(conn, center.day(clock()), clock())
        forecasts._last.clear()
        replayed = hall_forecast(conn, center.day(clock()), clock())
    assert appended.last_ticket_id == replayed.last_ticket_id
    # The same places; the times apart by the seconds between the two replays' "now" at most.
    assert appended.call_at.keys() == replayed.call_at.keys()
    assert all(abs(appended.call_at[i] - replayed.call_at[i]) <= 6 for i in replayed.call_at)
    assert appended.ahead == replayed.ahead


def test_a_planned_break_wave_takes_the_desk_away_once_its_visit_is_done():
    # Desk 1 goes on a 30-minute break at +5 min; its visit runs to +10, so the break runs to
    # +40. Visits 3 and 4 go to desk 2 one after the other instead of sharing the two desks.
    desks = [
        Desk(CounterPolicy(1, {1: 1.0}), NOW, 0, None, ((NOW + 5 * MIN, 30 * MIN),)),
        desk_serving(2, 1),
    ]
    found = replay(hall(desks, [visit(n, 1, 10 - n) for n in range(1, 5)]))
    assert found.call_at == {1: NOW, 2: NOW, 3: NOW + 10 * MIN, 4: NOW + 20 * MIN}
    # An idle desk goes at the wave's start, not when the next visitor comes.
    later = WaitingTicket(5, 1, "general", NOW + 10 * MIN)
    alone = [Desk(CounterPolicy(1, {1: 1.0}), NOW, 0, None, ((NOW + 5 * MIN, 30 * MIN),))]
    assert replay(hall(alone, [later])).call_at == {5: NOW + 35 * MIN}


def test_the_center_s_break_waves_feed_the_wait_until_the_clerk_has_taken_the_break(center, clock):
    from server.office.accounts import authenticate
    from server.queue import forecast as forecasts
    from server.queue.breaks import save_break_wave
    from server.queue.ticket_views import hall_forecast

    # T0 is 06:13 in Baku: a wave at 06:20, half an hour, for Masa 1.
    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
        save_break_wave(conn, None, "06:20", 30, [1])
        pace = forecasts.minutes_per_call(conn, center.day(clock()))
        service_id = conn.execute("SELECT id FROM services WHERE code = '6'").fetchone()[0]
    desk.sign_in(center, 1, clerk)
    visits.issue_ticket(center, "6", device=None)
    calls.call_next(center, 1, clerk)
    second, _ = visits.issue_ticket(center, "6", device=None)
    visit_end = clock() + pace[service_id] * 60
    assert visit_end > clock() + 7 * 60  # the visit runs past the wave's start
    with center.store.read() as conn:
        hall = hall_forecast(conn, center.day(clock()), clock())
    assert hall.call_at[second["id"]] == visit_end + 30 * 60
    # Past 06:20, still open since before it: the break is still to come.
    clock.advance(10 * 60)
    with center.store.read() as conn:
        hall = hall_forecast(conn, center.day(clock()), clock())
    assert hall.call_at[second["id"]] >= visit_end + 30 * 60
    # Taken (away 06:23-06:33, back open since): the desk calls once free.
    desk.mark_no_show(center, 1, clerk)
    desk.set_status(center, 1, clerk, "break", "nahar", 10)
    clock.advance(10 * 60)
    desk.set_status(center, 1, clerk, "open")
    with center.store.read() as conn:
        hall = hall_forecast(conn, center.day(clock()), clock())
    assert hall.call_at[second["id"]] == clock()


def test_a_call_after_a_morning_of_issuing_is_seen_by_the_next_look(center, clock):
    # The replay is kept while only issuing happened, found out from the events since the
    # last look: the call after them must still replace it.
    from server.office.accounts import authenticate
    from server.queue.ticket_views import hall_forecast

    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    issued = []
    for _ in range(5):
        issued.append(visits.issue_ticket(center, "2.1", device=None)[0]["id"])
        with center.store.read() as conn:
            assert issued[-1] in hall_forecast(conn, center.day(clock()), clock()).call_at
    calls.call_next(center, 1, clerk)
    with center.store.read() as conn:
        after = hall_forecast(conn, center.day(clock()), clock())
    assert issued[0] not in after.call_at and after.ahead[issued[1]] == 0


def test_places_in_line_read_at_once_are_those_read_one_by_one(center, clock):
    # No desk open serves them: each is told those of its own service before it.
    from server.queue.ticket_views import people_ahead, people_ahead_in_lines

    for service in ("2.1", "6", "2.1", "2.2", "6", "2.1"):
        visits.issue_ticket(center, service, device=None)
        clock.advance(1)
    day = center.day(clock())
    with center.store.read() as conn:
        at_once = people_ahead_in_lines(conn, day)
        rows = conn.execute("SELECT * FROM tickets WHERE day = ?", (day,)).fetchall()
        one_by_one = {row["id"]: people_ahead(conn, row) for row in rows}
    assert at_once == one_by_one and sorted(at_once.values()) == [0, 0, 0, 1, 1, 2]
