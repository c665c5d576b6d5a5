"""A center's planned break waves: which counters go on break when, and for how long.

A manager staggers lunch and tea in waves ("12:30, 30 minutes: Masa 1, 3, 5"). The wait a
visitor is told counts on them (a desk that will be away in ten minutes calls nobody then),
the floor shows who goes when, and the staffing planner simulates the day with them. A clerk
takes a wave's break on coming free after its start, as at any counter: the visitor at the
desk is finished first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from server.queue.errors import Invalid
from server.queue.storage import get_setting, put_setting

SETTING = "break_waves"
MAX_WAVES = 12


@dataclass(frozen=True)
class BreakWave:
    """Counters that go on break at ``starts`` for ``minutes``."""

    starts: time
    minutes: int
    counters: frozenset[int]

    def window(self, day: date, timezone: ZoneInfo) -> tuple[float, float]:
        """Return (start, length) in epoch seconds on ``day``."""
        return datetime.combine(day, self.starts, timezone).timestamp(), self.minutes * 60.0

    def as_setting(self) -> dict[str, Any]:
        """Return the wave as stored in the center's settings."""
        return {"starts": self.starts.strftime("%H:%M"), "minutes": self.minutes,
                "counters": sorted(self.counters)}  # fmt: skip


def break_waves(conn: sqlite3.Connection) -> list[BreakWave]:
    """Return the center's break waves in the order of the day."""
    waves = [
        BreakWave(time.fromisoformat(w["starts"]), int(w["minutes"]), frozenset(w["counters"]))
        for w in get_setting(conn, SETTING, [])
    ]
    return sorted(waves, key=lambda w: w.starts)


def day_offsets_by_counter(waves: list[BreakWave]) -> dict[int, tuple[tuple[float, float], ...]]:
    """Return each counter's breaks as (seconds after midnight, length), in order.

    The planner's form of them: a day not yet come, clock changes aside.
    """
    found: dict[int, list[tuple[float, float]]] = {}
    for wave in waves:
        offset = wave.starts.hour * 3600.0 + wave.starts.minute * 60.0
        for counter_id in wave.counters:
            found.setdefault(counter_id, []).append((offset, wave.minutes * 60.0))
    return {counter_id: tuple(sorted(windows)) for counter_id, windows in found.items()}


def windows_by_counter(
    waves: list[BreakWave], day: date, timezone: ZoneInfo
) -> dict[int, tuple[tuple[float, float], ...]]:
    """Return each counter's breaks on ``day`` as (start, length) in epoch seconds, in order."""
    found: dict[int, list[tuple[float, float]]] = {}
    for wave in waves:
        for counter_id in wave.counters:
            found.setdefault(counter_id, []).append(wave.window(day, timezone))
    return {counter_id: tuple(sorted(windows)) for counter_id, windows in found.items()}


def save_break_wave(
    conn: sqlite3.Connection, position: int | None, starts: str, minutes: int, counters: list[int]
) -> BreakWave:
    """Add a wave (``position`` None) or change the one at ``position`` in the day's order."""
    try:
        at = time.fromisoformat(starts)
    except ValueError as exc:
        raise Invalid("bad_break_start", "Write the start as HH:MM, e.g. 12:30.", "starts") from exc
    if not 5 <= minutes <= 120:
        raise Invalid("bad_wave_length", "A planned break lasts 5 to 120 minutes.", "minutes")
    known = {r[0] for r in conn.execute("SELECT id FROM counters")}
    chosen = frozenset(counters)
    if not chosen or not chosen <= known:
        raise Invalid("bad_break_counters", "Choose the counters that go on break.", "counters")
    waves = break_waves(conn)
    wave = BreakWave(at.replace(second=0, microsecond=0), minutes, chosen)
    if position is None:
        if len(waves) >= MAX_WAVES:
            raise Invalid("too_many_waves", "A day has at most 12 break waves.", "starts")
        waves.append(wave)
    else:
        _check_position(waves, position)
        waves[position] = wave
    put_setting(conn, SETTING, [w.as_setting() for w in waves])
    return wave


def remove_break_wave(conn: sqlite3.Connection, position: int) -> BreakWave:
    """Remove the wave at ``position`` in the day's order."""
    waves = break_waves(conn)
    _check_position(waves, position)
    removed = waves.pop(position)
    put_setting(conn, SETTING, [w.as_setting() for w in waves])
    return removed


def _check_position(waves: list[BreakWave], position: int) -> None:
    if not 0 <= position < len(waves):
        raise Invalid("unknown_wave", "That break wave is no longer there.", "position")
