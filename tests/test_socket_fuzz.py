"""Every Socket.IO event, from every kind of screen, with hostile payloads: never an error.

In process, through Flask-SocketIO's test client (the transport is not what is tested here;
tests/test_logs.py sends hostile packets over a real one): an event's handler must answer
nothing or its answer, and the server must go on serving.
"""

import logging

import pytest

from server.live.sockets import REQUEST_SNAPSHOT
from server.queue import visits
from tests.conftest import login

EVENTS = [REQUEST_SNAPSHOT, "printer_status", "connect", "disconnect", "no-such-event", ""]
HOSTILE = [
    None, 0, -1, 2**70, 1.5e308, float("nan"), "", "x" * 100_000, "\x00\ud800", [], [[[[]]]],
    {}, {"zone": None}, {"zone": 5}, {"zone": "x" * 5000}, {"zone": ["main"]},
    {"state": None}, {"state": 7}, {"state": "ready" * 1000}, {"__proto__": {"a": 1}},
    {"a" * 1000: "b"}, True,
]  # fmt: skip


def screens(app_center):
    """A socket test client of each kind: display, kiosk, clerk, manager, phone."""
    socketio = app_center.app.extensions["socketio"]
    center = app_center.app.extensions["dostq.center"]
    ticket = visits.issue_ticket(center, "2.1", device=None).answer
    clerk = app_center.app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    manager = app_center.app.test_client()
    login(manager, "manager", "floor-boss-secret")
    app = app_center.app
    return {
        "display": socketio.test_client(app, auth={"device_token": app_center.display_token}),
        "kiosk": socketio.test_client(app, auth={"device_token": app_center.kiosk_token}),
        "clerk": socketio.test_client(app, flask_test_client=clerk),
        "manager": socketio.test_client(app, flask_test_client=manager),
        "phone": socketio.test_client(app, auth={"ticket_token": ticket["token"]}),
    }


def test_hostile_payloads_on_every_event_from_every_screen_raise_nothing(app_center, caplog):
    clients = screens(app_center)
    assert all(client.is_connected() for client in clients.values())
    with caplog.at_level(logging.ERROR):
        for kind, client in clients.items():
            for event in EVENTS:
                for payload in HOSTILE:
                    client.emit(event, payload, callback=True)
            assert client.is_connected(), kind  # answered, not thrown off
            client.get_received()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    # A sent "disconnect" or "connect" did not make the server forget or re-sign anyone.
    sockets = app_center.app.extensions["dostq.sockets"]
    assert sorted(sockets.summary()["by_kind"][kind] for kind in ("display", "kiosk")) == [1, 1]
    snapshot = clients["display"].emit(REQUEST_SNAPSHOT, {}, callback=True)
    assert isinstance(snapshot, dict) and "recent_calls" in snapshot


# What a connect's auth may be once JSON (the test client itself cannot send NaN or 1e308).
AUTHS = [p for p in HOSTILE if not isinstance(p, float)]


@pytest.mark.parametrize(
    "auth", AUTHS + [{"device_token": p} for p in AUTHS] + [{"ticket_token": p} for p in AUTHS]
)
def test_a_hostile_connect_is_refused_quietly(app_center, caplog, auth):
    socketio = app_center.app.extensions["socketio"]
    with caplog.at_level(logging.ERROR):
        client = socketio.test_client(app_center.app, auth=auth)
    assert not client.is_connected()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
