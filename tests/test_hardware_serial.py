"""Serial counter displays and keypads over real pseudo-terminals and pyserial's loop://."""

import os
import pty
import tty

import pytest

from hardware.serial_devices import Key, KeyPress, LineProtocol, SerialLink
from tests.conftest import wait_until


class PluggableDevice:
    """A device on a pty behind a stable symlink, as /dev/serial/by-id/... is in production."""

    def __init__(self, link):
        self.link = link
        self.received = b""
        self.plug()

    def plug(self):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self.slave), self.link)

    def unplug(self):
        os.unlink(self.link)
        os.close(self.master)
        os.close(self.slave)

    def read(self):
        os.set_blocking(self.master, False)
        try:
            self.received += os.read(self.master, 4096)
        except BlockingIOError:
            pass
        return self.received

    def press(self, text):
        os.write(self.master, text.encode() + b"\r\n")


@pytest.mark.parametrize(
    ("line", "press"),
    [
        (b"5 NEXT", KeyPress(5, Key.NEXT)),
        (b"12 noshow", KeyPress(12, Key.NO_SHOW)),
        (b"  3   RECALL ", KeyPress(3, Key.RECALL)),
        (b"5 JUMP", None),
        (b"SHOW 5 A-042", None),
        (b"\xff\xfe", None),
        (b"", None),
    ],
)
def test_keypad_lines_parse_or_are_ignored(line, press):
    assert LineProtocol().parse(line) == press


def test_display_commands_are_plain_lines():
    assert LineProtocol().show(5, "A-042") == b"SHOW 5 A-042\r\n"
    assert LineProtocol().clear(5) == b"CLEAR 5\r\n"


def test_loop_line_delivers_keypad_lines():
    lines = []
    link = SerialLink("loop://", lines.append, lambda *_: None)
    link.start()
    link.send(b"5 NEXT\r\n7 FINISH\r\n")
    assert wait_until(lambda: lines == [b"5 NEXT", b"7 FINISH"])
    link.stop()


def test_unplugged_display_is_reported_and_catches_up_when_back(tmp_path):
    device = PluggableDevice(str(tmp_path / "ttyCOUNTERS"))
    states, lines = [], []
    link = SerialLink(
        device.link,
        lines.append,
        lambda up, msg, problem: states.append(up),
        first_retry_s=0.05,
        max_retry_s=0.2,
    )
    link.start()
    assert wait_until(lambda: states == [True])
    link.send(LineProtocol().show(5, "A-042"))
    assert wait_until(lambda: b"SHOW 5 A-042\r\n" in device.read())
    device.press("5 NEXT")
    assert wait_until(lambda: lines == [b"5 NEXT"])

    device.unplug()
    link.send(LineProtocol().show(5, "A-043"))  # made while unplugged: must not be lost
    assert wait_until(lambda: states == [True, False])
    device.plug()
    assert wait_until(lambda: states == [True, False, True])
    assert wait_until(lambda: b"SHOW 5 A-043\r\n" in device.read())
    link.stop()
