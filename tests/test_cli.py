"""The dostq command: init, catalog import, users, devices, demo, serve's refusal, cert."""

import json

import pytest
from click.testing import CliRunner

from server.cli import main
from server.office import accounts
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.storage import Store


def run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def an_empty_center(folder):
    """A center's database with no catalog or users: what commands other than init act on."""
    Store(folder / "dostq.db")
    return folder


def test_init_creates_database_catalog_and_a_generated_admin_password(tmp_path):
    result = run("init", "--data-dir", str(tmp_path))
    assert result.exit_code == 0
    password = result.output.split("password: ")[1].split()[0]
    store = Store(tmp_path / "dostq.db")
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM areas").fetchone()[0] == 14
        assert accounts.authenticate(conn, "admin", password) is not None
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and password not in stored
    assert "created" not in run("init", "--data-dir", str(tmp_path)).output  # idempotent


def test_import_catalog_from_csv_and_clear_error_on_a_bad_file(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    good = tmp_path / "full.csv"
    good.write_text(
        "area_code,area_letter,area_name_az,service_code,service_name_az\n"
        "1,A,Arayışlar,1.1,Arayış\n2,B,Əmək,2.1,Əmək müqaviləsi\n",
        encoding="utf-8",
    )
    dry = run("import-catalog", "--data-dir", str(tmp_path), str(good), "--dry-run")
    assert "Added (1):\n  1.1 Arayış" in dry.output and "Deactivated (41):" in dry.output
    assert "Renamed (1):" in dry.output and dry.output.endswith("Dry run: nothing changed.\n")
    guarded = run("import-catalog", "--data-dir", str(tmp_path), str(good))
    assert guarded.exit_code == 1 and "would close 41 of the 42 open services" in guarded.output
    forced = run("import-catalog", "--data-dir", str(tmp_path), str(good), "--force")
    assert "Imported 2 areas and 2 services" in forced.output
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "1",
                        "name": {"az": "x"},
                        "services": [{"code": "s", "name": {"az": "y"}}],
                    }
                ]
            }
        )
    )
    result = CliRunner().invoke(main, ["import-catalog", "--data-dir", str(tmp_path), str(bad)])
    assert result.exit_code == 1 and "letter must be one of A-Z" in result.output


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pass1", "at least 12 characters"),
        ("qwerty123456", "most common passwords"),  # 12 characters, and in the breach lists
        ("my-Leyla-password", "must not contain the username"),
    ],
)
def test_create_user_refuses_a_weak_password(tmp_path, password, why):
    an_empty_center(tmp_path)
    result = CliRunner().invoke(
        main,
        ["create-user", "--data-dir", str(tmp_path), "leyla", "--role", "clerk"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 1 and why in result.output


def test_create_user_asks_for_the_password_or_reads_it_from_a_file(tmp_path):
    an_empty_center(tmp_path)
    asked = run(
        "create-user", "--data-dir", str(tmp_path), "leyla", "--role", "clerk",
        input="sahil-boyu-gezinti\nsahil-boyu-gezinti\n",
    )  # fmt: skip
    assert "clerk 'leyla' created" in asked.output
    assert "sahil-boyu-gezinti" not in asked.output  # asked for unseen, never echoed
    secret = tmp_path / "password.txt"
    secret.write_text("bulvar-axsami-9\n")
    run("create-user", "--data-dir", str(tmp_path), "rauf", "--role", "clerk",
        "--password-file", str(secret))  # fmt: skip
    piped = run("create-user", "--data-dir", str(tmp_path), "nigar", "--role", "manager",
                "--password-file", "-", input="qala-divarlari-7\n")  # fmt: skip
    assert "manager 'nigar' created" in piped.output
    with Store(tmp_path / "dostq.db").read() as conn:
        assert accounts.authenticate(conn, "rauf", "bulvar-axsami-9") is not None
        assert accounts.authenticate(conn, "nigar", "qala-divarlari-7") is not None
    # No command takes a password as an argument any more (it would show in ps and history).
    refused = CliRunner().invoke(
        main, ["create-user", "--data-dir", str(tmp_path), "x", "--role", "clerk",
               "--password", "bulvar-axsami-9"],
    )  # fmt: skip
    assert refused.exit_code == 2 and "No such option" in refused.output


def test_enrolled_device_token_is_printed_once_and_only_its_hash_stored(tmp_path):
    an_empty_center(tmp_path)
    token = run("enrol-device", "--data-dir", str(tmp_path), "kiosk-2", "--kind", "kiosk")
    token = token.output.strip()
    with Store(tmp_path / "dostq.db").read() as conn:
        assert accounts.device_for_token(conn, token).name == "kiosk-2"
        assert (
            conn.execute("SELECT count(*) FROM devices WHERE token_hash = ?", (token,)).fetchone()[
                0
            ]
            == 0
        )


def test_demo_seeds_counters_users_and_devices(tmp_path):
    result = run("demo", "--data-dir", str(tmp_path))
    assert "clerk1 / demo-counter-1" in result.output
    tokens = json.loads((tmp_path / "demo-devices.json").read_text())
    assert set(tokens) == {"kiosk-1", "display-1", "display-hall2", "tablet-1"}
    assert (tmp_path / "demo-devices.json").stat().st_mode & 0o077 == 0
    with Store(tmp_path / "dostq.db").read() as conn:
        assert conn.execute("SELECT count(*) FROM counters").fetchone()[0] == 5


def test_serve_refuses_plain_http_on_the_lan(tmp_path):
    an_empty_center(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "Run 'dostq cert' first" in result.output


@pytest.mark.parametrize("command", [["serve"], ["hq", "serve"]])
def test_a_log_format_from_the_environment_is_checked_like_the_option(tmp_path, command):
    an_empty_center(tmp_path)
    result = CliRunner().invoke(
        main, [*command, "--data-dir", str(tmp_path)], env={"DOSTQ_LOG_FORMAT": "xml"}
    )
    assert result.exit_code == 1
    assert "DOSTQ_LOG_FORMAT must be one of text, json." in result.output


def test_cert_writes_a_private_key_and_certificate(tmp_path):
    result = run("cert", "--data-dir", str(tmp_path), "--ip", "192.168.1.10")
    assert result.exit_code == 0
    assert (tmp_path / "tls" / "key.pem").stat().st_mode & 0o077 == 0
    assert b"BEGIN CERTIFICATE" in (tmp_path / "tls" / "cert.pem").read_bytes()


def test_create_counter_with_weights_and_dedicated_categories(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    result = run(
        "create-counter",
        "--data-dir",
        str(tmp_path),
        "Masa 9",
        "--service",
        "4.4:2",
        "--service",
        "6",
        "--category",
        "disability",
        "--zone",
        "hall2",
    )
    assert "Counter 1 'Masa 9' created." in result.output
    with Store(tmp_path / "dostq.db").read() as conn:
        weights = conn.execute(
            "SELECT s.code, cs.weight FROM counter_services cs JOIN services s"
            " ON s.id = cs.service_id ORDER BY s.code"
        ).fetchall()
        row = conn.execute("SELECT zone, categories FROM counters").fetchone()
    assert [tuple(w) for w in weights] == [("4.4", 2.0), ("6", 1.0)]
    assert tuple(row) == ("hall2", '["disability"]')
    bad = CliRunner().invoke(
        main, ["create-counter", "--data-dir", str(tmp_path), "X", "--service", "nope"]
    )
    assert bad.exit_code == 1 and "No service with code 'nope'" in bad.output
    unknown = CliRunner().invoke(
        main,
        [
            "create-counter",
            "--data-dir",
            str(tmp_path),
            "Y",
            "--service",
            "6",
            "--category",
            "nosuch",
        ],
    )  # fmt: skip  (was: a counter serving a category nobody has)
    assert unknown.exit_code == 1 and "No visitor category 'nosuch'" in unknown.output
    with Store(tmp_path / "dostq.db").read() as conn:
        assert conn.execute("SELECT count(*) FROM counters").fetchone()[0] == 1


def test_removing_a_serial_line_that_is_not_there_says_so(tmp_path, monkeypatch):
    an_empty_center(tmp_path)
    monkeypatch.setenv("DOSTQ_SERIAL_HOSTS", "127.0.0.1")  # the converter the technician lists
    run("serial-line", "add", "--data-dir", str(tmp_path), "socket://127.0.0.1:7001")
    missing = CliRunner().invoke(
        main, ["serial-line", "remove", "--data-dir", str(tmp_path), "/dev/ttyUSB9"]
    )  # was: "removed"
    assert missing.exit_code == 1
    assert "No serial line /dev/ttyUSB9 (the lines: socket://127.0.0.1:7001)" in missing.output
    removed = run("serial-line", "remove", "--data-dir", str(tmp_path), "socket://127.0.0.1:7001")
    assert "removed" in removed.output


def test_sending_to_an_hq_that_cannot_be_reached_says_so_in_a_sentence(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    run(
        "sync",
        "--data-dir",
        str(tmp_path),
        "--hq",
        "http://127.0.0.1:9",
        "--center",
        "baku-1",
        "--key",
        "k" * 43,
    )  # fmt: skip  (port 9: nothing listens)
    with Store(tmp_path / "dostq.db").write() as conn:
        conn.execute(
            "INSERT INTO hq_outbox (day, revision, changed_at) VALUES ('2026-03-02', 1, 0)"
        )
    result = CliRunner().invoke(main, ["sync", "--data-dir", str(tmp_path), "--now"])
    assert result.exit_code == 1
    assert "HQ at http://127.0.0.1:9 cannot be reached (no network, or HQ is down)" in result.output
    assert "Traceback" not in result.output and "Errno" not in result.output


def test_sync_keeps_hqs_certificate_and_checks_every_request_against_it(tmp_path):
    from server.hq_link import sync

    an_empty_center(tmp_path)
    not_a_cert = tmp_path / "notes.txt"
    not_a_cert.write_text("hello")
    refused = CliRunner().invoke(
        main, ["sync", "--data-dir", str(tmp_path), "--ca-file", str(not_a_cert)]
    )
    assert refused.exit_code == 1 and "holds no PEM certificate" in refused.output
    hq_tls = tmp_path / "hq"
    run("cert", "--data-dir", str(hq_tls), "--hostname", "hq.dost.local")
    key = tmp_path / "key"
    key.write_text("k" * 43)
    hq_cert = hq_tls / "tls" / "cert.pem"
    run("sync", "--data-dir", str(tmp_path), "--hq", "https://hq.dost.local", "--center",
        "baku-1", "--key-file", str(key), "--ca-file", str(hq_cert))  # fmt: skip
    status = run("sync", "--data-dir", str(tmp_path), "--status").output
    assert f"HQ's certificate: checked against {tmp_path / 'hq_ca.pem'}" in status
    with Store(tmp_path / "dostq.db").read() as conn:
        assert sync.link(conn, tmp_path).verify == str(tmp_path / "hq_ca.pem")
    assert (tmp_path / "hq_ca.pem").stat().st_mode & 0o777 == 0o600


def test_fairness_rule_is_changed_without_a_restart(tmp_path):
    from server.queue.center import Center

    run("init", "--data-dir", str(tmp_path))
    result = run(
        "fairness",
        "--data-dir",
        str(tmp_path),
        "--priority-streak-limit",
        "4",
        "--overdue-minutes",
        "30",
    )
    assert "At most 4 priority calls" in result.output and "30 min" in result.output
    center = Center(Store(tmp_path / "dostq.db"))
    with center.store.read() as conn:
        rule = center.fairness(conn)
    assert (rule.priority_streak_limit, rule.overdue_after_s) == (4, 1800)


def test_catalog_file_may_replace_the_priority_categories(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    path = tmp_path / "catalog.json"
    path.write_text(
        json.dumps(
            {
                "areas": [
                    {
                        "code": "1",
                        "letter": "A",
                        "name": {"az": "Arayışlar"},
                        "services": [{"code": "1.1", "name": {"az": "Arayış"}}],
                    }
                ],
                "priority_categories": [{"code": "pregnant", "name": {"az": "Hamilə qadınlar"}}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    run("import-catalog", "--data-dir", str(tmp_path), str(path), "--force")
    with Store(tmp_path / "dostq.db").read() as conn:
        active = [
            r[0] for r in conn.execute("SELECT code FROM priority_categories WHERE active = 1")
        ]
    assert active == ["pregnant"]


def test_hours_notice_and_announce_are_checked_and_stored(tmp_path):
    data = str(tmp_path)
    run("init", "--data-dir", data)
    assert (
        "Tickets 09:00-17:30"
        in run("hours", "--data-dir", data, "--opens", "09:00", "--last-ticket", "17:30").output
    )
    late = run("hours", "--data-dir", data, "--opens", "18:00", "--last-ticket", "09:00")
    assert late.exit_code == 1 and "last ticket comes after opening" in late.output
    assert run("notice", "--data-dir", data, "--az", "Xoş gəlmisiniz").exit_code == 0
    wrong = run("announce", "--data-dir", data, "--languages", "az,de")
    assert wrong.exit_code == 1 and "az, ru and en" in wrong.output
    assert "az, ru" in run("announce", "--data-dir", data, "--languages", "az,ru").output
    with Store(tmp_path / "dostq.db").read() as conn:
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    assert json.loads(settings["hours"]) == {
        "opens": "09:00",
        "last_ticket": "17:30",
        "weekdays": [0, 1, 2, 3, 4],
    }
    assert json.loads(settings["notices"]) == {"az": "Xoş gəlmisiniz"}
    assert json.loads(settings["announce_languages"]) == ["az", "ru"]


def test_history_fills_working_days_once(tmp_path):
    data = str(tmp_path)
    run("demo", "--data-dir", data, "--history-days", "0")
    first = run("history", "--data-dir", data, "--days", "3")
    written = int(first.output.split()[0])
    assert 3 * 400 <= written <= 3 * 1600
    assert run("history", "--data-dir", data, "--days", "3").output.startswith("0 visits")
    with Store(tmp_path / "dostq.db").read() as conn:
        assert conn.execute("SELECT count(DISTINCT day) FROM tickets").fetchone()[0] == 3


def test_enrolment_refuses_a_printer_url_or_model_that_names_no_printer(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    base = ["enrol-device", "--data-dir", str(tmp_path), "kiosk-9", "--kind", "kiosk"]
    refused = run(*base, "--printer", "usb:dostq.db")
    assert refused.exit_code == 1 and "usb:/dev/usb/lpN" in refused.output
    unknown = run(*base, "--printer", "tcp://10.0.0.21", "--profile", "TM-NOSUCH")
    assert unknown.exit_code == 1 and "POS-5890" in unknown.output  # the known models listed
    with Store(tmp_path / "dostq.db").read() as conn:
        assert accounts.device_by_name(conn, "kiosk-9") is None
    enrolled = run(*base, "--printer", "tcp://10.0.0.21", "--profile", "POS-5890")
    assert enrolled.exit_code == 0
    with Store(tmp_path / "dostq.db").read() as conn:
        assert accounts.device_by_name(conn, "kiosk-9").printer_profile == "POS-5890"


def test_printer_sample_writes_the_longest_service_for_a_model(tmp_path):
    from hardware import profiles
    from hardware.decode import decode

    run("init", "--data-dir", str(tmp_path))
    out = tmp_path / "sample.bin"
    args = ["--profile", "POS-5890", "--mode", "text", "--lang", "ru", "--out", str(out)]
    result = run("printer", "sample", "--data-dir", str(tmp_path), *args)
    assert result.exit_code == 0 and f"{out.stat().st_size} bytes" in result.output
    lines = decode(out.read_bytes(), profiles.get("POS-5890").code_pages).text()
    assert "Перед вами: 12 чел." in lines and max(map(len, lines)) <= 32
    names = [s.name["ru"] for a in load_catalog(default_catalog_path()) for s in a.services]
    longest = max(names, key=len)
    assert longest in " ".join(lines)  # the catalog's longest Russian name, wrapped whole


@pytest.mark.parametrize(
    ("hq", "key", "says"),
    [
        ("ftp://hq.example.az", "k" * 43, "https://HOST"),
        ("http://hq.example.az", "k" * 43, "https://HOST"),  # plain HTTP off this machine
        ("https://", "k" * 43, "https://HOST"),
        ("https://hq.example.az", "abc", "43 letters"),
        ("https://hq.example.az", "k" * 42 + "!", "43 letters"),
    ],
)
def test_sync_is_set_up_only_to_an_https_hq_with_a_whole_key(tmp_path, hq, key, says):
    run("init", "--data-dir", str(tmp_path))
    refused = CliRunner().invoke(
        main, ["sync", "--data-dir", str(tmp_path), "--hq", hq, "--center", "baku-1", "--key", key]
    )
    assert refused.exit_code == 1 and says in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "hq_key").exists()


def test_the_sync_key_can_come_from_standard_input_not_the_command_line(tmp_path):
    run("init", "--data-dir", str(tmp_path))
    args = ["sync", "--data-dir", str(tmp_path), "--hq", "https://hq.example.az",
            "--center", "baku-1", "--key-file", "-"]  # fmt: skip
    done = run(*args, input="k" * 43 + "\n")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "hq_key").read_text() == "k" * 43


def test_adding_a_center_twice_keeps_its_key_unless_asked_to_rotate(tmp_path):
    hq = ["hq", "add-center", "baku-1", "--name", "Bakı 1", "--data-dir", str(tmp_path)]
    first = run(*hq).output.strip()
    again = CliRunner().invoke(main, hq)
    assert again.exit_code == 1
    assert "registered already; its key is unchanged" in again.output and first not in again.output
    rotated = run(*hq, "--rotate-key").output.strip()
    assert len(rotated) == 43 and rotated != first
