"""LED displays and keypads joined to the queue, through the app and a real pseudo-terminal."""

import pytest

from server.queue.storage import put_setting
from tests.conftest import login, wait_until
from tests.test_hardware_serial import PluggableDevice


@pytest.fixture
def hall(app_center, tmp_path):
    """A serial line (a real pty) for the hall, a test client and kiosk headers."""
    device = PluggableDevice(str(tmp_path / "ttyHALL"))
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        put_setting(conn, "serial_lines", [{"url": device.link, "baudrate": 9600}])
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    yield device, center, app_center.app.test_client(), kiosk
    app_center.app.extensions["dostq.counter_devices"].stop()


def test_call_shows_on_the_led_and_keypad_calls_the_next_visitor(app_center, hall):
    device, center, client, kiosk = hall
    for _ in range(2):
        client.post("/api/v1/tickets", json={"service": "2.1", "print": False}, headers=kiosk)
    counter = app_center.ids["counter1"]
    csrf = login(client, "clerk1", "masa-one-secret")
    client.post(f"/api/v1/counters/{counter}/session", headers=csrf)
    client.post(f"/api/v1/counters/{counter}/call-next", headers=csrf)
    assert wait_until(lambda: f"SHOW {counter} B-001\r\n".encode() in device.read())

    device.press(f"{counter} NOSHOW")
    assert wait_until(lambda: f"CLEAR {counter}\r\n".encode() in device.read())
    device.press(f"{counter} NEXT")
    assert wait_until(lambda: f"SHOW {counter} B-002\r\n".encode() in device.read())
    with center.store.read() as conn:
        states = dict(conn.execute("SELECT label, state FROM tickets").fetchall())
    assert states == {"B-001": "no_show", "B-002": "called"}


def test_keypad_at_a_counter_nobody_is_signed_in_at_is_refused_on_screen(app_center, hall):
    device, center, client, kiosk = hall
    client.post("/api/v1/tickets", json={"service": "2.1", "print": False}, headers=kiosk)
    login(client, "clerk2", "masa-two-secret")  # a clerk screen elsewhere in the hall
    socketio = app_center.app.extensions["socketio"]
    screen = socketio.test_client(app_center.app, flask_test_client=client)
    devices = app_center.app.extensions["dostq.counter_devices"]
    assert wait_until(lambda: devices.links and devices.links[0].connected)
    device.press("garbage line")
    device.press(f"{app_center.ids['counter1']} NEXT")
    refusals = []

    def refused():
        refusals.extend(e for e in screen.get_received() if e["name"] == "keypad_refused")
        return refusals

    assert wait_until(refused)
    assert refusals[0]["args"][0] == {
        "counter_id": app_center.ids["counter1"],
        "message": "Nobody is signed in at this counter.",
    }
    with center.store.read() as conn:
        assert conn.execute("SELECT state FROM tickets").fetchone()[0] == "waiting"
    screen.disconnect()
