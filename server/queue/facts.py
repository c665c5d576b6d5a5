"""What happened: the facts an operation caused, handed by every caller to one ``publish``.

An operation returns ``Done(answer, facts)``: the answer for whoever asked, and the facts for
everyone else (displays, counters, managers, printers, LED displays). Facts are plain frozen
data; ``server.live.publisher`` alone decides which screen or device hears of each. The
device-side facts at the end are raised by the live layer itself (sockets, serial lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from server.queue.actors import Device

T = TypeVar("T")


@dataclass(frozen=True)
class QueueChanged:
    """Who waits where changed: screens showing waiting counts refresh them."""


@dataclass(frozen=True)
class Called:
    """A visitor was called (or called again) to a counter; ``call`` is what displays show.

    ``token``: the called ticket's, so its phone is told without looking the label up (a walk
    over the day's tickets); never sent to a display.
    """

    call: dict[str, Any]
    token: str


@dataclass(frozen=True)
class CounterFreed:
    """A counter's visitor left it (finished, no-show, held, transferred)."""

    counter_id: int


@dataclass(frozen=True)
class VisitFinished:
    """A clerk finished a visit: the feedback tablet on that counter asks its visitor."""

    counter_id: int
    ticket_id: int
    label: str
    language: str


@dataclass(frozen=True)
class VisitRated:
    """A visit was rated (on the phone or the counter's tablet): its phone page shows it."""

    ticket_id: int


@dataclass(frozen=True)
class CounterChanged:
    """A counter opened, closed, or went on or came back from a break."""

    counter: dict[str, Any]


@dataclass(frozen=True)
class TicketIssued:
    """A ticket was committed at a kiosk; ``language`` is the one the visitor chose."""

    ticket: dict[str, Any]
    device: Device | None
    language: str


@dataclass(frozen=True)
class ReprintWanted:
    """Staff asked for a waiting ticket to be printed again on its kiosk's printer."""

    ticket: dict[str, Any]
    device: Device


@dataclass(frozen=True)
class CalibrationWanted:
    """A technician asked for the calibration ticket on a kiosk's printer."""

    device: Device


@dataclass(frozen=True)
class PrintingChanged:
    """A printer's mode or code-page numbering changed (its calibration was answered)."""

    device: Device  # as it is now


@dataclass(frozen=True)
class PrintReported:
    """The device that prints a ticket reported how it went."""

    device: Device
    ticket_id: int


@dataclass(frozen=True)
class PrintFinished:
    """A printer the center drives finished a ticket's job, printed or not."""

    device: str
    ticket_id: int
    label: str
    printed: bool
    message: str


@dataclass(frozen=True)
class PrinterStatusChanged:
    """A printer changed state: paper out, cover open, back online..."""

    device: str
    state: str
    message: str


@dataclass(frozen=True)
class AssistanceRequested:
    """A visitor at a kiosk asked for a person's help."""

    id: int
    device: str
    zone: str | None
    at: float


@dataclass(frozen=True)
class AssistanceResolved:
    """Someone answered a call for help."""

    id: int


@dataclass(frozen=True)
class SessionsEnded:
    """Every session of a user ended (sign-out): their open sockets must close."""

    user_id: int


@dataclass(frozen=True)
class DeviceRevoked:
    """A device's token stopped working (revoked or replaced): its open sockets must close."""

    device_id: int


@dataclass(frozen=True)
class DeviceChanged:
    """A device was renamed or restored: what is kept of it in memory is out of date."""

    device_id: int


# Raised by the live layer: what sockets and serial lines tell the center.


@dataclass(frozen=True)
class SerialLinesChanged:
    """The configured serial lines changed (the admin page): open and close them now."""


@dataclass(frozen=True)
class ScreenOnline:
    """A waiting-room display's or a kiosk's socket opened or closed (its page is loaded)."""

    device: str
    kind: str  # display | kiosk
    online: bool


@dataclass(frozen=True)
class AgentConnected:
    """The edge agent of a kiosk whose printer hangs on the kiosk PC connected."""

    device: Device


@dataclass(frozen=True)
class AgentPrinterReported:
    """An edge agent reported its printer's state (a name the print service checks)."""

    device: Device
    state: str


@dataclass(frozen=True)
class AgentPrintJob:
    """ESC/POS bytes for a kiosk's edge agent to print."""

    device_id: int
    ticket_id: int
    data: bytes


@dataclass(frozen=True)
class SerialLineStatus:
    """A serial line of LED displays and keypads was lost or came back."""

    line: str
    connected: bool
    message: str


@dataclass(frozen=True)
class KeypadRefused:
    """A keypad press did nothing; the clerk's screen says why."""

    counter_id: int
    code: str  # the refusal's code: the screen words it in the clerk's language
    message: str


Fact = (
    QueueChanged
    | Called
    | CounterFreed
    | VisitFinished
    | VisitRated
    | CounterChanged
    | TicketIssued
    | ReprintWanted
    | CalibrationWanted
    | PrintingChanged
    | PrintReported
    | PrintFinished
    | PrinterStatusChanged
    | AssistanceRequested
    | AssistanceResolved
    | SessionsEnded
    | DeviceRevoked
    | DeviceChanged
    | ScreenOnline
    | SerialLinesChanged
    | AgentConnected
    | AgentPrinterReported
    | AgentPrintJob
    | SerialLineStatus
    | KeypadRefused
)


class Done(NamedTuple, Generic[T]):
    """An operation's answer and the facts it caused: ``answer, facts = operation(...)``."""

    answer: T
    facts: tuple[Fact, ...]
