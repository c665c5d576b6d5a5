"""Sound made on the center with no internet: a chime, spoken calls, the kiosk's phrases.

The voice is espeak-ng (Debian package espeak-ng, which has Azerbaijani); each sentence is
synthesised once and cached as a WAV file in the data folder, at most MAX_CACHED of them: the
least recently played go first.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import shutil
import struct
import subprocess
import wave
from functools import cache
from pathlib import Path

VOICES = {"az": "az", "ru": "ru", "en": "en"}
# A record day calls about 1,650 numbers, each spoken in up to three languages.
MAX_CACHED = 5000
RATE = 22050


class VoiceUnavailable(RuntimeError):
    """No speech engine on this server: the display plays the chime alone."""


def engine_missing() -> str | None:
    """Return why calls cannot be spoken on this server, or None when they can."""
    if shutil.which("espeak-ng") is None:
        return "espeak-ng is not installed: apt-get install espeak-ng"
    return None


def speech_wav(text: str, language: str, cache_dir: Path, max_cached: int = MAX_CACHED) -> Path:
    """Return a WAV file of ``text`` spoken in ``language`` (made once, then cached)."""
    engine = shutil.which("espeak-ng")
    if engine is None:
        raise VoiceUnavailable(engine_missing())
    digest = hashlib.sha256(f"{language}\n{text}".encode()).hexdigest()[:32]
    path = cache_dir / f"{digest}.wav"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        # The text goes in on stdin, never as an argument: a name such as "-f/path" or "-w"
        # would otherwise be an espeak-ng option (read a file aloud, write one).
        subprocess.run(  # noqa: S603
            [engine, "--stdin", "-v", VOICES.get(language, "az"), "-s", "150", "-w", str(partial)],
            input=text.encode(),
            check=True,
            capture_output=True,
            timeout=20,
        )
        partial.replace(path)
        _prune(cache_dir, max_cached)
    else:
        os.utime(path)  # played again: the last to go
    return path


def _prune(cache_dir: Path, max_cached: int) -> None:
    """Delete the least recently played files past ``max_cached``."""
    files = sorted(cache_dir.glob("*.wav"), key=lambda f: f.stat().st_mtime)
    for stale in files[: max(0, len(files) - max_cached)]:
        stale.unlink(missing_ok=True)


@cache
def chime_wav() -> bytes:
    """Return a soft two-note chime (E5 then C5), 0.75 s, as WAV bytes.

    The spoken call starts when it ends: each note decays to a few per cent, and the last
    fifth of a longer chime (0.9 s) was silence the hall waited through before every call.
    """
    frames = bytearray()
    for frequency, seconds in ((659.25, 0.3), (523.25, 0.45)):
        count = int(RATE * seconds)
        for i in range(count):
            envelope = math.exp(-3.5 * i / count)
            value = 0.4 * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            frames += struct.pack("<h", int(value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()
