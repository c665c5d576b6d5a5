"""HQ's public booking pages on the internet: every write and look is limited (H4, L5).

A seat's number is part of a booking's code and never given twice, so a move uses one of a
slot's 255 for good: 509 moves from one client once closed two slots in 7 seconds.
"""

import time

import pytest

from hq import bookings
from hq.app import create_hq_app
from server.hq_link import sync
from server.live.ratelimit import RateLimit
from server.office import accounts
from tests.live import start_hq
from tests.test_appointments import book_on_page, form_token, hour_slots, trade


def code_of(answer):
    return answer.headers["Location"].rsplit("/", 1)[-1]


def move(client, code, slot_at):
    token = form_token(client.get(f"/hq/book/{code}").get_data(as_text=True))
    return client.post(f"/hq/book/{code}/move", data={"csrf_token": token, "slot": str(slot_at)})


def test_one_phone_books_or_moves_a_service_five_times_a_day_at_most(hq_client):
    hq_client.application.extensions["dostq.booking_limit"] = RateLimit(1000, 3600)
    slots = hour_slots(count=2, seats=5)
    trade(hq_client, slots)
    code = code_of(book_on_page(hq_client, slots[0]["slot_at"]))
    for change in range(1, bookings.CHANGES_PER_PHONE_PER_DAY):
        code = code_of(move(hq_client, code, slots[change % 2]["slot_at"]))
    refused = move(hq_client, code, slots[0]["slot_at"])
    page = hq_client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Bu telefon nömrəsi bu gün bu xidmətə çox yazılıb" in page  # the visitor's language
    with hq_client.store.read() as conn:
        made = [row[0] for row in conn.execute("SELECT made FROM booking_slots ORDER BY slot_at")]
    assert sum(made) == bookings.CHANGES_PER_PHONE_PER_DAY  # no seat number burnt by the refusal
    other = book_on_page(hq_client, slots[0]["slot_at"], phone="+994 55 111 22 33")
    assert other.status_code == 302 and "/hq/book/" in other.headers["Location"]


def test_moves_and_cancels_count_against_an_addresss_hour(hq_client):
    hq_client.application.extensions["dostq.booking_limit"] = RateLimit(3, 3600)
    slots = hour_slots(count=2, seats=5)
    trade(hq_client, slots)
    code = code_of(book_on_page(hq_client, slots[0]["slot_at"]))  # 1
    code = code_of(move(hq_client, code, slots[1]["slot_at"]))  # 2
    code = code_of(move(hq_client, code, slots[0]["slot_at"]))  # 3
    refused = move(hq_client, code, slots[1]["slot_at"])  # 4: refused, the booking kept
    assert refused.headers["Location"].endswith(f"/hq/book/{code}")
    with hq_client.store.read() as conn:
        assert sum(r[0] for r in conn.execute("SELECT made FROM booking_slots")) == 3


@pytest.mark.parametrize("path", ["/hq/book/{code}", "/hq/book/{code}/qr.svg"])
def test_looking_bookings_up_by_code_is_limited_per_address(hq_client, path):
    hq_client.application.extensions["dostq.lookup_limit"] = RateLimit(5, 60)
    slots = hour_slots(count=1, seats=5)
    trade(hq_client, slots)
    hq_client.application.extensions["dostq.booking_limit"] = RateLimit(1000, 3600)
    code = code_of(book_on_page(hq_client, slots[0]["slot_at"]))
    answers = [hq_client.get(path.format(code=code)).status_code for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]
    guessed = hq_client.get(path.format(code="AAAA-BBBB-CCCC"))
    assert guessed.status_code == 429  # a guess counts like a look


def test_phone_numbers_are_blanked_a_month_after_the_slot_moved_and_cancelled_too(hq_client):
    # Numbers were kept in clear forever, cancelled and moved bookings included (L9).
    hq_client.application.extensions["dostq.booking_limit"] = RateLimit(1000, 3600)
    slots = hour_slots(count=2, seats=5)
    trade(hq_client, slots)
    code = code_of(book_on_page(hq_client, slots[0]["slot_at"]))
    move(hq_client, code, slots[1]["slot_at"])  # the old booking stays, cancelled
    book_on_page(hq_client, slots[1]["slot_at"], phone="+994 55 111 22 33")
    keep_days = hq_client.application.config["HQ_PHONES_KEEP_DAYS"]
    with hq_client.store.write() as conn:
        first, last = (slot["slot_at"] + keep_days * 86400 for slot in slots)
        assert bookings.forget_phones(conn, first - 60, keep_days) == 0  # not yet
        assert bookings.forget_phones(conn, last + 60, keep_days) == 3
        phones = [row[0] for row in conn.execute("SELECT phone FROM bookings")]
    assert phones == ["", "", ""]


@pytest.mark.live
def test_a_booking_cancelled_at_hq_is_refused_at_the_kiosk_at_once(app_center, tmp_path):
    # It checked in until the center's next exchange (a move gave two appointment tickets, L4):
    # a check-in now hears HQ's newest word first, when HQ answers.
    hq = start_hq(tmp_path / "hq")
    try:
        key = hq.add_center("baku-1", "Bakı 1")
        center = app_center.app.extensions["dostq.center"]
        app_center.app.extensions["dostq.hq_sync"].stop()  # only the check-in talks to HQ here
        app_center.clock.now = time.time()  # HQ lists bookings by its own clock
        with center.store.write() as conn:
            sync.set_up(conn, tmp_path, hq.url, "baku-1", key)
            service_id = conn.execute("SELECT id FROM services WHERE code = '2.1'").fetchone()[0]
        slot_at = int(time.time()) + 600
        database = hq.open_database()
        try:
            with database.write() as conn:
                conn.execute(
                    "INSERT INTO booking_slots (center, service, service_id, slot_at, seats) "
                    "VALUES ('baku-1', '2.1', ?, ?, 5)",
                    (service_id, slot_at),
                )
                code = bookings.book(conn, key, "baku-1", "2.1", slot_at, "+994501234567",
                                     time.time(), lead_s=0)  # fmt: skip
                bookings.cancel(conn, code, time.time())
        finally:
            database.close()
        kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
        client = app_center.app.test_client()
        refused = client.post("/api/v1/checkins", json={"code": code, "print": False},
                              headers=kiosk)  # fmt: skip
        assert refused.status_code == 409, refused.get_json()
        assert refused.get_json()["error"]["code"] == "booking_cancelled"
    finally:
        hq.stop()


def test_two_hq_processes_share_their_limits_and_sign_in_locks(tmp_path, hq_database):
    # Each HQ process kept its own counts: behind a balancer two allowed twice as much, and an
    # account locked on one signed in on the other (M4). Both now count in the database.
    config = {"HQ_DATA_DIR": str(tmp_path / "hq"), "HQ_DATABASE": hq_database, "TESTING": True,
              "HQ_LOOKUPS_PER_MINUTE": 3, "SIGNIN_MAX_FAILURES": 3}  # fmt: skip
    one, two = create_hq_app(config), create_hq_app(config)
    try:
        with one.extensions["dostq.hq_store"].write() as conn:
            accounts.create_user(conn, "analyst", "hesabat-oxuyan-9", "manager", time.time())
        looks = [one.test_client().get("/hq/book/AAAA-BBBB-CCCC").status_code for _ in range(3)]
        assert 429 not in looks
        assert two.test_client().get("/hq/book/AAAA-BBBB-CCCC").status_code == 429
        for _ in range(3):
            wrong = sign_in(one.test_client(), "analyst", "not-the-password-1")
            assert "hq/login" in wrong.request.path or wrong.status_code in (200, 429)
        right = sign_in(two.test_client(), "analyst", "hesabat-oxuyan-9")
        assert right.status_code == 429  # locked on one: locked on two
    finally:
        one.extensions["dostq.hq_store"].close()
        two.extensions["dostq.hq_store"].close()


def sign_in(client, username, password):
    page = client.get("/hq/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    return client.post("/hq/login", data={"username": username, "password": password},
                       headers={"X-CSRFToken": token})  # fmt: skip
