"""Announcement wording, Azerbaijani numbers, and the sound files."""

import shutil
import wave

import pytest

from display.announcement import announcement, counter_number, number_words_az
from hardware.voice import chime_wav, speech_wav


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "sıfır"),
        (1, "bir"),
        (7, "yeddi"),
        (10, "on"),
        (15, "on beş"),
        (42, "qırx iki"),
        (60, "altmış"),
        (99, "doxsan doqquz"),
        (100, "yüz"),
        (101, "yüz bir"),
        (250, "iki yüz əlli"),
        (999, "doqquz yüz doxsan doqquz"),
        (1000, "min"),
        (2024, "iki min iyirmi dörd"),
    ],
)
def test_azerbaijani_number_words(number, words):
    assert number_words_az(number) == words


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("az", "A qırx iki nömrəli bilet, beş nömrəli masaya yaxınlaşın."),
        ("ru", "Талон а 42, пройдите к окну 5."),
        ("en", "Ticket A 42, please go to counter 5."),
    ],
)
def test_call_is_announced_in_each_language(language, sentence):
    assert announcement("A-042", "Masa 5", language) == sentence


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("az", "D yeddi nömrəli bilet, altı nömrəli masaya yaxınlaşın."),
        ("ru", "Талон дэ 7, пройдите к окну 6."),
        ("en", "Ticket D 7, please go to counter 6."),
    ],
)
def test_a_counter_in_a_numbered_hall_is_announced_by_its_own_number(language, sentence):
    # "Zal 2 · Masa 6" was announced as counter 2, and Russian read the Latin D as "di".
    assert announcement("D-007", "Zal 2 · Masa 6", language) == sentence


def test_counter_without_a_number_is_named():
    assert counter_number("Qəbul") is None
    assert announcement("B-007", "Qəbul") == "B yeddi nömrəli bilet, Qəbul masasına yaxınlaşın."


def test_chime_is_a_short_valid_wav(tmp_path):
    path = tmp_path / "chime.wav"
    path.write_bytes(chime_wav())
    with wave.open(str(path)) as sound:
        assert (sound.getnchannels(), sound.getframerate()) == (1, 22050)
        # The voice waits for it: the call is heard within a second (bench/voice.py).
        assert 0.5 < sound.getnframes() / sound.getframerate() <= 0.75


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_azerbaijani_voice_is_a_plausible_wav_and_cached(tmp_path):
    text = announcement("A-042", "Masa 5")
    path = speech_wav(text, "az", tmp_path)
    with wave.open(str(path)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
    assert 2.0 < seconds < 8.0  # a sentence of nine words
    made = path.stat().st_ino
    assert speech_wav(text, "az", tmp_path) == path
    assert path.stat().st_ino == made  # served from the cache: not made again


def test_the_voice_cache_keeps_the_most_recently_played(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/test installs it)")
    first = speech_wav("bir", "az", tmp_path, max_cached=2)
    speech_wav("iki", "az", tmp_path, max_cached=2)
    speech_wav("bir", "az", tmp_path, max_cached=2)  # played again: kept
    speech_wav("üç", "az", tmp_path, max_cached=2)
    assert len(list(tmp_path.glob("*.wav"))) == 2 and first.exists()


def test_the_number_the_admin_set_is_announced_whatever_the_name(app_center):
    # A counter's number was read from its name; the admin now says it (Admin -> Counters).
    from tests.conftest import login

    assert announcement("D-7", "Zal 2 · Masa 6", "en", desk=14) == (
        "Ticket D 7, please go to counter 14."
    )
    client = app_center.app.test_client()
    headers = login(client, "manager", "floor-boss-secret")
    counter = app_center.ids["counter1"]
    saved = client.post(
        f"/manager/admin/counters/{counter}",
        data={"zone": "main", "service": ["2.1"], "number": "14"},
        headers=headers,
        follow_redirects=True,
    )
    assert saved.status_code == 200
    refused = client.post(
        f"/manager/admin/counters/{counter}",
        data={"zone": "main", "service": ["2.1"], "number": "1000"},
        headers=headers,
        follow_redirects=True,
    )
    assert "1-999" in refused.get_data(as_text=True)
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        row = conn.execute("SELECT number FROM counters WHERE id = ?", (counter,)).fetchone()
    assert row[0] == 14
