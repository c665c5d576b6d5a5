"""Socket.IO end to end: a real python-socketio client against `dostq serve` (gunicorn)."""

import queue
import threading

import pytest
import requests
import socketio

from tests.live import start_live_center

CLERK = ("clerk1", "demo-counter-1")
COUNTER = 1  # demo "Masa 1": services 1.0, 4.1, 4.4, 4.7


class Screen:
    """A socket client that records every event it receives."""

    def __init__(self, url, auth=None, headers=None):
        self.events = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.connected = threading.Event()
        for name in ("snapshot", "ticket_called", "queue_changed", "counter_changed"):
            self.client.on(name, self._recorder(name))
        self.client.on("disconnect", lambda *_: self.connected.clear())
        self.client.connect(
            url, auth=auth, headers=headers or {}, transports=["websocket"], wait_timeout=10
        )
        self.connected.set()

    def _recorder(self, name):
        return lambda data: self.events.put((name, data))

    def next(self, name, timeout=10):
        while True:
            event, data = self.events.get(timeout=timeout)
            if event == name:
                return data

    def close(self):
        self.client.disconnect()


def issue(live, service="4.4"):
    response = live.kiosk().post(
        f"{live.url}/api/v1/tickets", json={"service": service, "print": False}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_display_gets_a_snapshot_then_each_call_pushed(live_center):
    display = Screen(live_center.url, auth={"device_token": live_center.tokens["display-1"]})
    snapshot = display.next("snapshot")
    assert snapshot["recent_calls"] == []
    ticket = issue(live_center)
    clerk = live_center.session(*CLERK)
    clerk.post(f"{live_center.url}/api/v1/counters/{COUNTER}/session", timeout=10)
    call = clerk.post(f"{live_center.url}/api/v1/counters/{COUNTER}/call-next", timeout=10).json()
    pushed = display.next("ticket_called")
    assert pushed == call["call"]
    assert (pushed["label"], pushed["counter"]) == (ticket["label"], "Masa 1")
    display.close()


def test_reconnecting_display_sees_calls_it_missed(live_center):
    token = {"device_token": live_center.tokens["display-1"]}
    display = Screen(live_center.url, auth=token)
    display.next("snapshot")
    display.close()
    labels = [issue(live_center)["label"] for _ in range(2)]
    clerk = live_center.session(*CLERK)
    base = f"{live_center.url}/api/v1/counters/{COUNTER}"
    clerk.post(f"{base}/session", timeout=10)
    for _ in labels:
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
    again = Screen(live_center.url, auth=token)
    snapshot = again.next("snapshot")
    assert [c["label"] for c in snapshot["recent_calls"]] == labels[::-1]
    seqs = [c["seq"] for c in snapshot["recent_calls"]]
    assert snapshot["last_seq"] == max(seqs)
    again.close()


def test_unknown_device_token_is_refused(live_center):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Screen(live_center.url, auth={"device_token": "stolen-or-made-up"})


def test_anonymous_socket_is_refused(live_center):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Screen(live_center.url)


def test_logout_closes_the_clerks_open_socket(live_center):
    clerk = live_center.session(*CLERK)
    cookie = "; ".join(f"{c.name}={c.value}" for c in clerk.cookies)
    screen = Screen(live_center.url, headers={"Cookie": cookie})
    screen.next("snapshot")
    assert clerk.delete(f"{live_center.url}/api/v1/session", timeout=10).status_code == 204
    screen.client.sleep(1)
    deadline = 50
    while screen.client.connected and deadline:
        screen.client.sleep(0.1)
        deadline -= 1
    assert not screen.client.connected


def test_socket_from_a_foreign_origin_is_refused(live_center):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Screen(
            live_center.url,
            auth={"device_token": live_center.tokens["display-1"]},
            headers={"Origin": "http://evil.example"},
        )


def test_clerk_screen_sees_the_queue_grow(live_center):
    clerk = live_center.session(*CLERK)
    cookie = "; ".join(f"{c.name}={c.value}" for c in clerk.cookies)
    screen = Screen(live_center.url, headers={"Cookie": cookie})
    screen.next("snapshot")
    ticket = issue(live_center, "4.4")
    waiting = screen.next("queue_changed")["waiting"]
    assert [(w["service"], w["waiting"]) for w in waiting] == [("4.4", 1)]
    assert ticket["label"].startswith("D-")
    screen.close()


def closes(screen, within_s=10.0):
    """Wait until the server has closed the screen's socket; True if it did."""
    for _ in range(int(within_s * 10)):
        if not screen.client.connected:
            return True
        screen.client.sleep(0.1)
    return not screen.client.connected


def device_id(live, name):
    from server.queue.storage import Store

    store = Store(live.data_dir / "dostq.db")
    with store.read() as conn:
        found = conn.execute("SELECT id FROM devices WHERE name = ?", (name,)).fetchone()[0]
    store.close()
    return found


def snapshot_status(live, token):
    """Ask for the hall's snapshot over REST as a display; return the HTTP status."""
    answer = requests.get(
        f"{live.url}/api/v1/snapshot", headers={"Authorization": f"Device {token}"}, timeout=10
    )
    return answer.status_code


@pytest.mark.parametrize("revoke", ["deactivate", "new_token"])
def test_a_revoked_display_loses_its_open_socket_at_once(live_center, revoke):
    # The server keeps which device a token names between requests (server/web/
    # device_tokens.py): the revocation must still be refused on the very next request.
    token = live_center.tokens["display-1"]
    display = Screen(live_center.url, auth={"device_token": token})
    display.next("snapshot")
    assert snapshot_status(live_center, token) == 200
    admin = live_center.session("admin", "demo-head-office")
    base = f"{live_center.url}/manager/admin/devices/{device_id(live_center, 'display-1')}"
    if revoke == "deactivate":  # "active" unticked
        answer = admin.post(base, data={"name": "display-1", "zone": ""}, timeout=10)
    else:
        answer = admin.post(f"{base}/token", timeout=10)
    assert answer.ok
    assert snapshot_status(live_center, token) == 401
    assert closes(display)


@pytest.mark.parametrize(
    "change", [{"role": "manager", "active": "on"}, {"role": "clerk"}, "password"]
)
def test_a_clerk_whose_rights_change_loses_the_open_socket_at_once(live_center, change):
    clerk = live_center.session(*CLERK)
    cookie = "; ".join(f"{c.name}={c.value}" for c in clerk.cookies)
    screen = Screen(live_center.url, headers={"Cookie": cookie})
    screen.next("snapshot")
    admin = live_center.session("admin", "demo-head-office")
    user_id = clerk.get(f"{live_center.url}/api/v1/session", timeout=10).json()["user"]["id"]
    base = f"{live_center.url}/manager/admin/users/{user_id}"
    if change == "password":
        answer = admin.post(f"{base}/password", data={"password": "a-new-long-pass"}, timeout=10)
    else:  # a new role, or "active" unticked
        answer = admin.post(base, data={"display_name": "Clerk", **change}, timeout=10)
    assert answer.ok
    assert closes(screen)


def test_a_display_revoked_by_another_process_is_closed_at_its_next_word(live_center):
    token = live_center.tokens["display-1"]
    display = Screen(live_center.url, auth={"device_token": token})
    display.next("snapshot")
    assert snapshot_status(live_center, token) == 200  # now kept in the server's memory
    from server.queue.storage import Store

    store = Store(live_center.data_dir / "dostq.db")  # as the dostq command would
    with store.write() as conn:
        conn.execute("UPDATE devices SET active = 0 WHERE name = 'display-1'")
    store.close()
    display.client.emit("request_snapshot", {})  # its next word: the server checks again
    assert closes(display)
    assert snapshot_status(live_center, token) == 401  # another connection committed


def test_a_hall_display_sees_only_its_own_hall_whatever_it_asks(live_center):
    hall2 = Screen(live_center.url, auth={"device_token": live_center.tokens["display-hall2"]})
    hall2.next("snapshot")
    asked_for_all = hall2.client.call("request_snapshot", {"zone": None}, timeout=10)
    asked_for_main = hall2.client.call("request_snapshot", {"zone": "main"}, timeout=10)
    own = hall2.client.call("request_snapshot", {"zone": "hall2"}, timeout=10)
    for answer in (asked_for_all, asked_for_main, own):
        answer.pop("at")  # when it was taken
    assert asked_for_all == asked_for_main == own
    assert not [c for c in own["counters"] if c["zone"] != "hall2"]  # none of main's five
    hall2.close()


def raw_display(live, rcvbuf=None):
    """A display's socket spoken by hand (websocket-client), over HTTPS with the center's
    certificate when it has one; ``rcvbuf``: a small receive window, a stalled link's."""
    import json
    import socket
    import ssl

    import websocket

    options = {}
    if live.url.startswith("https"):
        options["sslopt"] = {"cert_reqs": ssl.CERT_REQUIRED,
                             "ca_certs": str(live.data_dir / "tls" / "cert.pem")}  # fmt: skip
    if rcvbuf:
        options["sockopt"] = [(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)]
    ws = websocket.create_connection(
        live.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=30,
        **options,
    )
    ws.recv()  # Engine.IO open
    ws.send("40" + json.dumps({"device_token": live.tokens["display-1"]}))
    return ws


def next_frame(ws, prefix):
    """Read frames (answering pings) until one starts with ``prefix``; return it."""
    while True:
        frame = ws.recv()
        if frame == "2":  # Engine.IO ping
            ws.send("3")
        elif frame.startswith(prefix):
            return frame


@pytest.mark.live
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_display_that_stops_reading_delays_no_other_and_loses_nothing(tmp_path, tls):
    # A TV whose network stalls stops reading: the server's writes to it fill the kernel's
    # buffers, then wait. Each socket has its own writer, so the other displays keep hearing
    # every call; the stalled one is sent the rest, in order, when it reads again. Over
    # HTTPS too, as a center with its own certificate serves its TVs.
    import json
    from pathlib import Path

    live = start_live_center(tmp_path / "center", tls=tls)
    try:
        stalled = raw_display(live, rcvbuf=1024)
        display = raw_display(live)
        snapshot = next_frame(display, '42["snapshot"')
        # More than the largest send buffer the kernel grows a socket to: the server's
        # writer to the stalled display must block, whatever the machine's settings.
        most_buffered = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
        asked = 2 * most_buffered // len(snapshot) + 1
        for n in range(asked):  # the stalled display asks, and never reads the answers
            stalled.send(f"42{n}" + json.dumps(["request_snapshot", {}]))
        issue(live)
        clerk = live.session(*CLERK)
        base = f"{live.url}/api/v1/counters/{COUNTER}"
        clerk.post(f"{base}/session", timeout=10).raise_for_status()
        seqs = [clerk.post(f"{base}/call-next", timeout=10).json()["call"]["seq"]]
        for _ in range(20):  # each recall is a call on every display
            seqs.append(clerk.post(f"{base}/recall", timeout=10).json()["call"]["seq"])
        heard_by_display = [
            json.loads(next_frame(display, '42["ticket_called"')[2:])[1]["seq"] for _ in seqs
        ]
        assert heard_by_display == seqs  # every call, while the other one stalls
        answers, heard = 0, []
        while len(heard) < len(seqs):  # the stalled display reads again: nothing lost
            frame = next_frame(stalled, "4")
            if frame.startswith("43"):
                answers += 1
            elif frame.startswith('42["ticket_called"'):
                heard.append(json.loads(frame[2:])[1]["seq"])
        assert heard == seqs and answers == asked
        stalled.close()
        display.close()
    finally:
        live.stop()
