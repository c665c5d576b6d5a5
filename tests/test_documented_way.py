"""A center started exactly as the README says: from a working folder, default `--data-dir`.

Every other live test passes an absolute temporary folder; this one does not, because the
spoken call once answered 500 only when the data folder was the documented relative `data`.
"""

from __future__ import annotations

import array
import io
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest
import requests

from tests.live import HTTP_TIMEOUT_S, STOP_TIMEOUT_S, answers_once_started, free_port

pytestmark = pytest.mark.live


def _dostq() -> list[str]:
    """The `dostq` command installed beside this Python, as a user would type it."""
    script = Path(sys.executable).with_name("dostq")
    return [str(script)] if script.exists() else [sys.executable, "-m", "server"]


@pytest.fixture
def documented_center(tmp_path):
    """`dostq demo`, then `dostq serve`, in a fresh working folder, with no settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSTQ_")}
    subprocess.run(
        [*_dostq(), "demo", "--history-days", "0"], cwd=tmp_path, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*_dostq(), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert answers_once_started(f"{url}/healthz"), (tmp_path / "serve.log").read_text()
        yield url, tmp_path
    finally:  # stopped and reaped even when it never answered
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT_S)


def _speech_rms(wav: bytes) -> tuple[float, float]:
    """Return (seconds, RMS of 16-bit samples) of a WAV file."""
    with wave.open(io.BytesIO(wav)) as audio:
        assert audio.getsampwidth() == 2
        frames = audio.readframes(audio.getnframes())
        seconds = audio.getnframes() / audio.getframerate()
    samples = array.array("h", frames)
    rms = (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5
    return seconds, rms


def test_a_center_started_the_documented_way_speaks_each_call(documented_center):
    url, folder = documented_center
    assert (folder / "data" / "dostq.db").exists()  # the default data folder, relative
    assert "Control socket" not in (folder / "serve.log").read_text()  # none shared, none open
    data = folder / "data"
    private = [data, *data.glob("dostq.db*"), data / "secret_key"]
    assert {p.name: p.stat().st_mode & 0o777 for p in private} == {
        p.name: 0o700 if p.is_dir() else 0o600 for p in private
    }
    staff = requests.Session()
    csrf = staff.get(f"{url}/api/v1/session", timeout=HTTP_TIMEOUT_S).json()["csrf_token"]
    signed_in = staff.post(
        f"{url}/api/v1/session",
        json={"username": "clerk1", "password": "demo-counter-1"},
        headers={"X-CSRFToken": csrf},
        timeout=HTTP_TIMEOUT_S,
    )
    assert signed_in.status_code == 200
    staff.headers["X-CSRFToken"] = signed_in.json()["csrf_token"]
    # A number is spoken once it is called: the demo kiosk issues one, Masa 1 calls it.
    kiosk = json.loads((folder / "data" / "demo-devices.json").read_text())["kiosk-1"]
    issued = requests.post(
        f"{url}/api/v1/tickets", json={"service": "4.4", "print": False},
        headers={"Authorization": f"Device {kiosk}"}, timeout=HTTP_TIMEOUT_S,
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    assert staff.post(f"{url}/api/v1/counters/1/session", timeout=HTTP_TIMEOUT_S).ok
    call = staff.post(f"{url}/api/v1/counters/1/call-next", timeout=HTTP_TIMEOUT_S)
    assert call.json()["call"]["label"] == issued.json()["label"]
    voice = staff.get(
        f"{url}/display/voice.wav",
        params={"label": issued.json()["label"], "counter": 1, "lang": "az"},
        timeout=HTTP_TIMEOUT_S,
    )
    assert voice.status_code == 200, voice.text[:300]
    assert voice.headers["Content-Type"] == "audio/wav"
    assert voice.content[:4] == b"RIFF" and voice.content[8:12] == b"WAVE"
    seconds, rms = _speech_rms(voice.content)
    assert seconds > 1.0  # "D bir nömrəli bilet, bir nömrəli masaya yaxınlaşın"
    assert rms > 300  # speech, not silence
    assert (folder / "data" / "voice").is_dir()  # cached under the data folder
