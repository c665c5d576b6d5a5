"""Hostile JSON bodies get a clear 400, never a 500: before sign-in and at a kiosk.

HQ's signed endpoint gets the same bodies in tests/test_sync.py.
"""

import pytest

from server.web.validation import MAX_JSON_DEPTH

DEEP = b"[" * 100_000 + b"]" * 100_000
SURROGATE = b'{"username": "\\ud800", "password": "x"}'  # valid JSON, not valid Unicode


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (DEEP, "too_deep"),
        (("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode(), "too_deep"),
        (SURROGATE, "bad_text"),
        (b'{"username": "\\udfff\\ud800", "password": "x"}', "bad_text"),
        (b'{"\\ud800": 1}', "bad_text"),  # in a key too
        (b"\xff\xfe{", "bad_json"),  # not UTF-8
        (b'{"username": ', "bad_json"),
    ],
)
def test_a_hostile_sign_in_body_is_a_clear_400(app_center, body, code):
    client = app_center.app.test_client()
    csrf = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/session", data=body, content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )  # fmt: skip
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code


def test_a_kiosk_sending_a_lone_surrogate_gets_a_400_and_no_ticket(app_center):
    client = app_center.app.test_client()
    response = client.post(
        "/api/v1/tickets",
        data=b'{"service": "2.1\\ud800"}',
        content_type="application/json",
        headers={"Authorization": f"Device {app_center.kiosk_token}"},
    )
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_text"
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0


@pytest.mark.parametrize("name", ["ə" * 400, "x" * 300, "..", "DejaVuSans%00"])
def test_a_file_asked_for_by_a_name_no_file_could_have_is_a_404(app_center, name):
    # A 400-letter name was a 500 (found by the fuzz tier): "File name too long" on the disk.
    client = app_center.app.test_client()
    assert client.get(f"/fonts/{name}.ttf").status_code == 404
    font = client.get("/fonts/DejaVuSans.ttf")
    font.close()
    assert font.status_code == 200


def test_hq_serves_the_font_its_pages_ask_for(hq_client):
    # tokens.css asks /fonts/DejaVuSans.ttf on HQ's pages too: it was a 404 on every page.
    font = hq_client.get("/fonts/DejaVuSans-Bold.ttf")
    font.close()
    assert font.status_code == 200 and font.mimetype == "font/ttf"
    assert hq_client.get("/fonts/..%2Fsecret_key.ttf").status_code == 404
