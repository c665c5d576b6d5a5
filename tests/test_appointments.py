"""Appointments: codes a center checks offline, the call rule, booking at HQ, the whole path.

The rule (server/queue/engine.py ``choose_next``): overdue visits first, an appointment's
wait counting from its slot; then appointments whose slot has started; then walk-ins as
before; appointments checked in early only when no walk-in waits.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hq import bookings
from server.hq_link import signing, sync
from server.hq_link.bookings import PATH, exchange_bookings
from server.office import appointments as hours
from server.queue import booking_codes
from server.queue.actors import User
from server.queue.appointments import CenterKey, CheckInWindow, check_in, hear_bookings
from server.queue.calls import call_next
from server.queue.desk import mark_no_show, sign_in
from server.queue.engine import GENERAL, CounterPolicy, Fairness, WaitingTicket, choose_next
from server.queue.errors import QueueError
from server.queue.visits import issue_ticket
from tests.conftest import KEY, T0

BAKU = ZoneInfo("Asia/Baku")
WINDOW = CheckInWindow()
HQ_KEY = CenterKey("baku-1", KEY)


# ---- codes ---------------------------------------------------------------------------------


def test_a_code_carries_center_service_and_slot_and_forgives_how_it_is_typed():
    code = booking_codes.make_code(KEY, "baku-1", int(T0) // 60 * 60, 12, 3)
    assert re.fullmatch(r"([A-Z2-7]{4}-){4}[A-Z2-7]{4}", code)
    booking = booking_codes.verify(KEY, "baku-1", code)
    assert (booking.slot_at, booking.service_id, booking.seat) == (int(T0) // 60 * 60, 12, 3)
    typed = code.lower().replace("-", " ").replace("o", "0").replace("i", "1")
    assert booking_codes.verify(KEY, "baku-1", typed) == booking
    scanned = f"https://hq.dost.gov.az/hq/book/{code.replace('-', '')}"
    assert booking_codes.verify(KEY, "baku-1", scanned) == booking


def test_a_forged_altered_or_other_center_code_is_refused():
    code = booking_codes.make_code(KEY, "baku-1", int(T0), 12, 3).replace("-", "")
    with pytest.raises(booking_codes.Forged):
        booking_codes.verify("another key entirely", "baku-1", code)
    altered = code[:10] + ("A" if code[10] != "A" else "B") + code[11:]
    with pytest.raises(booking_codes.BadCode):
        booking_codes.verify(KEY, "baku-1", altered)
    with pytest.raises(booking_codes.OtherCenter):
        booking_codes.verify(KEY, "gence-1", code)
    for junk in ("", "ABC", "!" * 20, code + "A"):
        with pytest.raises(booking_codes.BadCode):
            booking_codes.verify(KEY, "baku-1", junk)


# ---- the call rule ---------------------------------------------------------------------------

FAIR = Fairness(priority_streak_limit=2, overdue_after_s=1800)
COUNTER = CounterPolicy(1, {10: 1.0, 11: 2.0})


def test_an_appointment_is_called_at_its_slot_ahead_of_walk_ins():
    walk_in = WaitingTicket(1, 10, GENERAL, arrived_at=0)
    booked = WaitingTicket(2, 10, GENERAL, arrived_at=500, slot_at=900)
    assert choose_next([walk_in, booked], COUNTER, FAIR, 0, now=899).id == 1  # not yet
    assert choose_next([walk_in, booked], COUNTER, FAIR, 0, now=900).id == 2
    # The walk-in who waited longest is still protected: overdue goes first.
    assert choose_next([walk_in, booked], COUNTER, FAIR, 0, now=1800).id == 1
    # Early, with nobody else waiting: an idle counter serves it.
    assert choose_next([booked], COUNTER, FAIR, 0, now=600).id == 2


tickets = st.builds(
    WaitingTicket,
    id=st.integers(1, 10_000),
    service_id=st.sampled_from([10, 11, 12]),
    category=st.sampled_from([GENERAL, GENERAL, "disability"]),
    arrived_at=st.floats(0, 7200),
    target_counter_id=st.sampled_from([None, None, 1, 2]),
    slot_at=st.one_of(st.none(), st.floats(0, 9000)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(tickets, max_size=12, unique_by=lambda t: t.id), st.floats(0, 9000),
       st.integers(0, 3))  # fmt: skip
def test_the_call_rule_for_appointments_and_walk_ins(waiting, now, streak):
    chosen = choose_next(waiting, COUNTER, FAIR, streak, now)
    eligible = [t for t in waiting if COUNTER.serves(t)]
    if not eligible:
        assert chosen is None
        return
    assert chosen in eligible
    overdue = [t for t in eligible if now - t.waiting_since() >= FAIR.overdue_after_s]
    if overdue:  # 1. the longest wait among the overdue, appointments or not
        assert chosen.waiting_since() == min(t.waiting_since() for t in overdue)
        return
    due = [t for t in eligible if t.slot_at is not None and t.slot_at <= now]
    if due:  # 2. an appointment whose slot began, the earliest slot, before any walk-in
        assert chosen.slot_at == min(t.slot_at for t in due)
        return
    walk_ins = [t for t in eligible if t.slot_at is None]
    if walk_ins:  # 3. an early appointment never goes before a waiting walk-in
        assert chosen.slot_at is None
    else:  # 4. early appointments, the earliest slot first
        assert chosen.slot_at == min(t.slot_at for t in eligible)


# ---- checking in at the center ------------------------------------------------------------


def slot_at_t0(minutes_from_t0: int) -> int:
    return int(T0) // 60 * 60 + minutes_from_t0 * 60


def service_id(center, code="2.1"):
    with center.store.read() as conn:
        return conn.execute("SELECT id FROM services WHERE code = ?", (code,)).fetchone()[0]


def code_for(center, minutes_from_t0, seat=1, service="2.1", key=KEY, at="baku-1"):
    return booking_codes.make_code(key, at, slot_at_t0(minutes_from_t0), service_id(center, service), seat)


def refusal(center, code, key=HQ_KEY):
    with pytest.raises(QueueError) as refused:
        check_in(center, code, key, WINDOW, device=None)
    return refused.value


def test_a_good_code_becomes_a_ticket_of_its_area_marked_with_its_slot(center):
    done = check_in(center, code_for(center, 20), HQ_KEY, WINDOW, device=None, language="ru")
    ticket = done.answer
    assert ticket["label"].startswith("B-") and ticket["service"]["code"] == "2.1"
    assert ticket["appointment"]["slot"] == datetime.fromtimestamp(slot_at_t0(20), BAKU).strftime("%H:%M")
    assert ticket["state"] == "waiting" and ticket["language"] == "ru"
    again = refusal(center, code_for(center, 20))
    assert again.code == "checked_in_already" and again.detail["ticket"] == ticket["label"]


def test_each_refusal_says_why_with_the_slot_it_is_about(center):
    assert refusal(center, code_for(center, 31)).code == "too_early"
    assert refusal(center, code_for(center, 31)).detail["early_min"] == "30"
    assert refusal(center, code_for(center, -11)).code == "too_late"
    assert refusal(center, code_for(center, 5, key="forged")).code == "bad_booking_code"
    assert refusal(center, code_for(center, 5, at="gence-1")).code == "other_center"
    assert refusal(center, "ABCD").code == "not_a_booking_code"
    assert refusal(center, code_for(center, 5), key=None).code == "no_bookings_here"
    cancelled = code_for(center, 5, seat=2)
    with center.store.write() as conn:
        hear_bookings(conn, [{"code": booking_codes.normalise(cancelled), "service_id": service_id(center),
                              "slot_at": slot_at_t0(5), "state": "cancelled"}], T0)  # fmt: skip
    assert refusal(center, cancelled).code == "booking_cancelled"
    # Still on time at the edges of the window.
    check_in(center, code_for(center, 30, seat=3), HQ_KEY, WINDOW, device=None)
    check_in(center, code_for(center, -9, seat=4), HQ_KEY, WINDOW, device=None)


def test_call_next_calls_the_appointment_at_its_slot_ahead_of_walk_ins(center, clock):
    clerk = User(1, "clerk1", "clerk1", "clerk", 1)  # seed(): user 1; Masa 1 serves 2.1
    sign_in(center, 1, clerk)
    first = issue_ticket(center, "2.1", device=None).answer["label"]
    clock.advance(60)
    second = issue_ticket(center, "2.1", device=None).answer["label"]
    booked = check_in(center, code_for(center, 20), HQ_KEY, WINDOW, device=None).answer["label"]
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == first  # slot not begun
    mark_no_show(center, 1, clerk)
    clock.now = slot_at_t0(20)
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == booked
    mark_no_show(center, 1, clerk)
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == second
