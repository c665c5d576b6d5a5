"""Read models over a real database: what a visitor, a display and a clerk are shown."""

from server.queue import calls, desk, ticket_views, visits
from server.queue.facts import Called, CounterChanged, QueueChanged, TicketIssued


def _ahead(center, ticket_id):
    with center.store.read() as conn:
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return ticket_views.people_ahead(conn, row)


def test_people_ahead_counts_earlier_visits_of_the_same_service_still_queued(center, clock):
    # With no open desk serving it (nobody to replay the hall with), its own line counts.
    first, _ = visits.issue_ticket(center, "2.1", device=None)
    clock.advance(1)
    visits.issue_ticket(center, "6", device=None)  # another service: not ahead
    clock.advance(1)
    visits.issue_ticket(center, "2.1", device=None)
    clock.advance(1)
    visits.issue_ticket(center, "2.1", device=None)
    with center.store.read() as conn:
        last = conn.execute("SELECT max(id) FROM tickets").fetchone()[0]
    assert _ahead(center, last) == 2
    assert _ahead(center, first["id"]) == 0


def test_a_called_visit_is_no_longer_ahead_of_anyone(center, clock):
    from server.office.accounts import authenticate

    visits.issue_ticket(center, "2.1", device=None)
    clock.advance(1)
    second, _ = visits.issue_ticket(center, "2.1", device=None)
    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    calls.call_next(center, 1, clerk)
    assert _ahead(center, second["id"]) == 0


def test_each_operation_returns_the_facts_it_caused(center):
    from server.office.accounts import authenticate

    ticket, facts = visits.issue_ticket(center, "2.1", device=None, language="ru")
    assert facts == (TicketIssued(ticket, None, "ru"), QueueChanged())
    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    counter, facts = desk.sign_in(center, 1, clerk)
    assert facts == (CounterChanged(counter), QueueChanged())
    call, facts = calls.call_next(center, 1, clerk, idempotency_key="k1")
    assert facts == (Called(call["call"], call["ticket"]["token"]), QueueChanged())
    replay, facts = calls.call_next(center, 1, clerk, idempotency_key="k1")
    assert replay == call and facts == ()  # the first request published the call already


def test_many_tickets_statuses_at_once_agree_with_each_tickets_own_view(center, clock):
    """The phones' pass reads every followed ticket at once; each must read as if alone."""
    import random

    from server.office.accounts import authenticate

    rng = random.Random(3)
    tickets = []
    for _ in range(40):
        service = rng.choice(["2.1", "2.2", "6"])
        tickets.append(visits.issue_ticket(center, service, device=None)[0])
        if rng.random() < 0.6:  # the rest arrive at the same second: the number breaks ties
            clock.advance(rng.randint(1, 30))
    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    for _ in range(6):
        calls.call_next(center, 1, clerk)
        desk.start_service(center, 1, clerk)
        clock.advance(240)
        desk.finish(center, 1, clerk, [])
    calls.call_next(center, 1, clerk)  # one called, not yet served
    tokens = [t["token"] for t in tickets] + ["no-such-token"]
    with center.store.read() as conn:
        statuses = ticket_views.public_statuses(conn, tokens)
        assert set(statuses) == set(tokens[:-1])
        states = {s["state"] for s in statuses.values()}
        assert {"waiting", "called", "done"} <= states
        long_lines = {s["service"]["code"] for s in statuses.values() if s["people_ahead"] > 2}
        assert len(long_lines) >= 2  # places in more than one line, not only zeros
        for ticket in tickets:
            alone = ticket_views.ticket_view(conn, ticket["id"])  # people_ahead by its own count
            status = statuses[ticket["token"]]
            assert status == ticket_views.public_status(conn, ticket["token"])
            assert (status["people_ahead"], status["estimated_wait_min"]) == (
                alone["people_ahead"],
                alone["estimated_wait_min"],
            ), ticket["label"]


def test_the_waiting_summary_counts_priority_visitors_by_category(center, clock):
    from server.queue.views import waiting_summary

    visits.issue_ticket(center, "2.1", device=None)
    visits.issue_ticket(center, "2.1", device=None, category="disability")
    clock.advance(60)
    visits.issue_ticket(center, "2.1", device=None, category="disability")
    with center.store.read() as conn:
        (line,) = waiting_summary(conn, center.day(clock.now), clock.now)
    assert (line["waiting"], line["priority"], line["categories"]) == (3, 2, {"disability": 2})
    assert line["longest_wait_s"] == 60  # the first to arrive, whatever their category


def test_tickets_are_found_by_label_through_the_day_letter_number_key(center):
    # The finder and the displays' voice read a ticket by its label: by (day, letter,
    # number), one index probe however long the day, never a walk over the day's tickets.
    from server.queue.ticket_views import called_today, find_ticket

    issued = [visits.issue_ticket(center, "2.1", device=None).answer for _ in range(3)]
    day = issued[0]["day"]
    ran: list[str] = []
    with center.store.read() as conn:
        conn.set_trace_callback(ran.append)
        assert find_ticket(conn, day, issued[1]["label"])["id"] == issued[1]["id"]
        assert not called_today(conn, day, issued[1]["label"])
        assert not called_today(conn, day, "not a label")
        conn.set_trace_callback(None)
        by_label = [sql for sql in ran if "letter =" in sql]
        plans = [
            " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)) for sql in by_label
        ]
    assert len(by_label) == 2
    assert all("(day=? AND letter=? AND number=?)" in plan for plan in plans), plans


def test_a_ticket_called_out_of_turn_by_its_label_is_that_ticket(center):
    from server.office.accounts import authenticate

    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    issued = [visits.issue_ticket(center, "2.1", device=None).answer for _ in range(3)]
    called, _ = calls.call_ticket(center, 1, clerk, issued[2]["label"].lower(), "asked for")
    assert called["ticket"]["id"] == issued[2]["id"]
