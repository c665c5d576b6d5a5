"""Read models over a real database: what a visitor, a display and a clerk are shown."""

from server.queue import calls, desk, views, visits
from server.queue.facts import Called, CounterChanged, QueueChanged, TicketIssued


def _ahead(center, ticket_id):
    with center.store.read() as conn:
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return views.people_ahead(conn, row)


def test_people_ahead_counts_earlier_visits_of_the_same_service_still_queued(center, clock):
    first, _ = visits.issue_ticket(center, "2.1", device=None)
    clock.advance(1)
    visits.issue_ticket(center, "6", device=None)  # another service: not ahead
    clock.advance(1)
    visits.issue_ticket(center, "2.1", device=None)
    clock.advance(1)
    last, _ = visits.issue_ticket(center, "2.1", device=None)
    assert _ahead(center, last["id"]) == 2
    assert last["people_ahead"] == 2
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
    assert facts == (Called(call["call"]), QueueChanged())
    replay, facts = calls.call_next(center, 1, clerk, idempotency_key="k1")
    assert replay == call and facts == ()  # the first request published the call already
