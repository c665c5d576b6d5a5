"""A center installed as a technician installs it, from the built wheel, never this checkout.

The wheel goes into a fresh venv on Debian's own Python outside the tree; `install-service`
runs as root under a staging root (a real user, real files, nothing started by systemd); the
center runs as the unit's ExecStart says, as the unit's user; a kiosk is enrolled with the
README's bare command; `dostq agent` prints over HTTPS trusting the center's own certificate;
the center syncs to an HQ over HTTPS trusting HQ's; then a backup, a restore into a new
folder (a new disk), and the restored center serves the same certificate and syncs again.
"""

import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from hardware.decode import decode
from tests.fake_printer import TcpPrinter
from tests.live import answers_once_started, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.live,
    pytest.mark.skipif(os.geteuid() != 0, reason="install-service runs as root"),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="Debian's python3"),
]
ROOT = Path(__file__).resolve().parents[1]
USER = "nobody"  # stands in for `dostq`: an unprivileged user that owns nothing else here


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """Return each ``Key=value`` of a unit's [Service] section (a key may repeat)."""
    found: dict[str, list[str]] = {}
    section = ""
    for line in unit.read_text().splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return {k: v for k, v in (p for p in pairs if len(p) == 2) if not k.startswith("#")}


class Field:
    """The staging root, the installed venv and the running processes of one installation."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.venv = base / "opt" / "dostq" / ".venv"
        self.dostq = self.venv / "bin" / "dostq"
        self.system = base / "sys"
        self.processes: list[subprocess.Popen[bytes]] = []
        # What a root shell on the PC has, without this test run's own variables: no CA
        # bundle (each side must trust the other's certificate by itself), no test profile.
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                    "DOSTQ_CONFIG_DIR": str(self.system / "etc" / "dostq")}  # fmt: skip

    def run(self, *args: str, user: str | None = None, **env: str) -> str:
        command = [str(self.dostq), *args]
        if user:
            command = ["runuser", "-u", user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                              env={**self.env, **env}, cwd="/")  # fmt: skip
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        return done.stdout

    def start(self, command: list[str], log: Path, env: dict[str, str], user: str = "") -> None:
        """Start a long-running process, as ``user`` the way systemd's User= does it."""
        account = (
            {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
        )
        with log.open("ab") as out:
            self.processes.append(subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env={**self.env, **env}, cwd="/",
                **account,
            ))  # fmt: skip

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()


@pytest.fixture(scope="module")
def field():
    # A technician's shell makes files others may read; this process's umask may be dostq's
    # own 0077 (a CliRunner test before set it), which left the venv unreadable to the
    # service's user.
    umask = os.umask(0o022)
    try:
        yield from installed_field()
    finally:
        os.umask(umask)


def installed_field():
    base = Path(tempfile.mkdtemp(prefix="dostq-field-"))
    base.chmod(0o755)  # the service's user walks through it, as through /opt and /var
    dist = base / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
         str(ROOT)], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("dost_queue-*.whl")
    installed = Field(base)
    # Debian's Python, as scripts/install and the README use: the service user can run it.
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(installed.venv)], check=True)
    pip = subprocess.run(
        [str(installed.venv / "bin" / "pip"), "install", "--quiet", str(wheel)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stdout + pip.stderr
    yield installed
    installed.stop_all()
    shutil.rmtree(base, ignore_errors=True)


def serve_as_unit(field: Field, unit: Path, port: int, data: Path | None = None) -> str:
    """Start the center (or HQ) as its unit's ExecStart, as its User; return its URL."""
    service = unit_settings(unit)
    command = shlex.split(service["ExecStart"][0])
    if data is not None:
        command[command.index("--data-dir") + 1] = str(data)
    env = dict(value.split("=", 1) for value in service.get("Environment", []))
    env |= env_file(Path(service["EnvironmentFile"][0].lstrip("-")))
    (user,) = service["User"]
    data_dir = Path(command[command.index("--data-dir") + 1])
    field.start(command, field.base / f"{unit.stem}.log", env, user=user)
    url = f"https://127.0.0.1:{port}"
    cert = data_dir / "tls" / "cert.pem"
    log = field.base / f"{unit.stem}.log"
    assert answers_once_started(f"{url}/healthz", verify=str(cert)), log.read_text()
    return url


def test_installed_from_the_wheel_a_center_prints_syncs_and_survives_a_new_disk(field):
    port, hq_port = free_port(), free_port()
    # 1. install-service, as root, from the installed package (server/deploy is inside it).
    said = field.run("install-service", "--root", str(field.system), "--user", USER,
                     "--port", str(port), "--ip", "127.0.0.1")  # fmt: skip
    unit = field.system / "etc" / "systemd" / "system" / "dostq.service"
    data = field.system / "var" / "lib" / "dostq" / "data"
    assert f"Wrote {unit}." in said and "admin" in said
    assert (data / "dostq.db").stat().st_uid == (data / "tls" / "cert.pem").stat().st_uid != 0
    center_env = field.system / "etc" / "dostq" / "center.env"
    assert oct(center_env.stat().st_mode & 0o777) == "0o640"
    assert f"DOSTQ_DATA_DIR={data}" in center_env.read_text()
    center = serve_as_unit(field, unit, port)
    cert = data / "tls" / "cert.pem"
    assert requests.get(f"{center}/healthz", verify=str(cert), timeout=10).json()["ok"]

    # 2. A kiosk enrolled by the README's command: no --data-dir, found through center.env.
    token = field.run("enrol-device", "kiosk-pc-1", "--kind", "kiosk", "--printer", "agent:",
                      user=USER).strip()  # fmt: skip

    # 3. The agent from the same package, over HTTPS, the center's certificate its CA.
    printer = TcpPrinter()
    field.start([str(field.dostq), "agent", "--server", center, "--printer", printer.url,
                 "--ca-file", str(cert)], field.base / "agent.log",
                {"DOSTQ_DEVICE_TOKEN": token})  # fmt: skip
    kiosk = {"Authorization": f"Device {token}"}
    issued = requests.post(f"{center}/api/v1/tickets", json={"service": "6"}, headers=kiosk,
                           verify=str(cert), timeout=10)  # fmt: skip
    assert issued.status_code == 201, issued.text
    (job,) = printer.wait_for_jobs(1, timeout=60)
    assert issued.json()["label"] in decode(job).lines

    # 4. An HQ from the same package, over HTTPS with its own certificate; the center trusts it.
    hq_data = field.base / "hq"
    field.run("cert", "--data-dir", str(hq_data), "--ip", "127.0.0.1")
    key = field.run("hq", "add-center", "baku-1", "--name", "Bakı 1", "--data-dir",
                    str(hq_data)).strip()  # fmt: skip
    field.start([str(field.dostq), "hq", "serve", "--data-dir", str(hq_data), "--port",
                 str(hq_port)], field.base / "hq.log", {})  # fmt: skip
    hq_cert = hq_data / "tls" / "cert.pem"
    assert answers_once_started(f"https://127.0.0.1:{hq_port}/healthz", verify=str(hq_cert))
    shutil.copy(hq_cert, field.base / "hq-cert.pem")
    (field.base / "hq-cert.pem").chmod(0o644)
    field.run("sync", "--hq", f"https://127.0.0.1:{hq_port}", "--center", "baku-1", "--key",
              key, "--ca-file", str(field.base / "hq-cert.pem"), user=USER)  # fmt: skip
    assert "Everything is at HQ." in field.run("sync", "--now", user=USER)

    # 5. The README's backup, then a new disk: the same program, an empty folder, restore.
    backed_up = field.run("backup", user=USER)
    (copy,) = (data / "backups").glob("dostq-*.db")
    assert "hq_key" in backed_up and "tls/cert.pem" in backed_up
    field.stop_all()
    new_disk = field.base / "new-disk"
    new_disk.mkdir()
    os.chown(new_disk, pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid)
    new_data = new_disk / "data"
    field.run("restore", "--data-dir", str(new_data), str(copy), user=USER)
    assert (new_data / "tls" / "cert.pem").read_bytes() == cert.read_bytes()  # pins still hold
    center = serve_as_unit(field, unit, port, data=new_data)
    status = requests.get(f"{center}/api/v1/tickets/status/{issued.json()['token']}",
                          verify=str(cert), timeout=10)  # fmt: skip
    assert status.status_code == 200 and status.json()["label"] == issued.json()["label"]
    field.start([str(field.dostq), "hq", "serve", "--data-dir", str(hq_data), "--port",
                 str(hq_port)], field.base / "hq.log", {})  # fmt: skip
    assert answers_once_started(f"https://127.0.0.1:{hq_port}/healthz", verify=str(hq_cert))
    synced = field.run("sync", "--status", "--data-dir", str(new_data), user=USER)
    assert f"HQ: https://127.0.0.1:{hq_port} as 'baku-1'" in synced  # the link came back
    assert "Everything is at HQ." in field.run(
        "sync", "--now", "--data-dir", str(new_data), user=USER
    )
    field.stop_all()
    printer.unplug()


def test_hq_installs_from_its_own_section_alone(field):
    port = free_port()
    said = field.run("install-service", "--hq", "--root", str(field.system), "--user", USER,
                     "--port", str(port), "--ip", "127.0.0.1")  # fmt: skip
    units = field.system / "etc" / "systemd" / "system"
    for name in ("dostq-hq.service", "dostq-hq-backup.service", "dostq-hq-backup.timer"):
        assert f"Wrote {units / name}." in said
    hq_env = field.system / "etc" / "dostq" / "hq.env"
    hq_data = field.system / "var" / "lib" / "dostq-hq"
    assert f"DOSTQ_HQ_DATA_DIR={hq_data}" in hq_env.read_text()
    hq = serve_as_unit(field, units / "dostq-hq.service", port)
    # The unit's header command, as the service's user, with no --data-dir: the unit's folder.
    key = field.run("hq", "add-center", "baku-1", "--name", "Bakı 1", user=USER).strip()
    assert len(key) == 43 and (hq_data / "center_keys.key").exists()
    assert requests.get(f"{hq}/healthz", verify=str(hq_data / "tls" / "cert.pem"),
                        timeout=10).json()["ok"]  # fmt: skip
    # The timer's backup, as its unit runs it, keys beside the copy.
    backup = unit_settings(units / "dostq-hq-backup.service")
    done = subprocess.run(["runuser", "-u", USER, "--", *shlex.split(backup["ExecStart"][0])],
                          capture_output=True, text=True, timeout=120, env=field.env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list((hq_data / "backups").glob("dostq-hq-*.keys"))
    field.stop_all()
