"""The README and docs/api.md keep up with the code: commands, settings, operations, events."""

from pathlib import Path

import pytest

from server.app import DEFAULTS
from server.cli import main
from server.web.validation import openapi_document

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API_DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_dostq_command_is_in_the_readme(command):
    assert f"dostq {command}" in README


@pytest.mark.parametrize("setting", sorted(DEFAULTS))
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


@pytest.mark.parametrize(
    "event",
    [
        "snapshot",
        "ticket_called",
        "queue_changed",
        "counter_changed",
        "request_snapshot",
        "print_result",
        "printer_status",
        "device_status",
        "keypad_refused",
        "print_job",
        "assistance_requested",
        "assistance_resolved",
        "display_status",
    ],
)
def test_every_socket_event_is_in_docs_api(event):
    source = (ROOT / "server" / "live" / "events.py").read_text()
    assert f'"{event}"' in source
    assert f"`{event}`" in API_DOC
