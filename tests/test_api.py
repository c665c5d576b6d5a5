"""The JSON API through the Flask test client: validation, auth, CSRF and the clerk's cycle."""

import json

import pytest

from server.office import accounts
from tests.conftest import T0, login


@pytest.fixture
def client(app_center):
    return app_center.app.test_client()


@pytest.fixture
def kiosk(app_center):
    return {"Authorization": f"Device {app_center.kiosk_token}"}


def issue(client, kiosk, service="2.1", **body):
    response = client.post("/api/v1/tickets", json={"service": service, **body}, headers=kiosk)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def error_of(response):
    return response.get_json()["error"]


def test_catalog_is_public_and_in_three_languages(client):
    catalog = client.get("/api/v1/catalog").get_json()
    assert len(catalog["areas"]) == 14
    assert {c["code"] for c in catalog["priority_categories"]} == {
        "disability",
        "veterans",
        "elderly",
        "infants",
    }
    assert catalog["priority_categories"][0]["name"]["ru"] == "Лица с инвалидностью"


def test_kiosk_issues_numbers_per_area_letter(client, kiosk):
    labels = [issue(client, kiosk, s)["label"] for s in ("2.1", "2.2", "6", "2.1")]
    assert labels == ["B-001", "B-002", "F-001", "B-003"]


def test_ticket_number_does_not_reveal_priority(client, kiosk):
    first = issue(client, kiosk, "2.1")
    second = issue(client, kiosk, "2.1", category="disability")
    assert (first["label"], second["label"]) == ("B-001", "B-002")


def test_issuing_needs_a_kiosk_token(client, app_center):
    assert client.post("/api/v1/tickets", json={"service": "2.1"}).status_code == 401
    wrong = {"Authorization": "Device not-a-token"}
    assert client.post("/api/v1/tickets", json={"service": "2.1"}, headers=wrong).status_code == 401
    display = {"Authorization": f"Device {app_center.display_token}"}
    response = client.post("/api/v1/tickets", json={"service": "2.1"}, headers=display)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "service"),
        ({"service": {}}, 400, "service"),
        ({"service": "2.1", "extra": 1}, 400, "extra"),
        ({"service": "2.1", "print": "yes"}, 400, "print"),
        ({"service": "nope"}, 404, "service"),
        ({"service": "2.1", "category": "vip"}, 404, "category"),
    ],
)
def test_bad_ticket_requests_name_the_field(client, kiosk, body, status, field):
    response = client.post("/api/v1/tickets", json=body, headers=kiosk)
    assert response.status_code == status
    assert error_of(response)["field"] == field


def test_non_json_body_is_a_clear_400(client, kiosk):
    response = client.post("/api/v1/tickets", data="service=2.1", headers=kiosk)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_json"


def test_double_tap_with_one_idempotency_key_issues_one_ticket(client, kiosk):
    headers = {**kiosk, "Idempotency-Key": "tap-1"}
    first = client.post("/api/v1/tickets", json={"service": "2.1"}, headers=headers).get_json()
    again = client.post("/api/v1/tickets", json={"service": "2.1"}, headers=headers).get_json()
    assert first["id"] == again["id"]
    assert issue(client, kiosk)["label"] == "B-002"


def test_unprinted_ticket_is_flagged_and_not_called(client, kiosk, app_center):
    ticket = issue(client, kiosk, "6")
    assert (ticket["state"], ticket["print_status"]) == ("issued", "pending")
    csrf = login(client, "clerk1", "masa-one-secret")
    client.post(f"/api/v1/counters/{app_center.ids['counter1']}/session", headers=csrf)
    response = client.post(f"/api/v1/counters/{app_center.ids['counter1']}/call-next", headers=csrf)
    assert error_of(response)["code"] == "queue_empty"
    app_center.clock.advance(300)
    snapshot = client.get("/api/v1/snapshot").get_json()
    assert [t["label"] for t in snapshot["unconfirmed"]] == ["F-001"]


def test_print_failure_still_queues_the_visitor(client, kiosk):
    ticket = issue(client, kiosk, "6")
    url = f"/api/v1/tickets/{ticket['id']}/print-result"
    failed = client.post(url, json={"printed": False, "detail": "paper out"}, headers=kiosk)
    assert (failed.get_json()["state"], failed.get_json()["print_status"]) == ("waiting", "failed")


def test_a_print_reported_by_the_kiosk_or_its_agent_reaches_the_kiosk_screen(app_center):
    # The edge agent reports through the API: its prints never showed "printed" on the kiosk,
    # whose page hears print_result only.
    from server.queue import visits
    from server.queue.facts import PrintFinished

    center = app_center.app.extensions["dostq.center"]
    ticket = visits.issue_ticket(center, "6", device=None).answer
    with center.store.write() as conn:
        conn.execute("UPDATE tickets SET print_status = 'pending' WHERE id = ?", (ticket["id"],))
        kiosk_device = accounts.device_for_token(conn, app_center.kiosk_token)
        conn.execute(
            "UPDATE tickets SET device_id = ? WHERE id = ?", (kiosk_device.id, ticket["id"])
        )
    done = visits.record_print_result(center, ticket["id"], True, kiosk_device)
    (finished,) = [f for f in done.facts if isinstance(f, PrintFinished)]
    assert (finished.device, finished.label, finished.printed) == ("kiosk-1", ticket["label"], True)


def test_clerk_full_cycle(client, kiosk, app_center):
    counter = app_center.ids["counter1"]
    first = issue(client, kiosk, "2.1", print=False)
    issue(client, kiosk, "2.2", print=False)
    csrf = login(client, "clerk1", "masa-one-secret")
    base = f"/api/v1/counters/{counter}"
    assert client.post(f"{base}/session", headers=csrf).get_json()["status"] == "open"
    call = client.post(f"{base}/call-next", headers=csrf).get_json()
    assert call["call"]["label"] == first["label"] == "B-001"
    assert "category" not in call["call"]
    recall = client.post(f"{base}/recall", headers=csrf).get_json()
    assert recall["call"]["recall"] is True and recall["call"]["seq"] > call["call"]["seq"]
    assert client.post(f"{base}/start", headers=csrf).get_json()["state"] == "serving"
    done = client.post(
        f"{base}/finish", json={"delivered": ["2.1", "2.2"], "outcome": "done"}, headers=csrf
    )
    assert done.get_json()["state"] == "done"
    client.post(f"{base}/call-next", headers=csrf)
    assert client.post(f"{base}/no-show", headers=csrf).get_json()["state"] == "no_show"
    assert error_of(client.post(f"{base}/call-next", headers=csrf))["code"] == "queue_empty"
    on_break = client.put(
        f"{base}/status", json={"status": "break", "reason": "lunch"}, headers=csrf
    )
    assert on_break.get_json()["status"] == "break"
    assert error_of(client.post(f"{base}/call-next", headers=csrf))["code"] == "counter_not_open"


def test_transfer_keeps_arrival_and_hold_frees_the_counter(client, kiosk, app_center):
    counter = app_center.ids["counter1"]
    early = issue(client, kiosk, "2.1", print=False)
    app_center.clock.advance(60)
    later = issue(client, kiosk, "4.4", print=False)
    csrf = login(client, "clerk1", "masa-one-secret")
    base = f"/api/v1/counters/{counter}"
    client.post(f"{base}/session", headers=csrf)
    client.post(f"{base}/call-next", headers=csrf)
    client.post(f"{base}/start", headers=csrf)
    moved = client.post(f"{base}/transfer", json={"service": "4.4"}, headers=csrf).get_json()
    assert (moved["label"], moved["state"], moved["arrived_at"]) == (
        "B-001",
        "waiting",
        early["arrived_at"],
    )
    assert moved["arrived_at"] < later["arrived_at"]
    # Masa 2 serves 4.4: the transferred visitor, who arrived first, is called before D-001.
    clerk2 = app_center.app.test_client()
    csrf2 = login(clerk2, "clerk2", "masa-two-secret")
    base2 = f"/api/v1/counters/{app_center.ids['counter2']}"
    clerk2.post(f"{base2}/session", headers=csrf2)
    assert clerk2.post(f"{base2}/call-next", headers=csrf2).get_json()["call"]["label"] == "B-001"


def test_held_visit_frees_the_counter_and_resumes(client, kiosk, app_center):
    issue(client, kiosk, "2.1", print=False)
    issue(client, kiosk, "2.1", print=False)
    csrf = login(client, "clerk1", "masa-one-secret")
    base = f"/api/v1/counters/{app_center.ids['counter1']}"
    client.post(f"{base}/session", headers=csrf)
    client.post(f"{base}/call-next", headers=csrf)
    client.post(f"{base}/start", headers=csrf)
    assert client.post(f"{base}/hold", headers=csrf).get_json()["state"] == "on_hold"
    assert client.post(f"{base}/call-next", headers=csrf).get_json()["call"]["label"] == "B-002"
    busy = client.post(f"{base}/resume", json={"ticket": "B-001"}, headers=csrf)
    assert error_of(busy)["code"] == "counter_busy"
    client.post(f"{base}/no-show", headers=csrf)
    resumed = client.post(f"{base}/resume", json={"ticket": "B-001"}, headers=csrf)
    assert resumed.get_json()["state"] == "serving"


def test_clerk_can_act_only_at_own_counter(client, app_center):
    csrf = login(client, "clerk1", "masa-one-secret")
    other = app_center.ids["counter2"]
    response = client.post(f"/api/v1/counters/{other}/call-next", headers=csrf)
    assert response.status_code == 403
    assert error_of(response)["code"] == "not_your_counter"


def test_changes_with_a_session_need_the_csrf_token(client, app_center):
    login(client, "clerk1", "masa-one-secret")
    response = client.post(f"/api/v1/counters/{app_center.ids['counter1']}/session")
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"


def test_wrong_password_is_refused_and_audited(client, app_center):
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/session",
        json={"username": "clerk1", "password": "nope"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 401
    store = app_center.app.extensions["dostq.center"].store
    with store.read() as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
    assert actions == ["login_failed"]


def test_logout_ends_the_session_even_for_a_copied_cookie(client, app_center):
    csrf = login(client, "clerk1", "masa-one-secret")
    copied = client.get_cookie("dostq").value
    assert client.delete("/api/v1/session", headers=csrf).status_code == 204
    assert client.get(f"/api/v1/counters/{app_center.ids['counter1']}").status_code == 401
    replay = app_center.app.test_client()
    replay.set_cookie("dostq", copied)
    assert replay.get(f"/api/v1/counters/{app_center.ids['counter1']}").status_code == 401


def test_public_status_by_token_shows_no_category(client, kiosk):
    ticket = issue(client, kiosk, "2.1", category="veterans", print=False)
    status = client.get(f"/api/v1/tickets/status/{ticket['token']}").get_json()
    assert status["label"] == "B-001" and status["state"] == "waiting"
    assert "category" not in status and "token" not in status
    assert client.get("/api/v1/tickets/status/guess").status_code == 404


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_is_http_only_and_same_site(client):
    login(client, "clerk1", "masa-one-secret")
    cookie = client.get_cookie("dostq")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_unknown_api_route_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wait_estimate_uses_todays_real_service_times(client, kiosk, app_center):
    csrf = login(client, "clerk1", "masa-one-secret")
    base = f"/api/v1/counters/{app_center.ids['counter1']}"
    client.post(f"{base}/session", headers=csrf)
    first = issue(client, kiosk, "2.1", print=False)
    second = issue(client, kiosk, "2.1", print=False)
    assert second["estimated_wait_min"] == 8  # catalog target (national average) x 1 ahead
    client.post(f"{base}/call-next", headers=csrf)
    client.post(f"{base}/start", headers=csrf)
    app_center.clock.advance(6 * 60)  # today this service takes 6 minutes
    client.post(f"{base}/finish", json={}, headers=csrf)
    third = issue(client, kiosk, "2.1", print=False)
    assert (third["people_ahead"], third["estimated_wait_min"]) == (1, 6)
    status = client.get(f"/api/v1/tickets/status/{first['token']}").get_json()
    assert status["estimated_wait_min"] is None  # served


def test_a_burst_of_taps_is_rate_limited_per_kiosk(client, kiosk, app_center):
    from server.live.ratelimit import RateLimit

    app_center.app.extensions["dostq.kiosk_limit"] = RateLimit(3, 60)
    statuses = [
        client.post("/api/v1/tickets", json={"service": "2.1"}, headers=kiosk).status_code
        for _ in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]
    refused = client.post("/api/v1/tickets", json={"service": "2.1"}, headers=kiosk)
    assert refused.get_json()["error"]["code"] == "too_many_tickets"


def test_no_tickets_outside_opening_hours(client, kiosk, app_center):
    from server.queue.storage import put_setting

    store = app_center.app.extensions["dostq.center"].store
    with store.write() as conn:  # the test clock is Monday 06:13 in Baku
        put_setting(conn, "hours", {"opens": "07:00", "last_ticket": "17:30"})
    response = client.post("/api/v1/tickets", json={"service": "2.1"}, headers=kiosk)
    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "code": "closed",
        "message": "Tickets are issued again from 23.11 07:00.",
        "field": None,
    }
    app_center.clock.advance(3600)
    assert client.post("/api/v1/tickets", json={"service": "2.1"}, headers=kiosk).status_code == 201


def test_walk_in_is_served_at_once_and_counted_for_the_clerk(client, app_center):
    csrf = login(client, "clerk1", "masa-one-secret")
    base = f"/api/v1/counters/{app_center.ids['counter1']}"
    client.post(f"{base}/session", headers=csrf)
    visit = client.post(f"{base}/walk-in", json={"service": "6"}, headers=csrf).get_json()
    assert (visit["label"], visit["state"], visit["print_status"]) == ("F-001", "serving", "none")
    app_center.clock.advance(300)
    client.post(f"{base}/finish", json={}, headers=csrf)
    counter = client.get(base).get_json()
    assert counter["today"] == {
        "served": 1,
        "no_show": 0,
        "average_service_s": 300,
        "rated": 0,
        "satisfied_percent": None,
    }
    names = [c["name"] for c in client.get("/api/v1/counters").get_json()]
    assert names == ["Masa 1", "Masa 2", "Masa 3"]


def test_staff_find_todays_ticket_as_they_type_it_and_cancel_it_with_a_reason(
    client, kiosk, app_center
):
    issued = client.post("/api/v1/tickets", json={"service": "2.1", "print": False}, headers=kiosk)
    label = issued.get_json()["label"]
    headers = login(client, "clerk1", "masa-one-secret")
    typed = label.lower().replace("-0", " ")  # "b 01": what a hurried clerk types
    found = client.get("/api/v1/tickets", query_string={"label": typed})
    assert found.status_code == 200 and found.get_json()["label"] == label
    assert found.get_json()["state"] == "waiting"
    assert client.get("/api/v1/tickets?label=B-999").status_code == 404
    bad = client.get("/api/v1/tickets?label=%3F%3F")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "label"
    anonymous = app_center.app.test_client().get(f"/api/v1/tickets?label={label}")
    assert anonymous.status_code == 401
    cancelled = client.post(
        f"/api/v1/tickets/{found.get_json()['id']}/cancel", json={"reason": "duplicate"},
        headers=headers,
    )  # fmt: skip
    assert cancelled.get_json()["state"] == "cancelled"
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        (detail,) = conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'ticket_cancelled'"
        ).fetchone()
    assert json.loads(detail) == {"ticket": label, "day": found.get_json()["day"],
                                  "reason": "duplicate"}  # fmt: skip


def test_a_hall_display_reads_only_its_own_hall_over_rest_too(app_center):
    # The socket path kept a display to its hall; GET /api/v1/snapshot?zone= did not (L2).
    with app_center.app.extensions["dostq.center"].store.write() as conn:
        token = accounts.enrol_device(conn, "display-hall2", "display", T0, zone="hall2")
    client = app_center.app.test_client()
    display = {"Authorization": f"Device {token}"}
    for asked in ({"zone": "main"}, {}, {"zone": "hall2"}):
        snapshot = client.get("/api/v1/snapshot", query_string=asked, headers=display)
        assert snapshot.status_code == 200
        zones = {counter["zone"] for counter in snapshot.get_json()["counters"]}
        assert zones == {"hall2"}, asked


def test_the_kiosks_state_answers_an_enrolled_kiosk_only(app_center):
    # It lists the catalog, counters and 30 days of use: not for anyone who asks (L1).
    client = app_center.app.test_client()
    assert client.get("/kiosk/state").status_code in (302, 401, 403)  # to the enrolment
    display = {"Authorization": f"Device {app_center.display_token}"}
    assert client.get("/kiosk/state", headers=display).status_code == 403
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    assert client.get("/kiosk/state", headers=kiosk).status_code == 200


def test_a_ticket_whose_print_cannot_be_built_is_still_issued_and_flagged(app_center, monkeypatch):
    # A layout failure in the print job answered 500 while the ticket was saved unprinted.
    from server.live import printing

    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        token = accounts.enrol_device(conn, "kiosk-9", "kiosk", 0.0, printer="virtual:printer-9")

    def broken(*_args, **_kwargs):
        raise ValueError("Image width is too large (152 > 96)")

    monkeypatch.setattr(printing, "build_ticket", broken)
    client = app_center.app.test_client()
    issued = client.post("/api/v1/tickets", json={"service": "6"},
                         headers={"Authorization": f"Device {token}"})  # fmt: skip
    assert issued.status_code == 201
    with center.store.read() as conn:
        row = conn.execute(
            "SELECT state, print_status FROM tickets WHERE id = ?", (issued.get_json()["id"],)
        ).fetchone()
    assert tuple(row) == ("waiting", "failed")  # the floor lists it for a reprint
