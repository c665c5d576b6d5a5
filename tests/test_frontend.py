"""The screens share one skeleton, one sheet of design tokens and one script helper."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SURFACES = ("kiosk", "display", "counter", "manager", "hq", "server")


def _files(pattern):
    return [p for s in SURFACES for p in (ROOT / s).rglob(pattern) if "vendor" not in p.parts]


def test_the_font_and_the_palette_are_declared_once():
    sheets = _files("*.css")
    assert [p.name for p in sheets if "@font-face" in p.read_text()] == ["tokens.css"]
    # A colour is a token: only tokens.css and the kiosk's high-contrast mode spell out hex.
    for sheet in sheets:
        text = re.sub(r"body\.contrast \{[^}]*\}", "", sheet.read_text())
        if sheet.name != "tokens.css":
            assert not re.search(r"--(ink|bg|accent|warn|card):\s*#", text), sheet


@pytest.mark.parametrize(
    "template",
    [
        "kiosk/templates/kiosk/index.html",
        "display/templates/display/index.html",
        "counter/templates/counter/index.html",
        "server/web/templates/base.html",
    ],
)
def test_every_screen_extends_the_one_skeleton(template):
    text = (ROOT / template).read_text()
    assert text.startswith('{% extends "screen.html" %}')
    assert "<head>" not in text


def test_page_scripts_use_the_shared_helper_instead_of_their_own():
    for script in _files("*.js"):
        if script.name == "screen.js":
            continue
        text = script.read_text()
        assert "function el(" not in text, script
        assert 'meta[name="csrf-token"]' not in text, script
