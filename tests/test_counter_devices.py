"""LED displays and keypads joined to the queue, through the app and a real pseudo-terminal."""

import pytest
from click.testing import CliRunner

from server.cli import main
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
    assert wait_until(lambda: devices.links and next(iter(devices.links.values())).connected)
    device.press("garbage line")
    device.press(f"{app_center.ids['counter1']} NEXT")
    refusals = []

    def refused():
        refusals.extend(e for e in screen.get_received() if e["name"] == "keypad_refused")
        return refusals

    assert wait_until(refused)
    assert refusals[0]["args"][0] == {
        "counter_id": app_center.ids["counter1"],
        "code": "nobody_signed_in",
        "message": "Nobody is signed in at this counter.",
    }
    with center.store.read() as conn:
        assert conn.execute("SELECT state FROM tickets").fetchone()[0] == "waiting"
    screen.disconnect()


def test_a_line_added_on_the_admin_page_opens_at_once_and_shows_on_the_floor(app_center, tmp_path):
    device = PluggableDevice(str(tmp_path / "ttyDESK"))
    manager = app_center.app.test_client()
    csrf = login(manager, "manager", "floor-boss-secret")
    devices = app_center.app.extensions["dostq.counter_devices"]
    try:
        added = manager.post(
            "/manager/admin/lines", data={"url": device.link, "baudrate": "9600"}, headers=csrf,
            follow_redirects=True,
        )  # fmt: skip
        assert f"{device.link} xətti əlavə edildi" in added.get_data(as_text=True)
        # No restart: the running server opened it, and the floor says so.
        assert wait_until(lambda: devices.lines_status()[0].get("connected"))
        (line,) = manager.get("/manager/floor.json").get_json()["serial_lines"]
        assert (line["url"], line["baudrate"], line["connected"]) == (device.link, 9600, True)
        tested = manager.post(
            "/manager/admin/lines/test", data={"url": device.link}, headers=csrf,
            follow_redirects=True,
        )  # fmt: skip
        assert "888" in tested.get_data(as_text=True)
        counter = app_center.ids["counter1"]
        assert wait_until(lambda: f"SHOW {counter} 888\r\n".encode() in device.read())
        device.unplug()  # the cable pulled: the floor shows the line lost, with why
        assert wait_until(
            lambda: (
                not manager.get("/manager/floor.json").get_json()["serial_lines"][0]["connected"]
            )
        )
        (lost,) = manager.get("/manager/floor.json").get_json()["serial_lines"]
        assert lost["problem"] == "lost"  # shown in words; pyserial's text is a tooltip
        page = manager.get("/manager/admin/lines").get_data(as_text=True)
        assert f'data-line="{device.link}"' in page and "qoşulmayıb" in page
        refused = manager.post(
            "/manager/admin/lines/test", data={"url": device.link}, headers=csrf,
            follow_redirects=True,
        )  # fmt: skip
        assert "Xətt indi açıq deyil" in refused.get_data(as_text=True)
        removed = manager.post(
            "/manager/admin/lines/remove", data={"url": device.link}, headers=csrf,
            follow_redirects=True,
        )  # fmt: skip
        assert "silindi" in removed.get_data(as_text=True)
        assert devices.lines_status() == []
        assert manager.get("/manager/floor.json").get_json()["serial_lines"] == []
    finally:
        devices.stop()


@pytest.mark.parametrize(
    ("form", "why"),
    [
        ({"url": "/dev/tty USB0", "baudrate": "9600"}, "boşluqsuz port"),
        ({"url": "/dev/ttyUSB0", "baudrate": "9601"}, "Belə sürət yoxdur"),
        ({"url": "", "baudrate": "9600"}, "boşluqsuz port"),
    ],
)
def test_a_bad_line_is_refused_with_why_and_nothing_stored(app_center, form, why):
    manager = app_center.app.test_client()
    csrf = login(manager, "manager", "floor-boss-secret")
    page = manager.post("/manager/admin/lines", data=form, headers=csrf, follow_redirects=True)
    assert page.status_code == 200 and why in page.get_data(as_text=True)
    assert app_center.app.extensions["dostq.counter_devices"].lines_status() == []


def hostile_lines(data_dir):
    """Serial-line URLs that would open a file, another port or another host (pyserial's)."""
    database = data_dir / "dostq.db"
    return [
        f"spy://loop://?file={database}",  # writes its log over the file: the center's database
        str(database),
        str(data_dir / "secret_key"),
        "loop://",
        "alt:///dev/ttyUSB0?class=PosixPollSerial",
        "hwgrep://.*",
        "cp2110://0001:0002:00",
        "socket://evil.example:80",  # a host nobody listed
        "rfc2217://10.0.0.9:2217",
        "socket://127.0.0.1:7001/path?logging=debug",
    ]


def test_no_line_reaches_a_file_another_port_or_an_unlisted_host(app_center, tmp_path):
    # Every way a line is stored (the admin page, the CLI) or opened (a line stored before the
    # check, opened at start) refuses them; the database is untouched.
    manager = app_center.app.test_client()
    csrf = login(manager, "manager", "floor-boss-secret")
    data_dir = tmp_path
    size = (data_dir / "dostq.db").stat().st_size
    devices = app_center.app.extensions["dostq.counter_devices"]
    for url in hostile_lines(data_dir):
        form = {"url": url, "baudrate": "9600"}
        page = manager.post("/manager/admin/lines", data=form, headers=csrf, follow_redirects=True)
        assert "Dəyişmədi: Xətt serial portdur" in page.get_data(as_text=True), url
        assert devices.lines_status() == [], url
        refused = CliRunner().invoke(
            main, ["serial-line", "add", "--data-dir", str(data_dir), url, "--baud", "9600"]
        )
        assert refused.exit_code == 1 and "added" not in refused.output, url
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:  # as a server from before the check stored them
        put_setting(
            conn, "serial_lines", [{"url": u, "baudrate": 9600} for u in hostile_lines(data_dir)]
        )
    try:
        devices.reload()
        statuses = devices.lines_status()
        assert len(statuses) == len(hostile_lines(data_dir))
        assert not any(s["connected"] for s in statuses) and devices.links == {}
    finally:
        devices.stop()
    assert (data_dir / "dostq.db").stat().st_size >= size
    with center.store.read() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_listed_converter_is_a_line(app_center):
    from server.live.counter_devices import check_line

    check_line("socket://10.0.0.9:4001", {"10.0.0.9"})
    check_line("rfc2217://10.0.0.9:2217", {"10.0.0.9"})
