"""Serial counter devices: LED displays show each call, keypads act for the signed-in clerk.

Lines are configured with ``dostq serial-line add URL``; each carries any number of displays
and keypads addressed by counter id (hardware.serial_devices documents the protocol). A keypad
press runs the same operation as the clerk's button and publishes its facts; the displays
subscribe to ``Called`` and ``CounterFreed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hardware.serial_devices import Key, LineProtocol, SerialLink
from server.live.once import Once
from server.live.publisher import Publisher
from server.office import accounts
from server.queue import calls, desk
from server.queue.actors import User
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.facts import Called, CounterFreed, Done, KeypadRefused, SerialLineStatus
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


class CounterDevices:
    """Opens the configured serial lines and joins them to the queue's facts."""

    def __init__(self, center: Center, publisher: Publisher) -> None:
        self.center = center
        self.publisher = publisher
        self.protocol = LineProtocol()
        self.links: list[SerialLink] = []
        # Open the configured lines once, in the serving process.
        self.start = Once(self._open_lines)
        publisher.subscribe(Called, self.show_call)
        publisher.subscribe(CounterFreed, self.clear_counter)

    def _open_lines(self) -> None:
        with self.center.store.read() as conn:
            lines = get_setting(conn, "serial_lines", [])
        for line in lines:
            link = SerialLink(
                line["url"],
                self.on_line,
                self._state_reporter(line["url"]),
                baudrate=int(line.get("baudrate", 9600)),
            )
            link.start()
            self.links.append(link)

    def stop(self) -> None:
        """Close every line."""
        for link in self.links:
            link.stop()

    def show_call(self, fact: Called) -> None:
        """Show the called number on its counter's LED display."""
        self._broadcast(self.protocol.show(fact.call["counter_id"], fact.call["label"]))

    def clear_counter(self, fact: CounterFreed) -> None:
        """Blank the display of a counter whose visitor left."""
        self._broadcast(self.protocol.clear(fact.counter_id))

    def _broadcast(self, data: bytes) -> None:
        for link in self.links:
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
            refused = KeypadRefused(press.counter, "Nobody is signed in at this counter.")
            self.publisher.publish([refused])
            return
        try:
            _answer, facts = KEY_ACTIONS[press.key](self.center, press.counter, clerk)
        except QueueError as error:
            self.publisher.publish([KeypadRefused(press.counter, error.message)])
            return
        self.publisher.publish(facts)

    def _state_reporter(self, url: str) -> Callable[[bool, str], None]:
        def report(connected: bool, message: str) -> None:
            self.publisher.publish([SerialLineStatus(url, connected, message)])

        return report
