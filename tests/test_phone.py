"""The visitor's phone: a socket that sees its own ticket only, live; leaving the queue."""

import pytest

from server.live.phones import STATUSES_PER_READ
from server.live.ratelimit import RateLimit
from server.queue import visits
from tests.conftest import login, wait_until


@pytest.fixture
def issued(app_center):
    center = app_center.app.extensions["dostq.center"]
    return [visits.issue_ticket(center, "2.1", device=None, language="ru").answer for _ in range(3)]


def phone(app_center, token):
    socketio = app_center.app.extensions["socketio"]
    return socketio.test_client(app_center.app, auth={"ticket_token": token})


class Heard:
    """Every ticket_status a test client has received so far."""

    def __init__(self, client):
        self.client, self.statuses = client, []

    def __call__(self):
        self.statuses += [
            e["args"][0] for e in self.client.get_received() if e["name"] == "ticket_status"
        ]
        return self.statuses


def test_a_phone_hears_its_own_ticket_and_nothing_of_any_other(app_center, issued):
    first, _, third = issued
    client = phone(app_center, third["token"])
    assert client.is_connected()
    received = client.get_received()
    assert [e["name"] for e in received] == ["ticket_status"]  # no snapshot, no hall
    first_word = received[0]["args"][0]
    assert (first_word["label"], first_word["people_ahead"]) == ("B-003", 2)
    heard = Heard(client)
    clerk = app_center.app.test_client()
    csrf = login(clerk, "clerk1", "masa-one-secret")
    counter = app_center.ids["counter1"]
    clerk.post(f"/api/v1/counters/{counter}/session", headers=csrf)
    clerk.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)  # B-001, not ours
    # Our place moves within a second; nothing says who was called or where.
    assert wait_until(lambda: any(s["people_ahead"] == 1 for s in heard()), 5)
    seen = heard()
    assert {s["label"] for s in seen} == {"B-003"} and all(s["state"] == "waiting" for s in seen)
    # A phone cannot ask for the hall, nor for another ticket.
    assert not client.emit("request_snapshot", {"zone": None}, callback=True)
    other = phone(app_center, "not-a-ticket-token")
    assert not other.is_connected()
    clerk.post(f"/api/v1/counters/{counter}/no-show", headers=csrf)
    clerk.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)  # B-002
    clerk.post(f"/api/v1/counters/{counter}/no-show", headers=csrf)
    clerk.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)  # B-003: ours, at once
    assert wait_until(lambda: any(s["state"] == "called" for s in heard()), 5)
    called = next(s for s in heard() if s["state"] == "called")
    assert (called["label"], called["counter"]) == ("B-003", "Masa 1")
    assert first["label"] not in {s["label"] for s in heard()}


def test_the_visitor_leaves_the_queue_from_the_phone(app_center, issued):
    client = app_center.app.test_client()
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    left = client.post(f"/api/v1/tickets/status/{issued[0]['token']}/cancel", headers=headers)
    assert left.status_code == 200 and left.get_json()["state"] == "cancelled"
    again = client.post(f"/api/v1/tickets/status/{issued[0]['token']}/cancel", headers=headers)
    assert again.status_code == 409  # once is enough; nothing doubled
    unknown = client.post("/api/v1/tickets/status/nosuch/cancel", headers=headers)
    assert unknown.status_code == 404
    # The queue moved: the next ticket has one fewer ahead, the counter would call B-002.
    status = client.get(f"/api/v1/tickets/status/{issued[2]['token']}").get_json()
    assert status["people_ahead"] == 1
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        (detail,) = conn.execute(
            "SELECT detail FROM ticket_events WHERE action = 'cancel'"
        ).fetchone()
    assert '"visitor"' in detail


def test_cancels_from_one_address_are_limited(app_center, issued):
    client = app_center.app.test_client()
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    answers = [
        client.post("/api/v1/tickets/status/nosuch/cancel", headers={"X-CSRFToken": token})
        for _ in range(12)
    ]
    assert [a.status_code for a in answers].count(429) == 2  # PHONE_CANCELS_PER_MINUTE = 10


def test_the_phone_page_shows_near_and_leaving_in_the_tickets_language(app_center, issued):
    page = app_center.app.test_client().get(f"/t/{issued[0]['token']}").text
    assert "Ваша очередь близко" in page and "Выйти из очереди" in page
    assert 'id="staff-text"' in page and "phone.cancel_sure" in page


def test_a_pass_reaches_every_phone_when_there_are_more_than_one_read_holds(app_center):
    # The pass reads STATUSES_PER_READ tickets at a time, letting the loop in between: every
    # phone past the first read must still hear its new place, once.
    center = app_center.app.extensions["dostq.center"]
    # Every test phone comes from one address: its own limit is not what is tested here.
    app_center.app.extensions["dostq.sockets"].phone_limit = RateLimit(10_000, 60)
    count = 2 * STATUSES_PER_READ + 5
    tickets = [visits.issue_ticket(center, "2.1", device=None).answer for _ in range(count)]
    heard = [Heard(phone(app_center, ticket["token"])) for ticket in tickets]
    assert all(h()[-1]["people_ahead"] == place for place, h in enumerate(heard))
    clerk = app_center.app.test_client()
    csrf = login(clerk, "clerk1", "masa-one-secret")
    counter = app_center.ids["counter1"]
    clerk.post(f"/api/v1/counters/{counter}/session", headers=csrf)
    clerk.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)  # the first: all move
    assert wait_until(
        lambda: all(h()[-1]["people_ahead"] == place - 1 for place, h in enumerate(heard[1:], 1)),
        10,
    )
    assert heard[0]()[-1]["state"] == "called"
    # A word only for a change (the counter opening changed the wait, then the call the place).
    assert all(a != b for h in heard for a, b in zip(h(), h()[1:], strict=False))


def test_a_status_sent_by_a_call_and_by_a_pass_is_heard_once(app_center, issued):
    # A call pushes its ticket's status at once while the next pass may have read the same
    # status: whichever sends second must send nothing (the full suite once caught the pair).
    phones = app_center.app.extensions["dostq.phones"]
    heard = Heard(phone(app_center, issued[0]["token"]))
    first = heard()[-1]
    phones.push(issued[0]["token"])  # the call's own push, of an unchanged status
    assert phones.push_changed() == 0  # the pass after it
    assert heard() == [first]


def test_a_pass_reads_only_tickets_with_events_and_moves_the_rest_as_a_read_would(
    app_center, monkeypatch
):
    # A waiting ticket with no event of its own keeps its status but its place in line,
    # taken from the hall's replay without a read: the phone hears what a read would say.
    from server.live import phones as phones_module
    from server.queue.ticket_views import public_statuses

    center = app_center.app.extensions["dostq.center"]
    phones = app_center.app.extensions["dostq.phones"]
    phones.stop()  # the passes run here, one at a time
    app_center.app.extensions["dostq.sockets"].phone_limit = RateLimit(10_000, 60)
    # Two lines: 2.1 at Masa 1, and 4.4, which no open counter serves once Masa 1 opens.
    tickets = [visits.issue_ticket(center, s, device=None).answer for s in ["2.1", "4.4"] * 4]
    heard = [Heard(phone(app_center, ticket["token"])) for ticket in tickets]
    read: list[str] = []

    def counting(conn, tokens, *args, **kwargs):
        read.extend(tokens)
        return public_statuses(conn, tokens, *args, **kwargs)

    monkeypatch.setattr(phones_module, "public_statuses", counting)
    phones.push_changed()  # the first pass reads every followed ticket
    assert sorted(read) == sorted(t["token"] for t in tickets)
    clerk = app_center.app.test_client()
    csrf = login(clerk, "clerk1", "masa-one-secret")
    counter = app_center.ids["counter1"]
    clerk.post(f"/api/v1/counters/{counter}/session", headers=csrf)
    clerk.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)  # the first 2.1
    read.clear()
    phones.push_changed()
    assert read == [tickets[0]["token"]]  # only the called ticket had an event
    with center.store.read() as conn:
        fresh = public_statuses(conn, [t["token"] for t in tickets])
    assert [h()[-1] for h in heard] == [fresh[t["token"]] for t in tickets]
    assert [fresh[t["token"]]["people_ahead"] for t in tickets[2::2]] == [0, 1, 2]
