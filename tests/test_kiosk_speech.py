"""The audio-guided kiosk's phrases: only what the kiosk shows is ever spoken (and cached)."""

import io
import shutil
import wave

import pytest

from server.queue import visits

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng: scripts/test installs it"
)


def speak(app_center, text, lang="az", token=None):
    """Ask as a kiosk; return the status and the first bytes (the file closed)."""
    client = app_center.app.test_client()
    headers = {"Authorization": f"Device {token or app_center.kiosk_token}"}
    query = {"text": text, "lang": lang}
    with client.get("/kiosk/speech.wav", query_string=query, headers=headers) as answer:
        return answer.status_code, answer.get_data()[:4]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Xidmət sahəsini seçin", "az"),  # the kiosk's own heading
        ("Занятость", "ru"),  # an area's name
        ("Ünvanlı dövlət sosial yardımı", "az"),  # an area's name
        ("Back", "en"),  # "← Back": the arrow is not spoken
        ("ə", "az"),  # a key of the on-screen keyboard
        ("Rus dili", "az"),  # a language button focused ("RU" was asked for: a 404, silence)
    ],
)
def test_a_phrase_the_kiosk_shows_is_spoken(app_center, text, lang):
    assert speak(app_center, text, lang) == (200, b"RIFF")


def test_a_tickets_sentence_is_spoken_only_for_a_ticket_issued_today(app_center):
    center = app_center.app.extensions["dostq.center"]
    ticket, _ = visits.issue_ticket(center, "2.1", device=None)
    sentence = f"Nömrəniz {ticket['label']}. Qarşınızda 0 nəfər var."
    assert speak(app_center, sentence)[0] == 200
    assert speak(app_center, "Nömrəniz Z-999. Qarşınızda 0 nəfər var.")[0] == 404


@pytest.mark.parametrize(
    ("text", "lang", "status"),
    [
        ("Hello from anywhere", "az", 404),  # not a phrase of the kiosk: never synthesised
        ("Xidmət sahəsini seçin", "fr", 400),
        ("x" * 301, "az", 400),
        ("", "az", 400),
    ],
)
def test_anything_else_is_refused(app_center, text, lang, status):
    assert speak(app_center, text, lang)[0] == status


def test_only_a_kiosk_asks(app_center):
    assert speak(app_center, "Back", "en", token=app_center.display_token)[0] == 403
    anonymous = app_center.app.test_client().get("/kiosk/speech.wav?text=Back&lang=en")
    assert anonymous.status_code == 403


@pytest.mark.parametrize("option", ["-f", "--path=", "-w"])
def test_a_name_that_looks_like_an_option_is_spoken_as_words(app_center, tmp_path, option):
    # An area's name is a phrase the kiosk may speak: "-f<file>" once made espeak-ng read the
    # file aloud (the secret key, so a manager forged an admin's session), "-w" answered 500.
    secret = tmp_path / "secret.txt"
    secret.write_text("gizli açar " * 200)
    name = f"{option}{secret}"
    center = app_center.app.extensions["dostq.center"]
    with center.store.write() as conn:
        conn.execute("UPDATE areas SET name_az = ? WHERE id = 1", (name,))
    client = app_center.app.test_client()
    headers = {"Authorization": f"Device {app_center.kiosk_token}"}
    query = {"text": name, "lang": "az"}
    with client.get("/kiosk/speech.wav", query_string=query, headers=headers) as answer:
        assert answer.status_code == 200
        with wave.open(io.BytesIO(answer.get_data())) as spoken:
            seconds = spoken.getnframes() / spoken.getframerate()
    assert seconds < 15  # the name's few words; the file would take minutes


def test_a_server_without_espeak_ng_says_so_on_healthz_and_the_floor(app_center, monkeypatch):
    from tests.conftest import login

    client = app_center.app.test_client()
    assert client.get("/healthz").get_json()["voice"] == "ready"
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "espeak-ng" else real_which(name)
    )
    health = client.get("/healthz")
    assert health.status_code == 200  # the chime still calls: not a reason to restart
    assert health.get_json()["voice"] == "espeak-ng is not installed: apt-get install espeak-ng"
    login(client, "manager", "floor-boss-secret")
    floor = client.get("/manager/floor.json").get_json()
    assert "apt-get install espeak-ng" in floor["voice_missing"]
