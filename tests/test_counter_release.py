"""A counter its clerk has left is closed and free: at sign-out, on deactivation, by a manager,
and the next morning, with no clerk, break or "open" carried over a night."""

import pytest

from server.office import accounts, admin
from server.queue import calls, desk, visits
from tests.conftest import login, wait_until
from tests.live import HTTP_TIMEOUT_S, start_live_center


def counters(center):
    with center.store.read() as conn:
        rows = conn.execute("SELECT id, clerk_user_id, status FROM counters").fetchall()
    return {r["id"]: (r["clerk_user_id"], r["status"]) for r in rows}


PASSWORDS = {"clerk1": "masa-one-secret", "clerk2": "masa-two-secret"}


def clerk(app_center, name):
    with app_center.app.extensions["dostq.center"].store.write() as conn:
        return accounts.authenticate(conn, name, PASSWORDS[name])


def test_a_clerk_who_signs_out_leaves_their_counter_closed_and_free(app_center):
    center = app_center.app.extensions["dostq.center"]
    client = app_center.app.test_client()
    headers = login(client, "clerk1", "masa-one-secret")
    assert client.post("/api/v1/counters/1/session", headers=headers).status_code == 200
    assert counters(center)[1] == (app_center.ids["clerk1"], "open")
    client.post("/logout", headers=headers)
    assert counters(center)[1] == (None, "closed")  # was: open, clerk1, until clerk1 came back
    other = app_center.app.test_client()
    other_headers = login(other, "clerk2", "masa-two-secret")
    assert other.post("/api/v1/counters/1/session", headers=other_headers).status_code == 200


def a_visitor_at_masa_1(app_center, serving=False):
    """clerk1 at Masa 1 with a visitor called (or being served); return them all."""
    center = app_center.app.extensions["dostq.center"]
    one = clerk(app_center, "clerk1")
    ticket = visits.issue_ticket(center, "2.1", device=None).answer
    desk.sign_in(center, 1, one)
    calls.call_next(center, 1, one)
    if serving:
        desk.start_service(center, 1, one)
    return center, one, ticket


def test_deactivating_a_clerk_closes_their_counter_and_sends_the_visitor_back(app_center):
    center, one, ticket = a_visitor_at_masa_1(app_center)
    with center.store.write() as conn:
        admin.update_user(conn, one.id, "Leyla", "clerk", False, center.now(), "2026-11-23")
        state = conn.execute("SELECT state FROM tickets WHERE id = ?", (ticket["id"],)).fetchone()
    assert counters(center)[1] == (None, "closed")  # was: no clerk, yet "open"
    assert state[0] == "waiting"  # back in line at their first arrival, not lost


@pytest.mark.parametrize("serving", [False, True])
def test_a_manager_releases_the_counter_of_a_clerk_who_went_home(app_center, serving):
    center, one, ticket = a_visitor_at_masa_1(app_center, serving)  # called, or at the desk
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    released = client.post("/manager/counters/1/release", headers=headers)
    assert released.status_code == 200 and released.get_json()["status"] == "closed"
    assert counters(center)[1] == (None, "closed")
    with center.store.read() as conn:
        state = conn.execute("SELECT state FROM tickets WHERE id = ?", (ticket["id"],)).fetchone()
    assert state[0] == "waiting"
    two = clerk(app_center, "clerk2")
    desk.sign_in(center, 1, two)  # a colleague takes the desk ("counter taken" before)
    call, _ = calls.call_next(center, 1, two)
    assert call["ticket"]["label"] == ticket["label"]
    unknown = client.post("/manager/counters/999/release", headers=headers)
    assert unknown.status_code == 404 and "error" in unknown.get_json()


@pytest.mark.live
def test_the_next_morning_no_counter_clerk_or_break_is_carried_over(tmp_path):
    live = start_live_center(tmp_path / "center")
    try:
        for number in (1, 3):
            session = live.session(f"clerk{number}", f"demo-counter-{number}")
            base = f"{live.url}/api/v1/counters/{number}"
            session.post(f"{base}/session", timeout=HTTP_TIMEOUT_S).raise_for_status()
        session.put(f"{base}/status", json={"status": "break", "reason": "nahar"},
                    timeout=HTTP_TIMEOUT_S).raise_for_status()  # fmt: skip
        manager = live.session("manager", "demo-floor-lead")

        def statuses():
            listed = manager.get(f"{live.url}/api/v1/counters", timeout=HTTP_TIMEOUT_S).json()
            return {c["id"]: (c["clerk_user_id"], c["status"]) for c in listed}

        assert statuses()[1][1] == "open" and statuses()[3][1] == "break"
        open_services = [s for a in live.kiosk().get(f"{live.url}/kiosk/state").json()["areas"]
                         for s in a["services"] if s["open"]]  # fmt: skip
        assert open_services  # the kiosk offers what counters 1 and 3 serve today
        live.restart(clock_ahead_s=24 * 3600)  # the next morning
        manager = live.session("manager", "demo-floor-lead")
        assert wait_until(lambda: all(v == (None, "closed") for v in statuses().values()), 30)
        state = live.kiosk().get(f"{live.url}/kiosk/state", timeout=HTTP_TIMEOUT_S).json()
        assert not [s for a in state["areas"] for s in a["services"] if s["open"]]
    finally:
        live.stop()


def test_a_clerk_who_signs_out_with_a_visitor_at_the_desk_keeps_the_counter(app_center):
    # Releasing it would leave a visitor mid-service at a counter nobody holds.
    center, _one, _ticket = a_visitor_at_masa_1(app_center, serving=True)
    client = app_center.app.test_client()
    headers = login(client, "clerk1", "masa-one-secret")
    client.post("/logout", headers=headers)
    assert counters(center)[1] == (app_center.ids["clerk1"], "open")


def test_every_change_at_a_desk_tells_how_the_counter_stands(app_center):
    # A keypad's START or FINISH changed the visit but said nothing of the counter: the
    # clerk's page went on offering "Start" and its next click hit a 409.
    from server.queue.facts import CounterChanged

    center = app_center.app.extensions["dostq.center"]
    one = clerk(app_center, "clerk1")
    visits.issue_ticket(center, "2.1", device=None)
    visits.issue_ticket(center, "2.1", device=None)
    desk.sign_in(center, 1, one)
    calls.call_next(center, 1, one)
    for action in (desk.start_service, desk.hold):
        changed = [f for f in action(center, 1, one).facts if isinstance(f, CounterChanged)]
        assert [c.counter["id"] for c in changed] == [1], action.__name__
    calls.call_next(center, 1, one)
    desk.start_service(center, 1, one)
    finished = desk.finish(center, 1, one, delivered=["2.1"])
    (changed,) = [f for f in finished.facts if isinstance(f, CounterChanged)]
    assert changed.counter["ticket"] is None  # free: the page offers "Call next"
