"""A number left at the kiosk for a ticket's SMS: offered only when HQ sends SMS, kept until
the relay hands it to HQ (which then owes the messages), never past its day."""

import json

import requests

from server.hq_link import phones, sync
from server.hq_link.phones import PER_MESSAGE, PhoneRelay, public_id
from server.hq_link.sync import HqLink
from server.office import accounts
from tests.conftest import KEY, center_app, seed


class FakeHq:
    """HQ's answer to the relay, recording what the center sent (the real one: see below)."""

    def __init__(self, sends_sms=True):
        self.sent = []
        self.sends_sms = sends_sms

    def post(self, url, data, headers, timeout, verify):  # requests.Session.post's shape
        self.sent.append(json.loads(data))
        answer = requests.Response()
        answer.status_code = 200
        answer._content = json.dumps({"requests": [], "sms": self.sends_sms}).encode()
        return answer


def test_the_kiosk_offers_an_sms_only_when_hq_sends_them_and_hands_the_number_on(
    tmp_path, monkeypatch
):
    app = center_app(tmp_path, HQ_PUBLIC_URL="https://hq.dost.example")
    app.extensions["dostq.hq_sync"].stop()  # the test relays by hand
    c = app.extensions["dostq.center"]
    seed(c.store)
    with c.store.write() as conn:
        kiosk = accounts.enrol_device(conn, "kiosk-1", "kiosk", c.now())
        sync.set_up(conn, tmp_path, "https://10.1.1.1:8443", "baku-1", KEY)
    client = app.test_client()
    auth = {"Authorization": f"Device {kiosk}"}
    assert client.get("/kiosk/state", headers=auth).get_json()["sms"] is False
    asked = {"service": "2.1", "print": False, "language": "ru"}
    ticket = client.post("/api/v1/tickets", json=asked, headers=auth).get_json()
    refused = client.post(f"/api/v1/tickets/{ticket['id']}/sms", json={"phone": "0501234567"},
                          headers=auth)  # fmt: skip
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "no_sms"
    monkeypatch.setattr(phones, "check_answer", lambda *args: None)  # the fake HQ signs nothing
    hq = FakeHq()
    relay = PhoneRelay(c, lambda facts: None)
    relay.exchange(HqLink("https://10.1.1.1:8443", "baku-1", KEY, None), hq)
    assert client.get("/kiosk/state", headers=auth).get_json()["sms"] is True
    bad = client.post(f"/api/v1/tickets/{ticket['id']}/sms", json={"phone": "12"}, headers=auth)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_phone"
    left = client.post(f"/api/v1/tickets/{ticket['id']}/sms", json={"phone": "050 123 45 67"},
                       headers=auth)  # fmt: skip
    assert left.status_code == 201 and left.get_json() == {"sms_to": "••• 67"}
    relay.exchange(HqLink("https://10.1.1.1:8443", "baku-1", KEY, None), hq)
    (handed,) = hq.sent[-1]["sms"]
    assert handed == {"id": public_id(ticket["token"]), "phone": "994501234567", "language": "ru"}
    relay.exchange(HqLink("https://10.1.1.1:8443", "baku-1", KEY, None), hq)
    assert hq.sent[-1]["sms"] == []  # HQ took it: the center keeps no number
    with c.store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sms_numbers").fetchone()[0] == 0
    c.store.close()


def test_a_number_of_a_past_day_is_deleted_unsent(center):
    from server.queue import sms_numbers, visits

    ticket, _ = visits.issue_ticket(center, "2.1", device=None)
    with center.store.write() as conn:
        conn.execute("INSERT INTO sms_numbers (ticket_id, phone, made_at) VALUES (?, ?, 1)",
                     (ticket["id"], "994501234567"))  # fmt: skip
        assert len(sms_numbers.pending(conn, ticket["day"])) == 1
        sms_numbers.forget(conn, [], "2999-01-01")  # the next day's exchange
        assert conn.execute("SELECT count(*) FROM sms_numbers").fetchone()[0] == 0


def test_a_record_day_s_statuses_go_to_hq_in_several_messages(tmp_path, monkeypatch):
    # The first exchange of a morning after a restart carries every ticket of the day: HQ
    # takes at most 2,000 a message, so 1,646 and more go in parts, each sent at once.
    from server.queue import visits

    app = center_app(tmp_path, HQ_PUBLIC_URL="https://hq.dost.example")
    app.extensions["dostq.hq_sync"].stop()
    c = app.extensions["dostq.center"]
    seed(c.store)
    for _ in range(PER_MESSAGE * 2 + 7):
        visits.issue_ticket(c, "2.1", device=None)
    monkeypatch.setattr(phones, "check_answer", lambda *args: None)
    hq, relay = FakeHq(), PhoneRelay(c, lambda facts: None)
    link = HqLink("https://10.1.1.1:8443", "baku-1", KEY, None)
    sent = [relay.exchange(link, hq)]
    while relay.more:
        sent.append(relay.exchange(link, hq))
    assert sent == [PER_MESSAGE, PER_MESSAGE, 7]
    assert len({t["id"] for message in hq.sent for t in message["tickets"]}) == PER_MESSAGE * 2 + 7
    assert relay.exchange(link, hq) == 0  # nothing changed since
    c.store.close()
