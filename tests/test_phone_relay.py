"""The ticket's page at HQ for a phone off the premises, in one process (HQ on SQLite and on
PostgreSQL): what HQ keeps of a relayed ticket and never keeps, the visitor's requests queued
for the center until it acknowledges them, a past day forgotten, a message refused."""

import hashlib
import json
import time

from server.hq_link import signing
from server.hq_link.phones import TICKETS_PATH, _public, public_id
from tests.conftest import KEY

TOKEN = "tok-Abc123_relayed-ticket"
DAY = "2026-12-08"


def status(state="waiting", **changes):
    return {"label": "B007", "service": {"code": "2.1", "name": {"az": "Əmək müqaviləsi",
            "ru": None, "en": "Employment"}}, "language": "en", "state": state,
            "people_ahead": 4, "estimated_wait_min": 12, "estimated_wait_range_min": [7, 17],
            "counter": None, "arrived_at": 1.0, "called_at": None, "feedback": None,
            **changes}  # fmt: skip


def post(client, message, key=KEY):
    body = json.dumps(message).encode()
    headers = signing.signed_headers(key, "baku-1", int(time.time()), "POST", TICKETS_PATH, body)
    return client.post(TICKETS_PATH, data=body, headers=headers, content_type="application/json")


def relay(client, tickets, done=(), day=DAY, at=None):
    return post(client, {"center": "baku-1", "day": day, "at": at or time.time(),
                         "tickets": tickets, "done": list(done)})  # fmt: skip


def test_hq_keeps_a_ticket_under_its_token_s_hash_and_shows_its_page(hq_client):
    assert relay(hq_client, [{"id": public_id(TOKEN), "status": status()}]).status_code == 200
    page = hq_client.get(f"/hq/t/{TOKEN}").get_data(as_text=True)
    assert "B007" in page and "Employment" in page and "7–17" in page.replace("-", "–")
    assert 'data-events-url="/hq/t/' in page
    answer = hq_client.get(f"/hq/t/{TOKEN}/status").get_json()
    assert answer["status"]["people_ahead"] == 4 and answer["at"] > 0
    with hq_client.application.extensions["dostq.hq_store"].read() as conn:
        held = [tuple(row) for row in conn.execute("SELECT id, status FROM public_tickets")]
    assert held[0][0] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert TOKEN not in json.dumps(held)  # the token itself is nowhere at HQ
    assert hq_client.get("/hq/t/not-a-ticket").status_code == 404
    # An older word changes nothing; a newer one wins.
    relay(hq_client, [{"id": public_id(TOKEN), "status": status(people_ahead=9)}], at=5.0)
    assert hq_client.get(f"/hq/t/{TOKEN}/status").get_json()["status"]["people_ahead"] == 4


def test_a_visitor_s_requests_wait_for_the_center_until_it_acknowledges_them(hq_client):
    relay(hq_client, [{"id": public_id(TOKEN), "status": status()}])
    asked = hq_client.post(f"/hq/t/{TOKEN}/cancel")
    assert asked.status_code == 202 and asked.get_json() == {"asked": "cancel"}
    refused = hq_client.post(f"/hq/t/{TOKEN}/feedback", json={"rating": 5})
    assert refused.status_code == 409  # not done yet
    (request,) = relay(hq_client, []).get_json()["requests"]
    assert request["ticket"] == public_id(TOKEN) and request["kind"] == "cancel"
    assert relay(hq_client, []).get_json()["requests"] == []  # sent, not yet due again
    done = relay(hq_client, [{"id": public_id(TOKEN), "status": status("cancelled")}],
                 done=[request["id"]])  # fmt: skip
    assert done.get_json()["requests"] == []
    assert hq_client.post(f"/hq/t/{TOKEN}/cancel").status_code == 409  # cancelled already
    relay(hq_client, [{"id": public_id(TOKEN), "status": status("done")}])
    given = {"rating": 4, "reasons": ["premises"], "comment": "Aysel"}
    rated = hq_client.post(f"/hq/t/{TOKEN}/feedback", json=given)
    assert rated.status_code == 202
    (request,) = relay(hq_client, [], done=[]).get_json()["requests"]
    assert request["detail"] == {"rating": 4, "reasons": ["premises"]}  # no comment relayed
    bad = hq_client.post(f"/hq/t/{TOKEN}/feedback", json={"rating": 9})
    assert bad.status_code == 422
    # The next day's first exchange forgets the day before, and its requests.
    relay(hq_client, [], day="2026-12-09")
    assert hq_client.get(f"/hq/t/{TOKEN}").status_code == 404
    with hq_client.application.extensions["dostq.hq_store"].read() as conn:
        assert conn.execute("SELECT count(*) FROM ticket_requests").fetchone()[0] == 0


def test_a_message_with_anything_personal_or_malformed_is_refused(hq_client):
    for tickets in (
        [{"id": public_id(TOKEN), "status": {**status(), "token": TOKEN}}],
        [{"id": public_id(TOKEN), "status": {**status(), "phone": "+994501234567"}}],
        [{"id": TOKEN, "status": status()}],
        [{"id": public_id(TOKEN), "status": status(state="teleported")}],
    ):
        refused = relay(hq_client, tickets)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "bad_tickets"
    assert post(hq_client, {"center": "baku-1"}, key="not-the-key").status_code == 401
    assert hq_client.get(f"/hq/t/{TOKEN}").status_code == 404


def test_the_center_relays_a_rating_without_its_comment():
    given = {"rating": 2, "reasons": ["waiting_time"], "comment": "Mr Aliyev", "editable_until": 9}
    assert _public(status("done", feedback=given))["feedback"] == {
        "rating": 2, "reasons": ["waiting_time"], "editable_until": 9,
    }  # fmt: skip


def test_a_linked_center_s_qr_codes_open_hq_and_an_unlinked_one_s_its_own_page(tmp_path):
    from server.hq_link import sync
    from server.queue.storage import Store
    from server.web.pages import ticket_page_url
    from tests.conftest import center_app

    app = center_app(tmp_path, HQ_PUBLIC_URL="https://hq.dost.example/")
    with app.test_request_context("/", base_url="http://10.0.0.5:8080"):
        assert ticket_page_url("abc") == "http://10.0.0.5:8080/t/abc"  # not linked yet
        store: Store = app.extensions["dostq.center"].store
        with store.write() as conn:
            sync.set_up(conn, tmp_path, "https://10.1.1.1:8443", "baku-1", KEY)
        assert ticket_page_url("abc") == "https://hq.dost.example/hq/t/abc"
    app.extensions["dostq.center"].store.close()
    plain = center_app(tmp_path / "unrelayed")
    with plain.test_request_context("/", base_url="http://10.0.0.5:8080"):
        assert ticket_page_url("abc") == "http://10.0.0.5:8080/t/abc"
    plain.extensions["dostq.center"].store.close()


def test_leaving_and_ratings_from_one_address_are_limited(hq_client):
    relay(hq_client, [{"id": public_id(TOKEN), "status": status()}])
    answers = [hq_client.post(f"/hq/t/{TOKEN}/cancel").status_code for _ in range(11)]
    assert answers[:10] == [202] * 10 and answers[10] == 429
