"""SMS from HQ through a real SMSC (smpp34's server, started here on a free port): the PDUs
(UCS-2 for Azerbaijani and Russian, GSM for English, at most two segments, the destination),
one message per ticket and kind however often the center repeats its word, nothing twice
after a restart, and the number gone with its day."""

import time

import pytest

from hq.app import create_hq_app
from hq.sms import SmppSender, compose, segments
from hq.storage import add_center
from server.queue.errors import Invalid
from server.queue.mobile import mobile_number
from tests.conftest import KEY
from tests.smsc import Smsc
from tests.test_phone_relay import DAY, TOKEN, post, public_id, relay, status


@pytest.fixture(scope="module")
def smsc():
    return Smsc()


def test_numbers_are_written_as_visitors_write_them_and_others_refused():
    for given in ("+994 50 123 45 67", "050-123-45-67", "994551234567", "(070) 123 45 67"):
        assert mobile_number(given).startswith("994") and len(mobile_number(given)) == 12
    for wrong in ("+994 12 123 45 67", "12345", "+7 912 123 45 67", "", "0501234567890"):
        with pytest.raises(Invalid):
            mobile_number(wrong)


def test_every_message_fits_two_segments_in_each_language():
    long_name = "Sumqayıt şəhəri üzrə 2 saylı Dayanıqlı və Operativ Sosial Təminat mərkəzi"
    for language in ("az", "ru", "en"):
        for kind in ("near", "called"):
            text = compose(kind, language, long_name, label="D-103", counter="Zal 2 · Masa 14")
            assert segments(text) <= 2 and "D-103" in text
        for kind in ("booked", "cancelled", "day_before", "soon"):  # the longest texts
            code = "ABCD-EFGH-JKLM-NPQR-STUV"
            text = compose(kind, language, long_name, when="08.12 10:30", code=code)
            assert segments(text) <= 2 and code in text and "10:30" in text


def test_the_smpp_sender_submits_ucs2_for_azerbaijani_and_gsm_for_english(smsc):
    sender = SmppSender("127.0.0.1", smsc.port, "dostq", "secret", "DOST")
    before = len(smsc.submitted)
    az = compose("near", "az", "Bakı 1 saylı DOST mərkəzi", label="B-007", counter="")
    ids = sender.send("994501234567", az)
    sent = smsc.submitted[before:]
    assert len(ids) == len(sent) == 2  # ə in UCS-2: over 70 letters, two parts with their UDH
    assert {p["coding"] for p in sent} == {8} and all(p["esm_class"] & 0x40 for p in sent)
    assert {p["to"] for p in sent} == {"994501234567"} and sent[0]["source"] == "DOST"
    assert smsc.texts()[-1] == az
    sender.send("994501234567", compose("called", "en", "Baku 1", label="B-007", counter="Masa 3"))
    assert smsc.submitted[-1]["coding"] == 0 and smsc.texts()[-1].endswith("Masa 3.")


def hq_with_smsc(tmp_path, smsc):
    app = create_hq_app({"HQ_DATA_DIR": str(tmp_path / "hq"), "TESTING": True,
                         "HQ_SMPP_URL": f"smpp://dostq:secret@127.0.0.1:{smsc.port}"})  # fmt: skip
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM centers").fetchone() is None:
            add_center(conn, "baku-1", "Bakı 1 saylı DOST mərkəzi",
                       app.extensions["dostq.hq_keys"].seal(KEY), time.time())  # fmt: skip
    return app  # its sender not started (`dostq hq serve` starts it): the test sends


def test_a_visitor_is_told_near_and_called_once_each_and_never_twice(tmp_path, smsc):
    app = hq_with_smsc(tmp_path, smsc)
    client, worker = app.test_client(), app.extensions["dostq.sms_worker"]
    relay(client, [{"id": public_id(TOKEN), "status": status(language="az")}])
    left = client.post(f"/hq/t/{TOKEN}/sms", json={"phone": "050 123 45 67"})
    assert left.status_code == 202 and left.get_json() == {"sms_to": "••• 67"}
    assert client.post(f"/hq/t/{TOKEN}/sms", json={"phone": "12"}).status_code == 422
    before = len(smsc.texts())
    near = [{"id": public_id(TOKEN), "status": status(language="az", people_ahead=3)}]
    for _ in range(3):  # the center says it again and again
        relay(client, near)
    while worker.send_one(time.time()):
        pass
    assert len(smsc.texts()) == before + 1 and "B007" in smsc.texts()[-1]
    called = status(state="called", language="az", counter="Masa 3", people_ahead=0)
    relay(client, [{"id": public_id(TOKEN), "status": called}])
    # HQ restarts with the message owed and another one claimed when it stopped: the owed one
    # goes, the claimed one does not (it may have gone: never twice).
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        conn.execute(
            "INSERT INTO sms_outbox (center, ticket, kind, phone, text, made_at, claimed_at) "
            "VALUES ('baku-1', 'x', 'near', '994501234567', 'lost', 1, 1)"
        )
    store.close()
    again = hq_with_smsc(tmp_path, smsc)
    while again.extensions["dostq.sms_worker"].send_one(time.time()):
        pass
    assert smsc.texts()[before + 1 :] == [smsc.texts()[-1]] and "Masa 3" in smsc.texts()[-1]
    with again.extensions["dostq.hq_store"].read() as conn:
        phones = [r[0] for r in conn.execute("SELECT phone FROM sms_outbox WHERE sent_at > 0")]
    assert phones == ["", ""]  # blanked once sent
    # The next day's first word: the number is gone.
    relay(again.test_client(), [], day="2026-12-09")
    with again.extensions["dostq.hq_store"].read() as conn:
        assert conn.execute("SELECT count(*) FROM sms_numbers").fetchone()[0] == 0
        left_over = conn.execute("SELECT phone FROM sms_outbox WHERE phone <> ''").fetchall()
    assert left_over == []
    again.extensions["dostq.hq_store"].close()
    assert DAY < "2026-12-09"


def test_an_smsc_that_refuses_is_tried_again_then_given_up(tmp_path, smsc):
    app = hq_with_smsc(tmp_path, smsc)
    client, worker = app.test_client(), app.extensions["dostq.sms_worker"]
    relay(client, [{"id": public_id(TOKEN), "status": status()}])
    client.post(f"/hq/t/{TOKEN}/sms", json={"phone": "+994 55 765 43 21"})
    relay(client, [{"id": public_id(TOKEN), "status": status(people_ahead=1)}])
    smsc.refuse = True
    try:
        for _ in range(5):
            worker.send_one(time.time())
    finally:
        smsc.refuse = False
    with app.extensions["dostq.hq_store"].read() as conn:
        tries, sent = conn.execute("SELECT tries, sent_at FROM sms_outbox").fetchone()
    assert (tries, sent) == (3, None)
    assert worker.send_one(time.time()) is False  # given up: HQ's log says why
    app.extensions["dostq.hq_store"].close()


def test_hq_serve_refuses_an_smpp_address_it_cannot_use(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("DOSTQ_HQ_SMPP_URL", "http://operator.example/smpp")
    result = CliRunner().invoke(main, ["hq", "serve", "--data-dir", str(tmp_path / "hq")])
    assert result.exit_code != 0 and "smpp://SYSTEM_ID:PASSWORD@HOST:PORT" in result.output


def test_bookings_are_confirmed_and_reminded_once_each_in_their_language(tmp_path, smsc):
    from zoneinfo import ZoneInfo

    from hq.sms_outbox import owe_bookings

    app = hq_with_smsc(tmp_path, smsc)
    store, worker = app.extensions["dostq.hq_store"], app.extensions["dostq.sms_worker"]
    now = 1_800_000_000.0
    day = 86400
    rows = [  # code, slot in, phone, state, made, changed, language
        ("AAAABBBBCCCCDDDDEEEE", 3 * day, "+994501112233", "booked", now, None, "ru"),
        ("DDDDEEEEFFFFGGGGHHHH", 3 * day, "+994124445566", "booked", now, None, "az"),  # a landline
        ("GGGGHHHHJJJJKKKKMMMM", 2 * day, "+994557778899", "cancelled", now - 9 * day, now, "az"),
        ("KKKKMMMMNNNNPPPPQQQQ", 2 * day, "+994709990011", "cancelled", now - 9 * day, now, "en"),
        ("PPPPQQQQRRRRSSSSTTTT", 4 * day, "+994709990011", "booked", now, None, "en"),  # moved here
    ]
    with store.write() as conn:
        for code, slot_in, phone, state, made, changed, language in rows:
            conn.execute(
                "INSERT INTO bookings (code, center, service, service_id, slot_at, phone, state, "
                "made_at, made_by, changed_at, language) VALUES (?, 'baku-1', '2.1', 7, ?, ?, ?, "
                "?, 'web', ?, ?)",
                (code, int(now + slot_in), phone, state, made, changed, language),
            )
    zone = ZoneInfo("Asia/Baku")
    before = len(smsc.texts())

    def owe_and_send(at):
        with store.write() as conn:
            owe_bookings(conn, at, zone)
        while worker.send_one(at):
            pass
        return smsc.texts()[before:]

    sent = owe_and_send(now)
    assert len(sent) == 3 and "AAAA-BBBB-CCCC-DDDD-EEEE" in sent[0] and "приём" in sent[0]
    assert any("GGGG-HHHH" in t and "ləğv" in t for t in sent)  # cancelled, in Azerbaijani
    assert any("PPPP-QQQQ" in t for t in sent)  # moved here: told once, as booked
    assert not any("KKKK-MMMM-NNNN" in t for t in sent)
    assert owe_and_send(now + 60) == sent  # nothing twice
    tomorrow = owe_and_send(now + 2 * day + 3600)  # the day before AAAA's slot
    assert len(tomorrow) == 4 and "завтра" in tomorrow[-1]
    soon = owe_and_send(now + 3 * day - 3600)
    assert len(soon) == 5 and "сегодня" in soon[-1]
    assert smsc.submitted[-1]["coding"] == 8 and smsc.submitted[-1]["to"] == "994501112233"
    store.close()


def test_a_number_left_at_the_kiosk_comes_with_the_relay_and_is_told_near(tmp_path, smsc):
    app = hq_with_smsc(tmp_path, smsc)
    client, worker = app.test_client(), app.extensions["dostq.sms_worker"]
    near = [{"id": public_id(TOKEN), "status": status(language="ru", people_ahead=2)}]
    left = [{"id": public_id(TOKEN), "phone": "994701234567", "language": "ru"}]
    answer = post(client, {"center": "baku-1", "day": DAY, "at": time.time(), "tickets": near,
                           "done": [], "sms": left})  # fmt: skip
    assert answer.get_json()["sms"] is True  # the kiosk may offer it
    before = len(smsc.texts())
    while worker.send_one(time.time()):
        pass
    assert len(smsc.texts()) == before + 1 and "B007" in smsc.texts()[-1]
    assert smsc.submitted[-1]["to"] == "994701234567" and smsc.submitted[-1]["coding"] == 8
    app.extensions["dostq.hq_store"].close()


def test_the_http_gateway_gets_the_message_with_its_token(tmp_path):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from hq.sms import HttpGatewaySender, sender_from

    heard = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            heard.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"id": "gw-1"}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/send"
    config = {"HQ_SMPP_URL": "", "HQ_SMS_HTTP_URL": url, "HQ_SMS_HTTP_TOKEN": "t0ken",
              "HQ_SMS_SOURCE": "DOST"}  # fmt: skip
    sender = sender_from(config)
    assert isinstance(sender, HttpGatewaySender)
    assert sender.send("994501234567", "Bakı 1: B-007 çağırılır") == ["gw-1"]
    assert heard == [("Bearer t0ken", {"to": "994501234567", "text": "Bakı 1: B-007 çağırılır",
                                       "from": "DOST"})]  # fmt: skip
    server.shutdown()
    server.server_close()


def test_hq_counts_the_sms_each_center_s_visitors_were_sent(tmp_path, smsc):
    from hq.sms_outbox import sent_by_center

    app = hq_with_smsc(tmp_path, smsc)
    client, worker = app.test_client(), app.extensions["dostq.sms_worker"]
    relay(client, [{"id": public_id(TOKEN), "status": status(people_ahead=1)}])
    client.post(f"/hq/t/{TOKEN}/sms", json={"phone": "0551234567"})
    while worker.send_one(time.time()):
        pass
    with app.extensions["dostq.hq_store"].read() as conn:
        assert sent_by_center(conn, time.time() - 60, time.time() + 60) == {"baku-1": 1}
    app.extensions["dostq.hq_store"].close()
