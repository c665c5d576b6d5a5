"""Appointments: codes a center checks offline, the call rule, booking at HQ, the whole path.

The rule (server/queue/engine.py ``choose_next``): overdue visits first, an appointment's
wait counting from its slot; then appointments whose slot has started; then walk-ins as
before; appointments checked in early only when no walk-in waits.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from hq import booking_report, bookings
from server.hq_link import signing, sync
from server.hq_link.bookings import PATH
from server.office import appointments as hours
from server.office.demo import DEMO_LOGINS
from server.queue import booking_codes
from server.queue.actors import User
from server.queue.appointments import CenterKey, CheckInWindow, check_in, hear_bookings
from server.queue.calls import call_next
from server.queue.desk import mark_no_show, sign_in, transfer
from server.queue.engine import GENERAL, CounterPolicy, Fairness, WaitingTicket, choose_next
from server.queue.errors import QueueError
from server.queue.visits import issue_ticket
from tests.conftest import KEY, T0, wait_until
from tests.live import HTTP_TIMEOUT_S, start_hq, start_live_center
from tests.test_staff_browser import check_layout, signed_in

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
@given(
    st.lists(tickets, max_size=12, unique_by=lambda t: t.id), st.floats(0, 9000), st.integers(0, 3)
)
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
    return booking_codes.make_code(
        key, at, slot_at_t0(minutes_from_t0), service_id(center, service), seat
    )


def refusal(center, code, key=HQ_KEY):
    with pytest.raises(QueueError) as refused:
        check_in(center, code, key, WINDOW, device=None)
    return refused.value


def test_a_good_code_becomes_a_ticket_of_its_area_marked_with_its_slot(center):
    done = check_in(center, code_for(center, 20), HQ_KEY, WINDOW, device=None, language="ru")
    ticket = done.answer
    assert ticket["label"].startswith("B-") and ticket["service"]["code"] == "2.1"
    assert ticket["appointment"]["slot"] == datetime.fromtimestamp(slot_at_t0(20), BAKU).strftime(
        "%H:%M"
    )
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
        hear_bookings(
            conn,
            [
                {
                    "code": booking_codes.normalise(cancelled),
                    "service_id": service_id(center),
                    "slot_at": slot_at_t0(5),
                    "state": "cancelled",
                }
            ],
            T0,
        )
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
    called = call_next(center, 1, clerk).answer["ticket"]
    assert called["label"] == booked
    assert called["slot_at"] == slot_at_t0(20)  # the clerk's page says "Booked for 06:33"
    mark_no_show(center, 1, clerk)
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == second


# ---- HQ: the slots a center offers, booking, cancelling, moving ---------------------------


def trade(client, slots, outcomes=(), services=None, key=KEY, since=None, window=None):
    """Send a center's appointments to HQ as baku-1 does; return HQ's answer."""
    message = {
        "center": "baku-1",
        "at": time.time(),
        "since": since,
        "window": window or {"early_min": 30, "late_min": 10},
        "services": services
        if services is not None
        else [
            {
                "code": "2.1",
                "name": {"az": "Əmək müqaviləsi", "en": "Labour contract"},
                "area": {"az": "Əmək münasibətləri"},
            }
        ],
        "slots": slots,
        "outcomes": list(outcomes),
    }
    body = json.dumps(message).encode()
    headers = signing.signed_headers(key, "baku-1", int(time.time()), "POST", PATH, body)
    center = client.application.test_client()  # a center holds no HQ session cookie
    return center.post(PATH, data=body, headers=headers, content_type="application/json")


def hour_slots(count=4, seats=2, start_in_s=3600):
    first = (int(time.time()) + start_in_s) // 900 * 900
    return [
        {"service": "2.1", "service_id": 7, "slot_at": first + n * 900, "seats": seats}
        for n in range(count)
    ]


def form_token(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def book_on_page(client, slot_at, phone="+994 55 987 65 43", lang="az"):
    page = client.get(
        "/hq/book?center=baku-1&service=2.1", headers={"Accept-Language": lang}
    ).get_data(as_text=True)
    assert f'value="{slot_at}"' in page
    return client.post(
        "/hq/book",
        data={
            "csrf_token": form_token(page),
            "center": "baku-1",
            "service": "2.1",
            "slot": str(slot_at),
            "phone": phone,
        },
    )


def test_hq_books_a_centers_slot_with_a_code_the_center_verifies_and_lists_it_back(hq_client):
    slots = hour_slots()
    answer = trade(hq_client, slots)
    assert answer.status_code == 200 and answer.get_json()["bookings"] == []
    assert "baku-1" in hq_client.get("/hq/book").get_data(as_text=True)
    booked = book_on_page(hq_client, slots[0]["slot_at"])
    assert booked.status_code == 302
    code = booked.headers["Location"].rsplit("/", 1)[-1]
    booking = booking_codes.verify(KEY, "baku-1", code)  # what the kiosk does, offline
    assert (booking.slot_at, booking.service_id, booking.seat) == (slots[0]["slot_at"], 7, 1)
    page = hq_client.get(f"/hq/book/{code}").get_data(as_text=True)
    shown = "-".join(re.findall(r"<span>([A-Z2-7]{4})</span>", page))
    assert shown == booking_codes.pretty(code) and "987" not in page  # no phone number
    assert hq_client.get(f"/hq/book/{code}/qr.svg").mimetype == "image/svg+xml"
    listed = trade(hq_client, slots).get_json()["bookings"]
    assert listed == [
        {"code": code, "service_id": 7, "slot_at": slots[0]["slot_at"], "state": "booked"}
    ]
    assert "phone" not in json.dumps(listed)
    # The answer is HQ's, signed with the center's key.
    response = trade(hq_client, slots)
    assert (
        signing.check(
            KEY,
            "baku-1",
            response.headers[signing.TIMESTAMP_HEADER],
            response.headers[signing.SIGNATURE_HEADER],
            signing.ANSWER,
            PATH,
            response.data,
            time.time(),
        )
        is None
    )


def test_hq_lists_again_only_the_bookings_changed_since_the_answer_the_center_kept(hq_client):
    slots = hour_slots()
    trade(hq_client, slots)
    code = book_on_page(hq_client, slots[0]["slot_at"]).headers["Location"].rsplit("/", 1)[-1]
    first = trade(hq_client, slots).get_json()
    assert [b["code"] for b in first["bookings"]] == [code]
    later = first["as_of"] + bookings.OVERLAP_S + 1  # a minute on, nothing new
    assert trade(hq_client, slots, since=later).get_json()["bookings"] == []
    with hq_client.store.write() as conn:
        bookings.cancel(conn, code, later + 1)
    changed = trade(hq_client, slots, since=later).get_json()["bookings"]
    assert [(b["code"], b["state"]) for b in changed] == [(code, "cancelled")]


def test_a_transferred_appointment_queues_as_a_walk_in_by_its_arrival(center, clock):
    clerk = User(1, "clerk1", "clerk1", "clerk", 1)  # Masa 1 serves 2.1 and 2.2
    sign_in(center, 1, clerk)
    early = check_in(center, code_for(center, 25), HQ_KEY, WINDOW, device=None).answer["label"]
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == early  # an idle counter
    transfer(center, 1, clerk, service_code="2.2")
    clock.advance(60)
    later = issue_ticket(center, "2.2", device=None).answer["label"]
    # Still an early appointment, it would wait behind the walk-in; transferred, it has had
    # its slot and goes first by its arrival.
    assert call_next(center, 1, clerk).answer["ticket"]["label"] == early
    with center.store.read() as conn:
        row = conn.execute("SELECT slot_at, booking_code FROM tickets WHERE label = ?", (early,))
        kept = row.fetchone()
    assert kept["slot_at"] == slot_at_t0(25) and kept["booking_code"]  # for the reports
    assert later != early


def test_a_center_refuses_a_bookings_answer_it_cannot_keep():
    from server.hq_link.bookings import read_bookings
    from server.hq_link.sync import SyncRefused

    code = booking_codes.make_code(KEY, "baku-1", int(T0), 7, 1)
    good = {"code": code, "service_id": 7, "slot_at": T0, "state": "cancelled"}
    as_of, listed = read_bookings(json.dumps({"as_of": T0, "bookings": [good]}).encode())
    assert as_of == T0 and listed[0]["code"] == booking_codes.normalise(code)
    for answer in (
        {"as_of": T0, "bookings": [{**good, "state": "lost"}]},
        {"as_of": T0, "bookings": [{**good, "state": ["booked"]}]},
        {"as_of": T0, "bookings": [{**good, "code": "nonsense"}]},
        {"bookings": [good]},
        [],
    ):
        with pytest.raises(SyncRefused):
            read_bookings(json.dumps(answer).encode())
    with pytest.raises(SyncRefused):
        read_bookings(b"not json")


def test_a_full_slot_is_refused_and_cancelling_or_moving_gives_the_seat_back(hq_client):
    slots = hour_slots(seats=1)
    trade(hq_client, slots)
    first = book_on_page(hq_client, slots[0]["slot_at"]).headers["Location"].rsplit("/", 1)[-1]
    page = hq_client.get("/hq/book?center=baku-1&service=2.1").get_data(as_text=True)
    assert f'value="{slots[0]["slot_at"]}"' not in page  # full: no longer offered
    with hq_client.store.write() as conn, pytest.raises(QueueError) as taken:
        bookings.book(conn, KEY, "baku-1", "2.1", slots[0]["slot_at"], "+994501234567", time.time())
    assert taken.value.code == "slot_taken"
    token = form_token(hq_client.get(f"/hq/book/{first}").get_data(as_text=True))
    moved = hq_client.post(
        f"/hq/book/{first}/move", data={"csrf_token": token, "slot": str(slots[1]["slot_at"])}
    )
    second = moved.headers["Location"].rsplit("/", 1)[-1]
    assert (
        second != first
        and booking_codes.verify(KEY, "baku-1", second).slot_at == slots[1]["slot_at"]
    )
    assert 'data-state="cancelled"' in hq_client.get(f"/hq/book/{first}").get_data(as_text=True)
    again = book_on_page(hq_client, slots[0]["slot_at"])  # the first slot is free again
    assert again.status_code == 302
    token = form_token(hq_client.get(f"/hq/book/{second}").get_data(as_text=True))
    hq_client.post(f"/hq/book/{second}/cancel", data={"csrf_token": token})
    states = {b["code"]: b["state"] for b in trade(hq_client, slots).get_json()["bookings"]}
    assert states[first] == states[second] == "cancelled"


def test_bad_phone_past_slot_forged_or_unsigned_messages_are_refused(hq_client):
    slots = hour_slots()
    trade(hq_client, slots)
    with hq_client.store.write() as conn:
        for phone in ("", "12", "call me", "+994 50 123 45 67 89 01 23"):
            with pytest.raises(QueueError, match="phone"):
                bookings.book(conn, KEY, "baku-1", "2.1", slots[0]["slot_at"], phone, time.time())
        with pytest.raises(QueueError):  # already begun
            bookings.book(
                conn,
                KEY,
                "baku-1",
                "2.1",
                slots[0]["slot_at"],
                "+994501234567",
                slots[0]["slot_at"] + 1,
            )
    assert trade(hq_client, slots, key="not the key").status_code == 401
    assert trade(hq_client, [{"service": "2.1"}]).status_code == 422
    assert hq_client.get("/hq/book/NOTACODE").status_code == 404
    assert hq_client.get("/hq/book?center=nowhere").status_code == 404
    refused = hq_client.post(
        "/hq/book",
        data={
            "center": "baku-1",
            "service": "2.1",
            "slot": str(slots[0]["slot_at"]),
            "phone": "+994501234567",
        },
    )
    assert refused.status_code == 403  # no CSRF token: a page elsewhere cannot book


@pytest.mark.parametrize("lang", ["az", "ru", "en"])
def test_the_booking_pages_speak_the_visitors_language(hq_client, lang):
    slots = hour_slots()
    trade(hq_client, slots)
    words = {"az": "Görüşə yazılış", "ru": "Запись на приём", "en": "Book a visit"}
    phone = {"Accept-Language": lang}  # a visitor's phone says its language
    assert words[lang] in hq_client.get("/hq/book", headers=phone).get_data(as_text=True)
    code = (
        book_on_page(hq_client, slots[0]["slot_at"], lang=lang)
        .headers["Location"]
        .rsplit("/", 1)[-1]
    )
    page = hq_client.get(f"/hq/book/{code}", headers=phone).get_data(as_text=True)
    assert {"az": "Yazılış kodu", "ru": "Код записи", "en": "Booking code"}[lang] in page
    # The center's own check-in window, as it last said it, not HQ's guess.
    trade(hq_client, slots, window={"early_min": 20, "late_min": 5})
    page = hq_client.get(f"/hq/book/{code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Come at most 20 minutes early; more than 5 minutes late" in page


def test_outcomes_from_the_center_fill_hqs_report(hq_client):
    slots = hour_slots(count=2, seats=3)
    trade(hq_client, slots)
    codes = [
        book_on_page(hq_client, slots[0]["slot_at"]).headers["Location"].rsplit("/", 1)[-1]
        for _ in range(3)
    ]
    outcomes = [
        {"code": codes[0], "state": "checked_in", "called_after_s": 120},
        {"code": codes[1], "state": "no_show", "called_after_s": None},
    ]
    trade(hq_client, slots, outcomes)
    with hq_client.store.read() as conn:
        figures = booking_report.report(conn, 0, 2**40, {"baku-1": 10}, lambda at: "day")
    totals = figures["totals"]
    assert (totals["booked"], totals["checked_in"], totals["no_show"]) == (3, 1, 1)
    assert totals["called_after_p50_min"] == 2.0 and totals["share_of_visits_percent"] == 10.0


def test_parallel_visitors_never_overbook_a_slot_on_postgresql(tmp_path, postgres, capsys):
    """50 browsers press "Book" for the same 5 seats in one instant, against PostgreSQL."""
    from hq.app import create_hq_app
    from hq.storage import add_center

    config = {
        "HQ_DATA_DIR": str(tmp_path / "hq"),
        "HQ_DATABASE": str(postgres.new_database()),
        "TESTING": True,
        "HQ_BOOKINGS_PER_HOUR": 1000,
    }
    app = create_hq_app(config)
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", app.extensions["dostq.hq_keys"].seal(KEY), time.time())
    client = app.test_client()
    slots = hour_slots(count=1, seats=5)
    trade(client, slots)
    visitors = 50
    clients = [app.test_client() for _ in range(visitors)]
    tokens = [
        form_token(c.get("/hq/book?center=baku-1&service=2.1").get_data(as_text=True))
        for c in clients
    ]
    together = threading.Barrier(visitors)
    answers: list[str] = [""] * visitors

    def press_book(n: int) -> None:
        together.wait()
        response = clients[n].post(
            "/hq/book",
            data={
                "csrf_token": tokens[n],
                "center": "baku-1",
                "service": "2.1",
                "slot": str(slots[0]["slot_at"]),
                "phone": f"+99450{n:07d}",
            },
        )
        answers[n] = response.headers.get("Location", str(response.status_code))

    started = time.perf_counter()
    threads = [threading.Thread(target=press_book, args=(n,)) for n in range(visitors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    booked = [a for a in answers if "/hq/book/" in a and "center=" not in a]
    refused = [a for a in answers if "center=baku-1" in a]  # back to the times, told why
    assert len(booked) == 5 and len(refused) == visitors - 5
    with store.read() as conn:
        seats = conn.execute("SELECT booked, made FROM booking_slots").fetchone()
        standing = conn.execute("SELECT count(*) FROM bookings WHERE state = 'booked'").fetchone()
    assert tuple(seats) == (5, 5) and standing[0] == 5
    assert (
        len({booking_codes.verify(KEY, "baku-1", a.rsplit("/", 1)[-1]).seat for a in booked}) == 5
    )
    with capsys.disabled():
        print(
            f"\n  booking race on PostgreSQL: {visitors} at once for 5 seats: 5 booked, "
            f"{len(refused)} refused, {elapsed * 1000:.0f} ms"
        )
    store.close()


# ---- the center's API, admin page and report ------------------------------------------------


def test_the_longest_service_name_reaches_hq_whole(center):
    from hq.batches import check_appointments

    with center.store.write() as conn:
        rule = {
            "service": "7.6.2",
            "weekdays": [0, 1, 2, 3, 4],
            "from": "09:00",
            "until": "10:00",
            "slot_min": "20",
            "seats": "1",
        }
        hours.add_rule(conn, rule)
        message = {
            "center": "baku-1",
            "at": T0,
            "since": None,
            "window": {"early_min": 30, "late_min": 10},
            "services": hours.offered_services(conn),
            "slots": hours.slots(conn, None, BAKU, T0),
            "outcomes": [],
        }
    assert len(message["services"][0]["name"]["az"]) == 221  # 7.6.2, the catalog's longest
    assert check_appointments(json.loads(json.dumps(message)), "baku-1") == message


def test_a_blind_visitor_hears_the_booked_time_of_their_checked_in_ticket():
    from kiosk.speech import spoken_ticket

    assert spoken_ticket("Your number is B-002. You will be called at 12:40.", "en") == "B-002"
    assert spoken_ticket("Ваш номер B-002. Вас вызовут в 12:40.", "ru") == "B-002"
    assert spoken_ticket("Your number is B-002. You will be called at noon.", "en") is None


def linked(app_center, tmp_path):
    center = app_center.app.extensions["dostq.center"]
    app_center.app.extensions["dostq.hq_sync"].stop()  # no HQ here: only its key matters
    with center.store.write() as conn:
        sync.set_up(conn, tmp_path, "http://127.0.0.1:9", "baku-1", KEY)
    return center


def test_a_kiosk_and_reception_check_in_by_code_and_refusals_are_clear_json(app_center, tmp_path):
    from tests.conftest import login

    center = linked(app_center, tmp_path)
    client = app_center.app.test_client()
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    code = code_for(center, 15)
    checked = client.post("/api/v1/checkins", json={"code": code, "print": False}, headers=kiosk)
    assert checked.status_code == 201, checked.get_json()
    assert checked.get_json()["appointment"]["day"] == "2026-11-23"
    again = client.post("/api/v1/checkins", json={"code": code}, headers=kiosk)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "checked_in_already"
    early = client.post("/api/v1/checkins", json={"code": code_for(center, 45)}, headers=kiosk)
    assert early.get_json()["error"]["code"] == "too_early"
    assert early.get_json()["error"]["detail"]["slot"]  # the kiosk says the time in its words
    forged = client.post(
        "/api/v1/checkins", json={"code": code_for(center, 5, key="x")}, headers=kiosk
    )
    assert (forged.status_code, forged.get_json()["error"]["code"]) == (422, "bad_booking_code")
    assert client.post("/api/v1/checkins", json={"code": ""}, headers=kiosk).status_code == 400
    assert client.post("/api/v1/checkins", json={"code": code}).status_code == 401
    staff = app_center.app.test_client()
    headers = login(staff, "manager", "floor-boss-secret")
    at_desk = staff.post(
        "/api/v1/reception/checkins", json={"code": code_for(center, 10)}, headers=headers
    )
    assert at_desk.status_code == 201 and at_desk.get_json()["state"] == "waiting"
    state = client.get("/kiosk/state", headers=kiosk).get_json()
    assert state["bookings"] is False  # no appointment hours yet: no button on the kiosk


def test_the_admin_sets_appointment_hours_and_the_report_counts_bookings(app_center, tmp_path):
    from tests.conftest import login

    center = linked(app_center, tmp_path)
    staff = app_center.app.test_client()
    login(staff, "manager", "floor-boss-secret")
    page = staff.get("/manager/admin/appointments").get_data(as_text=True)
    token = form_token(page)
    added = staff.post(
        "/manager/admin/appointments",
        data={
            "csrf_token": token,
            "service": "2.1",
            "weekday": ["0", "1", "2", "3", "4"],
            "from": "09:00",
            "until": "12:00",
            "slot_min": "15",
            "seats": "2",
        },
    )
    assert added.status_code == 302
    bad = staff.post(
        "/manager/admin/appointments",
        data={
            "csrf_token": token,
            "service": "2.1",
            "weekday": ["0"],
            "from": "12:00",
            "until": "09:00",
            "slot_min": "15",
            "seats": "2",
        },
    )
    assert bad.status_code == 302
    with center.store.read() as conn:
        assert len(hours.rules(conn)) == 1
        offered = hours.slots(conn, None, BAKU, T0)
        services = hours.offered_services(conn)
    # Monday 06:13 in Baku: 12 slots a weekday from today to the Monday two weeks on (11 days).
    nine_today = int(datetime(2026, 11, 23, 9, tzinfo=BAKU).timestamp())
    assert len(offered) == 12 * 11 and offered[0]["slot_at"] == nine_today
    assert services[0]["code"] == "2.1" and services[0]["name"]["az"]
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    assert app_center.app.test_client().get("/kiosk/state", headers=kiosk).get_json()["bookings"]
    # Two bookings heard from HQ: one checks in and is called, one never comes.
    came, missed = code_for(center, 10), code_for(center, 10, seat=2)
    with center.store.write() as conn:
        hear_bookings(
            conn,
            [
                {
                    "code": booking_codes.normalise(c),
                    "service_id": service_id(center),
                    "slot_at": slot_at_t0(10),
                    "state": "booked",
                }
                for c in (came, missed)
            ],
            T0,
        )
    check_in(center, came, HQ_KEY, WINDOW, device=None)
    issue_ticket(center, "2.1", device=None)  # a walk-in: half the day's visits came booked
    app_center.clock.advance(3600)
    with center.store.read() as conn:
        figures = hours.report(conn, "2026-11-23", "2026-11-23", BAKU, T0 + 3600, WINDOW)
        told = {o["code"]: o["state"] for o in hours.outcomes(conn, T0 + 3600, WINDOW)}
    assert figures["totals"] == {
        "booked": 2,
        "checked_in": 1,
        "no_show": 1,
        "called_after_p50_min": None,  # nobody called yet
        "called_after_p90_min": None,
        "share_of_visits_percent": 50.0,
    }
    assert told == {
        booking_codes.normalise(came): "checked_in",
        booking_codes.normalise(missed): "no_show",
    }
    report = staff.get("/manager/report?from=2026-11-23&to=2026-11-23").get_data(as_text=True)
    assert 'id="appointments"' in report


# ---- the whole path: HQ and a center, live, in Chromium ------------------------------------

PHONE_VIEW = {"width": 390, "height": 844}
# The worst case on a phone, a kiosk and a ticket: the catalog's longest service name (230
# characters in Azerbaijani), served by the demo's Masa 4.
LONGEST = "7.6.2"
KIOSK_VIEW = {"width": 1080, "height": 1920}


def keep(page, name):
    """Keep a screenshot once nothing overlaps or runs off the screen (and axe is content)."""
    from tests.accessibility import keep_screen
    from tests.layout import layout_problems

    assert layout_problems(page) == ([], [], False), name
    keep_screen(page, name, full_page=True)


def first_slot(now):
    """The next whole minute at least 80 s ahead (seven bookings are made before it), in Baku;
    after 23:54, the next midnight (appointment hours end within their day)."""
    start = datetime.fromtimestamp(now + 80, BAKU).replace(second=0, microsecond=0)
    start += timedelta(minutes=1)
    if (start.hour, start.minute) > (23, 54):
        start = (start + timedelta(days=1)).replace(hour=0, minute=0)
    return start


PHONES = itertools.count(10)  # a phone books one service at most 5 times a day


def book_in_browser(browser, hq, slot_at, language, cancel=False, shoot=True):
    """A visitor books on their phone in their language; return the code (cancelled or not)."""
    context = browser.new_context(viewport=PHONE_VIEW, locale=language)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{hq.url}/hq/book")
    page.wait_for_selector("#book-centers")
    shoot = shoot and not cancel
    if shoot:
        keep(page, f"booking-centers-{language}")
    page.click("#book-centers a.book-choice")
    page.wait_for_selector("#book-services")
    if shoot:
        keep(page, f"booking-services-{language}")
    page.click(f"#book-services a[data-service='{LONGEST}']")
    page.wait_for_selector("#book-slot")
    if shoot:
        keep(page, f"booking-times-{language}")
    page.check(f"input[name=slot][value='{slot_at}']")
    page.fill("input[name=phone]", f"+994 55 987 65 {next(PHONES):02d}")  # each a visitor
    page.click("#book-slot button[type=submit]")
    page.wait_for_selector("#booking-code")
    code = page.inner_text("#booking-code")
    if shoot:
        keep(page, f"booking-confirmed-{language}")
    if cancel:
        page.click("#book-cancel button")
        page.wait_for_selector("#booking[data-state=cancelled]")
        keep(page, f"booking-cancelled-{language}")
    assert errors == []
    context.close()
    return code


def heard(live):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        return dict(db.execute("SELECT code, state FROM bookings").fetchall())


def type_on_kiosk(page, code):
    """Type a code key by key on the kiosk's own keyboard."""
    for char in code.replace("-", ""):
        page.click(f"#kiosk .keyboard button.key:text-is('{char}')")


def test_booked_at_hq_checked_in_at_a_live_kiosk_and_called_at_its_slot_hq_up_or_down(
    tmp_path, browser
):
    # The visitors check in on the center's day and are called at the slot, minutes later;
    # within ten minutes of Baku's midnight the slot falls on the next day, whose queue is
    # empty. The center's clock follows the machine's, so such a run has nothing to test.
    local = datetime.now(BAKU)
    if (local.hour, local.minute) >= (23, 50) or (local.hour, local.minute) < (0, 5):
        pytest.skip("the slot would fall on the next day (run within ten minutes of midnight)")
    hq = start_hq(tmp_path / "hq", serve=False)
    hq.start_with({"HQ_BOOK_BEFORE_MIN": "0"})  # the slot starts within the minute here
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST mərkəzi")
    hq.create_user("analyst", "hesabat-baxan-gözlər-9")

    def link_to_hq(store):
        with store.write() as conn:
            sync.set_up(conn, tmp_path / "center", hq.url, "baku-1", key)

    live = start_live_center(
        tmp_path / "center",
        prepare=link_to_hq,
        settings={"HQ_NOW_EVERY_S": "0.5", "HQ_SYNC_POLL_S": "0.5", "KIOSK_IDLE_S": "300"},
    )
    try:
        # The center's admin opens appointment hours for 7.6.2: one 5-minute slot, 8 visits.
        start = first_slot(time.time())
        slot_at = int(start.timestamp())
        admin_page = signed_in(browser, live, "admin", "az", "/manager/admin/appointments")
        form = "#add-appointment-hours"
        admin_page.select_option(f"{form} select[name=service]", LONGEST)
        for day in range(7):
            admin_page.check(f"{form} input[name=weekday][value='{day}']")
        admin_page.fill(f"{form} input[name=from]", start.strftime("%H:%M"))
        admin_page.fill(
            f"{form} input[name=until]", (start + timedelta(minutes=5)).strftime("%H:%M")
        )
        admin_page.fill(f"{form} input[name=slot_min]", "5")
        admin_page.fill(f"{form} input[name=seats]", "8")
        admin_page.click(f"{form} button[type=submit]")
        admin_page.wait_for_selector(f"#appointment-hours tr[data-service='{LONGEST}']")
        check_layout(admin_page, "admin-appointments-az")
        live.kiosk().get(f"{live.url}/api/v1/catalog", timeout=HTTP_TIMEOUT_S)  # starts sync
        offered = f"{hq.url}/hq/book?center=baku-1&service={LONGEST}"
        assert wait_until(
            lambda: f'value="{slot_at}"' in requests.get(offered, timeout=10).text, 30
        )

        # Visitors book on their phones, one in each language; one more each, cancelled.
        kept = {lang: book_in_browser(browser, hq, slot_at, lang) for lang in ("az", "ru", "en")}
        at_reception = book_in_browser(browser, hq, slot_at, "az", shoot=False)
        dropped = {lang: book_in_browser(browser, hq, slot_at, lang, cancel=True)
                   for lang in ("az", "ru", "en")}  # fmt: skip
        normal = booking_codes.normalise
        assert wait_until(lambda: all(heard(live).get(normal(c)) == "cancelled"
                                      for c in dropped.values()), 30)  # fmt: skip
        walk_in = live.kiosk().post(f"{live.url}/api/v1/tickets", json={"service": LONGEST,
                                    "print": False}, timeout=HTTP_TIMEOUT_S).json()  # fmt: skip

        # At the kiosk: the code typed on its keyboard (HQ up).
        context = browser.new_context(viewport=KIOSK_VIEW)
        kiosk = context.new_page()
        errors = []
        kiosk.on("pageerror", lambda error: errors.append(str(error)))
        kiosk.goto(f"{live.url}/kiosk/")
        kiosk.fill("input[name=token]", live.tokens["kiosk-1"])
        kiosk.click("form.login button[type=submit]")
        kiosk.wait_for_selector(".area")

        def open_check_in(language):
            kiosk.click("button.done") if kiosk.query_selector("button.done") else None
            kiosk.wait_for_selector(".area")
            kiosk.click(f"button.lang:text-is('{language.upper()}')")
            kiosk.wait_for_selector(f"html[lang={language}]")
            kiosk.click("button.booking")
            kiosk.wait_for_selector("#booking-code")

        labels = {}
        for language in ("az", "ru", "en"):  # a cancelled code: refused, a walk-in offered
            open_check_in(language)
            keep(kiosk, f"kiosk-checkin-entry-{language}")
            type_on_kiosk(kiosk, dropped[language])
            kiosk.click("button.check-in")
            kiosk.wait_for_selector("#checkin-refusal")
            assert kiosk.inner_text("#checkin-refusal") != ""
            keep(kiosk, f"kiosk-checkin-refused-{language}")
            kiosk.click(".refusal button")  # a walk-in ticket instead: the areas
            kiosk.wait_for_selector(".area")
        open_check_in("az")
        type_on_kiosk(kiosk, kept["az"])
        kiosk.click("button.check-in")
        kiosk.wait_for_selector("#ticket-number")
        labels["az"] = kiosk.inner_text("#ticket-number")
        assert kiosk.inner_text(".ticket .appointment") == f"Sizi saat {start:%H:%M}-da çağıracağıq"
        keep(kiosk, "kiosk-checkin-ticket-az")

        # HQ goes down; a scanner types the QR's address and Enter, from the start screen.
        hq.stop()
        for language in ("ru", "en"):
            open_check_in(language)
            kiosk.click("button.nav:nth-of-type(2)")  # Start: the scanner works from any screen
            kiosk.wait_for_selector(".area")
            address = f"{hq.url}/hq/book/{normal(kept[language])}"
            kiosk.keyboard.type(address)  # Playwright types faster than any person
            kiosk.keyboard.press("Enter")
            kiosk.wait_for_selector("#ticket-number")
            labels[language] = kiosk.inner_text("#ticket-number")
            keep(kiosk, f"kiosk-checkin-ticket-{language}")
        assert errors == []
        # A volunteer at reception checks one in by its code, HQ still down.
        volunteer = signed_in(browser, live, "volunteer", "az", "/reception/")
        volunteer.fill("#check-in input[name=code]", at_reception)
        volunteer.click("#check-in button[type=submit]")
        volunteer.wait_for_selector("#checked-in .number")
        labels["reception"] = volunteer.inner_text("#checked-in .number")
        check_layout(volunteer, "reception-checkin-az")
        assert len(set(labels.values())) == 4
        assert {label[0] for label in labels.values()} == {walk_in["label"][0]}  # the area's

        # At the slot's start the clerk's Call next calls the bookings before the walk-in: the
        # center restarts with its clock at the slot, rather than the test waiting for it.
        live.restart(clock_ahead_s=max(0.0, slot_at - time.time()) + 1)
        clerk = live.session("clerk4", DEMO_LOGINS["clerk4"])
        counter = f"{live.url}/api/v1/counters/4"  # Masa 4 serves 7.6.2
        clerk.post(f"{counter}/session", timeout=HTTP_TIMEOUT_S).raise_for_status()
        called = []
        for _ in range(5):
            call = clerk.post(f"{counter}/call-next", timeout=HTTP_TIMEOUT_S)
            assert call.status_code == 200, call.text
            called.append(call.json()["ticket"]["label"])
            clerk.post(f"{counter}/no-show", timeout=HTTP_TIMEOUT_S).raise_for_status()
        booked_first = [labels[key] for key in ("az", "ru", "en", "reception")]
        assert called == [*booked_first, walk_in["label"]]

        # The center's report counts them; once HQ is back, so does HQ's.
        report = signed_in(browser, live, "manager", "az", "/manager/report")
        totals = report.inner_text("#appointments tr[data-key='Σ']").split()
        assert totals[1:4] == ["4", "4", "0"]  # booked (not the cancelled), checked in, no-show
        hq.start()
        database = hq.open_database()
        try:

            def outcomes():
                with database.read() as conn:
                    rows = conn.execute("SELECT state, count(*) FROM bookings GROUP BY state")
                    return dict(rows.fetchall())

            assert wait_until(lambda: outcomes() == {"checked_in": 4, "cancelled": 3}, 30)
        finally:
            database.close()
        analyst = browser.new_page(viewport={"width": 1280, "height": 800})
        analyst.errors = []
        analyst.goto(f"{hq.url}/hq/login?next=/hq/appointments")
        analyst.fill("input[name=username]", "analyst")
        analyst.fill("input[name=password]", "hesabat-baxan-gözlər-9")
        analyst.click("form.login button[type=submit]")
        analyst.wait_for_selector("#appointments-centers")
        row = analyst.inner_text("#appointments-centers tr[data-key='Σ']").split()
        assert row[1:5] == ["4", "3", "4", "0"]  # booked, cancelled, checked in, no-show
        check_layout(analyst, "hq-appointments-az")
    finally:
        live.stop()
        hq.stop()


# ---- other state systems, and what no visitor should be able to break ------------------------

PARTNER_KEY = "p" * 43


def as_partner(client, message, key=PARTNER_KEY, partner="e-social"):
    """Call HQ's booking API as another state system does, signed with its key."""
    body = json.dumps({"at": time.time(), **message}).encode()
    headers = signing.signed_headers(
        key, partner, int(time.time()), "POST", "/hq/api/v1/bookings", body
    )
    headers[signing.PARTNER_HEADER] = headers.pop(signing.CENTER_HEADER)
    system = client.application.test_client()
    return system.post(
        "/hq/api/v1/bookings", data=body, headers=headers, content_type="application/json"
    )


def test_another_state_system_books_moves_and_cancels_through_the_signed_api(hq_client):
    with hq_client.store.write() as conn:
        sealed = hq_client.application.extensions["dostq.hq_keys"].seal(PARTNER_KEY)
        bookings.add_partner(conn, "e-social", sealed, time.time())
    slots = hour_slots(seats=1)
    trade(hq_client, slots)
    free = as_partner(hq_client, {"action": "slots", "center": "baku-1", "service": "2.1"})
    assert [s["slot_at"] for s in free.get_json()["slots"]] == [s["slot_at"] for s in slots]
    booked = as_partner(
        hq_client,
        {
            "action": "book",
            "center": "baku-1",
            "service": "2.1",
            "slot_at": slots[0]["slot_at"],
            "phone": "+994501112233",
        },
    )
    assert booked.status_code == 200 and booked.get_json()["state"] == "booked"
    code = booked.get_json()["code"]
    assert booking_codes.verify(KEY, "baku-1", code).slot_at == slots[0]["slot_at"]
    full = as_partner(
        hq_client,
        {
            "action": "book",
            "center": "baku-1",
            "service": "2.1",
            "slot_at": slots[0]["slot_at"],
            "phone": "+994501112244",
        },
    )
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "slot_taken")
    moved = as_partner(hq_client, {"action": "move", "code": code, "slot_at": slots[1]["slot_at"]})
    assert moved.get_json()["slot_at"] == slots[1]["slot_at"] and moved.get_json()["code"] != code
    cancelled = as_partner(hq_client, {"action": "cancel", "code": moved.get_json()["code"]})
    assert cancelled.get_json()["state"] == "cancelled"
    with hq_client.store.read() as conn:
        made_by = {row[0] for row in conn.execute("SELECT made_by FROM bookings")}
    assert made_by == {"e-social"}
    assert as_partner(hq_client, {"action": "cancel", "code": code}, key="wrong").status_code == 401
    assert as_partner(hq_client, {"action": "cancel", "code": code}, partner="x").status_code == 401
    assert as_partner(hq_client, {"action": "drop tables"}).status_code == 422
    assert as_partner(hq_client, {"action": "book", "center": "baku-1"}).status_code == 422


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60), st.text(max_size=30))
def test_no_booking_page_answers_500_to_what_a_visitor_can_type(hq_booking, center, text):
    client = hq_booking
    for path in ("/hq/book", f"/hq/book?center={center}", f"/hq/book?center=baku-1&service={text}"):
        assert client.get(path).status_code < 500
    assert client.get(f"/hq/book/{text.replace('/', '')}x").status_code in (200, 404)
    token = form_token(client.get("/hq/book").get_data(as_text=True))
    for form in (
        {"center": center, "service": text, "slot": text, "phone": text},
        {"center": "baku-1", "service": "2.1", "slot": "9" * 40, "phone": text},
    ):
        assert client.post("/hq/book", data={"csrf_token": token, **form}).status_code < 500
    moved = client.post("/hq/book/AAAA/move", data={"csrf_token": token, "slot": text})
    assert moved.status_code < 500


@pytest.fixture(scope="module")
def hq_booking(tmp_path_factory):
    """One HQ on SQLite, taking bookings, for the hostile-input sweep."""
    from hq.app import create_hq_app
    from hq.storage import add_center

    data = tmp_path_factory.mktemp("hq")
    app = create_hq_app({"HQ_DATA_DIR": str(data), "TESTING": True, "HQ_BOOKINGS_PER_HOUR": 10**6})
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", app.extensions["dostq.hq_keys"].seal(KEY), time.time())
    client = app.test_client()
    trade(client, hour_slots())
    yield client
    store.close()
