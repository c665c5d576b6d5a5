"""Reception: a volunteer issues a ticket for a visitor (printed at the desk or written down)
and finds any ticket; a volunteer calls nobody. The page itself is in test_staff_browser.py."""

import pytest

from server.office import accounts
from tests.conftest import T0, login, wait_until


@pytest.fixture
def volunteer(app_center, tmp_path):
    """A volunteer's client, and a desk printer (virtual) the server drives."""
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        accounts.create_user(conn, "nigar", "entrance-help-secret", "volunteer", T0)
        accounts.enrol_device(
            conn, "reception", "kiosk", T0, printer="virtual:printer-desk"
        )  # fmt: skip
    client = app_center.app.test_client()
    client.csrf = login(client, "nigar", "entrance-help-secret")
    return client


def issue(client, **body):
    return client.post("/api/v1/reception/tickets", json=body, headers=client.csrf)


def test_a_priority_ticket_written_down_waits_at_once_and_is_audited(app_center, volunteer):
    answer = issue(volunteer, service="6", category="disability", language="ru")
    assert answer.status_code == 201
    ticket = answer.get_json()
    assert (ticket["label"], ticket["state"], ticket["category"]) == (
        "F-001",
        "waiting",
        "disability",
    )
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        (detail,) = conn.execute(
            "SELECT detail FROM audit_log WHERE action = 'ticket_issued_for_visitor'"
        ).fetchone()
        by = conn.execute(
            "SELECT u.username FROM ticket_events e JOIN users u ON u.id = e.user_id "
            "WHERE e.action = 'issue'"
        ).fetchone()
    assert '"F-001"' in detail and '"printer": null' in detail and by[0] == "nigar"
    found = volunteer.get("/api/v1/tickets?label=f1").get_json()
    assert (found["label"], found["state"]) == ("F-001", "waiting")


def test_a_ticket_printed_at_the_desk_waits_once_printed(app_center, volunteer, tmp_path):
    ticket = issue(volunteer, service="2.1", printer="reception").get_json()
    assert ticket["state"] == "issued"  # until the desk printer reports it printed
    assert wait_until(lambda: list((tmp_path / "printer-desk").glob("*.bin")))
    assert wait_until(
        lambda: (
            volunteer.get(f"/api/v1/tickets?label={ticket['label']}").get_json()["state"]
            == "waiting"
        )
    )


def test_one_idempotency_key_issues_one_ticket(volunteer):
    headers = {**volunteer.csrf, "Idempotency-Key": "tap-1"}
    first = volunteer.post("/api/v1/reception/tickets", json={"service": "6"}, headers=headers)
    again = volunteer.post("/api/v1/reception/tickets", json={"service": "6"}, headers=headers)
    assert first.get_json()["id"] == again.get_json()["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"service": "6", "printer": "no-such-desk"}, 404, "unknown_printer"),
        ({"service": "nosuch"}, 404, "unknown_service"),
        ({"service": "6", "category": "nosuch"}, 404, "unknown_category"),
        ({"service": "6", "language": "fr"}, 400, "invalid_field"),
        ({"service": "6", "extra": 1}, 400, "invalid_field"),
    ],
)
def test_what_cannot_be_issued_is_refused_by_name(volunteer, body, status, code):
    answer = issue(volunteer, **body)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code)


def test_a_volunteer_calls_nobody_and_is_sent_to_reception(app_center, volunteer):
    counter = app_center.ids["counter1"]
    refused = volunteer.post(f"/api/v1/counters/{counter}/session", headers=volunteer.csrf)
    assert refused.status_code == 403
    page = volunteer.get("/counter/")
    assert page.status_code == 302 and page.headers["Location"] == "/reception/"
    assert volunteer.get("/manager/").status_code == 403
    assert 'id="reception"' in volunteer.get("/reception/").get_data(as_text=True)


def test_reception_needs_a_signed_in_member_of_staff(app_center):
    anonymous = app_center.app.test_client()
    token = anonymous.get("/api/v1/session").get_json()["csrf_token"]
    refused = anonymous.post(
        "/api/v1/reception/tickets", json={"service": "6"}, headers={"X-CSRFToken": token}
    )
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (401, "login_required")
