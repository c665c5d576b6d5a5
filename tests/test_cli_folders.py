"""Every dostq command acts on the installed center's folder, or refuses; never a stray one."""

import os

import pytest
from click.testing import CliRunner

from server.cli import main
from server.queue.storage import Store


def invoke(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_a_bare_command_away_from_any_center_refuses_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOSTQ_DATA_DIR", raising=False)
    for command in (
        ["enrol-device", "kiosk-9", "--kind", "kiosk"],
        ["backup"],
        ["printer", "sample"],
        ["close-day"],
        ["create-user", "leyla", "--role", "clerk", "--password-file", "-"],
    ):
        result = invoke(*command)
        assert result.exit_code == 1, command
        assert "No center database in" in result.output
        assert "dostq init" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # was: ./data/dostq.db, a new empty center


def test_the_folder_is_found_as_the_service_finds_it(tmp_path, monkeypatch):
    center = tmp_path / "var" / "data"
    center.mkdir(parents=True)
    Store(center / "dostq.db")
    config = tmp_path / "etc"
    config.mkdir()
    (config / "center.env").write_text(
        f"# written by dostq install-service\nDOSTQ_DATA_DIR={center}\nDOSTQ_CENTER_NAME=Bakı 1\n"
    )
    monkeypatch.setenv("DOSTQ_CONFIG_DIR", str(config))
    monkeypatch.delenv("DOSTQ_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    enrolled = invoke("enrol-device", "kiosk-9", "--kind", "kiosk")
    assert enrolled.exit_code == 0, enrolled.output
    with Store(center / "dostq.db").read() as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM devices")] == ["kiosk-9"]
    # The variable still wins over the file, as in the unit.
    other = tmp_path / "other"
    refused = invoke(
        "enrol-device", "kiosk-8", "--kind", "kiosk", env={"DOSTQ_DATA_DIR": str(other)}
    )
    assert refused.exit_code == 1 and str(other) in refused.output


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can act on another user's folder")
def test_root_may_not_write_into_the_service_users_folder(tmp_path):
    center = tmp_path / "data"
    center.mkdir()
    Store(center / "dostq.db")
    os.chown(center, 65534, 65534)  # nobody: the service's own user stands in
    for command in (["enrol-device", "kiosk-9", "--kind", "kiosk"], ["restore", "x.db"]):
        result = invoke(*command, "--data-dir", str(center))
        assert result.exit_code == 1
        assert "runuser -u nobody -- dostq" in result.output
    hq = invoke("hq", "add-center", "baku-9", "--name", "B", "--data-dir", str(center))
    assert hq.exit_code == 1 and "runuser -u nobody" in hq.output
