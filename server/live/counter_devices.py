"""Serial counter devices: LED displays show each call, keypads act for the signed-in clerk.

Lines are configured on the admin page (applied at once) or with ``dostq serial-line add URL``
(applied at the next start); each carries any number of displays and keypads addressed by
counter id (hardware.serial_devices documents the protocol). A keypad
press runs the same operation as the clerk's button and publishes its facts; the displays
subscribe to ``Called`` and ``CounterFreed``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from hardware.serial_devices import BadLineUrl, Key, LineProtocol, SerialLink, check_line_url
from server.live.once import Once
from server.live.publisher import Publisher
from server.office import accounts
from server.queue import calls, desk
from server.queue.actors import User
from server.queue.center import Center
from server.queue.errors import Invalid, QueueError
from server.queue.facts import (
    Called,
    CounterFreed,
    Done,
    KeypadRefused,
    SerialLinesChanged,
    SerialLineStatus,
)
from server.queue.storage import get_setting

log = logging.getLogger(__name__)
# What each key does, as the clerk's own button would.
KEY_ACTIONS: dict[Key, Callable[[Center, int, User], Done[dict[str, Any]]]] = {
    Key.NEXT: lambda center, counter_id, clerk: calls.call_next(center, counter_id, clerk),
    Key.RECALL: calls.recall,
    Key.START: desk.start_service,
    Key.NO_SHOW: desk.mark_no_show,
    Key.FINISH: lambda center, counter_id, clerk: desk.finish(center, counter_id, clerk, []),
}


def check_line(url: str, network_hosts: Collection[str]) -> None:
    """Refuse, naming the field, a line URL that is not a tty or a listed converter."""
    try:
        check_line_url(url, network_hosts)
    except BadLineUrl as exc:
        raise Invalid("line_not_allowed", str(exc), "url") from exc


class CounterDevices:
    """Opens the configured serial lines and joins them to the queue's facts."""

    def __init__(
        self, center: Center, publisher: Publisher, network_hosts: Collection[str] = ()
    ) -> None:
        self.center = center
        self.publisher = publisher
        self.network_hosts = frozenset(network_hosts)
        # Lines stored before their URL was checked, and refused now: url -> its status.
        self.refused: dict[str, dict[str, Any]] = {}
        self.protocol = LineProtocol()
        self.links: dict[str, SerialLink] = {}
        # Each line's last known state, for the floor: connected, message, since.
        self.states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        # Open the configured lines once, in the serving process.
        self.start = Once(self.reload)
        publisher.subscribe(Called, self.show_call)
        publisher.subscribe(CounterFreed, self.clear_counter)
        publisher.subscribe(SerialLinesChanged, lambda _fact: self.reload())

    def reload(self) -> None:
        """Open the configured lines not open yet and close those no longer configured."""
        with self.center.store.read() as conn:
            lines = {line["url"]: line for line in get_setting(conn, "serial_lines", [])}
        with self._lock:
            gone = [url for url, link in self.links.items() if url not in lines
                    or link.baudrate != int(lines[url].get("baudrate", 9600))]  # fmt: skip
            closing = [self.links.pop(url) for url in gone]
            for url in gone:
                self.states.pop(url, None)
            opening = []
            self.refused = {}
            for url, line in lines.items():
                if url in self.links:
                    continue
                try:
                    check_line_url(url, self.network_hosts)
                except BadLineUrl as exc:
                    log.warning("serial line not opened: %s", exc)
                    self.refused[url] = {
                        "url": url, "baudrate": int(line.get("baudrate", 9600)),
                        "connected": False, "message": str(exc), "problem": "not_allowed",
                        "since": time.time(),
                    }  # fmt: skip
                    continue
                link = SerialLink(
                    url, self.on_line, self._state_reporter(url),
                    baudrate=int(line.get("baudrate", 9600)),
                )  # fmt: skip
                self.links[url] = link
                self.states[url] = {"connected": False, "message": "opening", "problem": "opening",
                                    "since": time.time()}  # fmt: skip
                opening.append(link)
        for link in closing:
            link.stop()
        for link in opening:
            link.start()

    def lines_status(self) -> list[dict[str, Any]]:
        """Return each configured line with its state (connected, last message, since when)."""
        with self._lock:
            lines = [
                {"url": url, "baudrate": link.baudrate, **self.states.get(url, {})}
                for url, link in sorted(self.links.items())
            ]
            return lines + [status for _url, status in sorted(self.refused.items())]

    def test_line(self, url: str, counter_ids: list[int]) -> bool:
        """Show "888" on every counter's LED display of a line; False if it is not open."""
        with self._lock:
            link = self.links.get(url)
            connected = bool(self.states.get(url, {}).get("connected"))
        if link is None or not connected:
            return False
        for counter_id in counter_ids:
            link.send(self.protocol.show(counter_id, "888"))
        return True

    def stop(self) -> None:
        """Close every line."""
        with self._lock:
            links = list(self.links.values())
        for link in links:
            link.stop()

    def show_call(self, fact: Called) -> None:
        """Show the called number on its counter's LED display."""
        self._broadcast(self.protocol.show(fact.call["counter_id"], fact.call["label"]))

    def clear_counter(self, fact: CounterFreed) -> None:
        """Blank the display of a counter whose visitor left."""
        self._broadcast(self.protocol.clear(fact.counter_id))

    def _broadcast(self, data: bytes) -> None:
        with self._lock:
            links = list(self.links.values())
        for link in links:
            link.send(data)

    def on_line(self, line: bytes) -> None:
        """Act on a keypad press as the clerk signed in at that counter."""
        press = self.protocol.parse(line)
        if press is None:
            log.info("ignored serial line %r", line)
            return
        with self.center.store.read() as conn:
            clerk = accounts.clerk_at_counter(conn, press.counter)
        if clerk is None:
            refused = KeypadRefused(
                press.counter, "nobody_signed_in", "Nobody is signed in at this counter."
            )
            self.publisher.publish([refused])
            return
        try:
            _answer, facts = KEY_ACTIONS[press.key](self.center, press.counter, clerk)
        except QueueError as error:
            self.publisher.publish([KeypadRefused(press.counter, error.code, error.message)])
            return
        self.publisher.publish(facts)

    def _state_reporter(self, url: str) -> Callable[[bool, str, str | None], None]:
        def report(connected: bool, message: str, problem: str | None) -> None:
            with self._lock:
                if url in self.links:
                    self.states[url] = {"connected": connected, "message": message,
                                        "problem": problem, "since": time.time()}  # fmt: skip
            self.publisher.publish([SerialLineStatus(url, connected, message)])

        return report
