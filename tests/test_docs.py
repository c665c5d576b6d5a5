"""The README and docs/api.md keep up with the code: commands, settings, operations, events."""

from pathlib import Path
from typing import get_args

import pytest

from server.cli import main
from server.live import publisher
from server.queue.facts import Fact
from server.settings import CENTER_SETTINGS, HQ_SETTINGS
from server.web.validation import openapi_document

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API_DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_dostq_command_is_in_the_readme(command):
    assert f"dostq {command}" in README


@pytest.mark.parametrize("setting", sorted({s.name for s in CENTER_SETTINGS + HQ_SETTINGS}))
def test_every_setting_is_in_the_readme(setting):
    assert f"`{setting}`" in README


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    ],
)
def test_every_operation_is_in_docs_api(method, path):
    assert f"`{method} {path}`" in API_DOC


SOCKET_EVENTS = sorted(
    {*publisher.EVENTS.values(), publisher.SNAPSHOT, publisher.QUEUE_CHANGED}
    | {publisher.REQUEST_SNAPSHOT, "printer_status"}  # client to server: sockets.py handlers
)


@pytest.mark.parametrize("event", SOCKET_EVENTS)
def test_every_socket_event_is_in_docs_api(event):
    assert f"`{event}`" in API_DOC


def test_every_fact_with_an_event_is_a_fact():
    assert set(publisher.EVENTS) <= set(get_args(Fact))
