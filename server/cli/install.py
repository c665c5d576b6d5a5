"""``dostq install-service``: the center (or HQ) as a systemd service on a plain Debian PC.

It does what the README's "Install at a center" walks through: an unprivileged ``dostq``
user, its data folder (0700), ``/etc/dostq/center.env`` naming that folder (every ``dostq``
command finds the center there), the database with the first admin, a TLS certificate for
the PC's addresses, and ``server/deploy/dostq.service`` written to /etc/systemd/system with
the path of this installation; then it (re)starts the service, so an upgrade takes effect.
Run again, it keeps the database, the certificate, the admin and the settings file.

``--hq`` does the same for headquarters (``/var/lib/dostq-hq``, ``hq.env``, no database: HQ
creates or migrates its own at start). ``--root`` puts every path under another folder and
starts nothing: a trial run, an image being built, or the test that installs from the wheel.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy"
# The paths deploy/*.service are written with: the README's layout.
DOCUMENTED_DOSTQ = "/opt/dostq/.venv/bin/dostq"
DOCUMENTED_DEPLOY = "/opt/dostq/server/deploy/"


@dataclass(frozen=True)
class Kind:
    """What is installed: the center or HQ."""

    unit: str
    home: str  # the service user's home, as the unit names it
    data: str  # the data folder, as the unit names it
    env_file: str
    port: int
    timers: tuple[str, ...] = ()  # enabled beside the service (the center backs up itself)


CENTER = Kind("dostq.service", "/var/lib/dostq", "/var/lib/dostq/data", "center.env", 8443)
HQ = Kind("dostq-hq.service", "/var/lib/dostq-hq", "/var/lib/dostq-hq", "hq.env", 8090,
          ("dostq-hq-backup",))  # fmt: skip

ENV_FILE_TEXT = {
    CENTER: """# The center's settings (README, "Settings"), read by the service and by every
# dostq command, which finds the center's folder here. After a change: systemctl restart dostq
DOSTQ_DATA_DIR={data}
# DOSTQ_CENTER_NAME=Bakı 1 saylı DOST mərkəzi
# DOSTQ_BACKUP_DIR=/media/backup/dostq
""",
    HQ: """# HQ's settings (README, "Headquarters"), read by the service and by every dostq hq
# command, which finds HQ's folder here. After a change: systemctl restart dostq-hq
DOSTQ_HQ_DATA_DIR={data}
# DOSTQ_HQ_DATABASE=postgresql://dostq@/dostq_hq
# DOSTQ_METRICS_TOKEN=
""",
}


def this_dostq() -> Path:
    """Return the ``dostq`` program of this installation (beside this Python)."""
    return Path(sys.executable).with_name("dostq")


def render_unit(
    name: str, dostq: Path, port: int | None = None, root: Path | None = None,
    user: str = "dostq",
) -> str:  # fmt: skip
    """Return ``deploy/<name>`` with this installation's paths (and ``port``) in place."""
    text = (DEPLOY_DIR / name).read_text()
    text = text.replace(DOCUMENTED_DOSTQ, str(dostq))
    text = text.replace(DOCUMENTED_DEPLOY, f"{DEPLOY_DIR}/")
    if root is not None:
        for path in ("/var/lib/dostq", "/etc/dostq"):
            text = text.replace(path, f"{root}{path}")
    if user != "dostq":
        text = text.replace("\nUser=dostq\n", f"\nUser={user}\n")
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
        text = text.replace("\nGroup=dostq\n", f"\nGroup={group}\n")
    if port is not None:
        text = text.replace("--port 8443", f"--port {port}").replace(
            "--port 8090", f"--port {port}"
        )
    return text


def lan_addresses() -> list[str]:
    """Return this PC's IPv4 addresses other than loopback (for the certificate).

    The address of the default route (a UDP socket's "connect" sends nothing) and whatever
    the host name resolves to: Debian maps the name to 127.0.1.1, so the first is the one.
    """
    found: set[str] = set()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 9))
        found.add(str(probe.getsockname()[0]))
    except OSError:
        pass  # no route at all: an island network
    finally:
        probe.close()
    try:
        found |= {
            str(a[4][0]) for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        }
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def run(command: list[str], what: str, check: bool = True) -> str:
    """Run one of our fixed commands; return its output, or stop saying ``what`` failed."""
    program = shutil.which(command[0])
    if program is None:
        raise click.ClickException(f"{what} failed: {command[0]} is not installed.")
    done = subprocess.run(  # noqa: S603  # fixed programs, our own arguments
        [program, *command[1:]], capture_output=True, text=True, check=False
    )
    if check and done.returncode:
        raise click.ClickException(f"{what} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout if check else done.stdout + done.stderr


def write_env_file(kind: Kind, config: Path, data: Path, group: int) -> None:
    """Write the kind's settings file once; a technician's own edits are kept."""
    config.mkdir(mode=0o755, parents=True, exist_ok=True)
    env_file = config / kind.env_file
    if env_file.exists():
        return
    env_file.write_text(ENV_FILE_TEXT[kind].format(data=data), encoding="utf-8")
    # Root's to change, the service user's to read (its commands look the folder up here).
    os.chown(env_file, 0, group)
    env_file.chmod(0o640)
    click.echo(f"Wrote {env_file}.")


@click.command("install-service")
@click.option("--port", type=int, help="The HTTPS port on the LAN (8443; HQ: 8090).")
@click.option("--ip", "ips", multiple=True, help="LAN addresses for the certificate "
              "(default: this PC's).")  # fmt: skip
@click.option("--hq", "is_hq", is_flag=True, help="Install headquarters instead of a center.")
@click.option("--user", default="dostq", show_default=True,
              help="The service's own unprivileged user (created if missing).")  # fmt: skip
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Put every path under this folder and start nothing (a trial run, "
              "or an image being built).")  # fmt: skip
@click.option("--no-start", is_flag=True, help="Install, but do not start the service.")
def install_service(
    port: int | None, ips: tuple[str, ...], is_hq: bool, user: str, root: Path | None,
    no_start: bool,
) -> None:  # fmt: skip
    """Install the center (or HQ) as a systemd service: user, data, certificate and unit."""
    if os.geteuid() != 0:
        raise click.ClickException("Run it as root (sudo dostq install-service).")
    # dostq's own 0077 would make the folders it creates on the way (/etc/dostq, or every
    # folder under --root) closed to the service's user; each file's mode is set below.
    os.umask(0o022)
    kind = HQ if is_hq else CENTER
    port = port or kind.port
    dostq = this_dostq()
    if not dostq.is_file():
        raise click.ClickException(f"{dostq} is not there: run the dostq of the installation.")
    base = root.resolve() if root is not None else None
    at = (lambda path: Path(f"{base}{path}")) if base else Path
    home, data = at(kind.home), at(kind.data)
    try:
        pwd.getpwnam(user)
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", kind.home,
             "--shell", "/usr/sbin/nologin", user], f"Creating the user '{user}'")  # fmt: skip
        click.echo(f"Created the system user '{user}'.")
    account = pwd.getpwnam(user)
    for folder in (home, data):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(folder, account.pw_uid, account.pw_gid)
        folder.chmod(0o700)

    def as_service_user(*arguments: str, what: str) -> str:
        # Run as the service's user, so what it writes is that user's.
        return run(["runuser", "-u", user, "--", str(dostq), *arguments], what)

    as_service_user("--version", what=f"Running {dostq} as '{user}' (install dost-queue "
                    "where every user may read it, e.g. /opt/dostq, on a Python they may run: "
                    f"this one is {Path(sys.executable).resolve()})")  # fmt: skip
    write_env_file(kind, at("/etc/dostq"), data, account.pw_gid)
    if kind is CENTER and not (data / "dostq.db").exists():
        click.echo(as_service_user("init", "--data-dir", str(data),
                                   what="Creating the database").rstrip())  # fmt: skip
    cert = data / "tls" / "cert.pem"
    if not cert.exists():
        addresses = list(ips) or lan_addresses()
        as_service_user("cert", "--data-dir", str(data), "--hostname", "localhost",
                        "--hostname", socket.gethostname(), *(f"--ip={a}" for a in addresses),
                        what="Making the TLS certificate")  # fmt: skip
        click.echo(f"Certificate for {', '.join([socket.gethostname(), *addresses])}: {cert}")
    unit_dir = at("/etc/systemd/system")
    unit_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    names = [kind.unit, *(f"{t}.{s}" for t in kind.timers for s in ("service", "timer"))]
    for name in names:
        unit = unit_dir / name
        unit.write_text(render_unit(name, dostq, port, base, user))
        unit.chmod(0o644)
        click.echo(f"Wrote {unit}.")
    if shutil.which("systemd-analyze"):
        units = [str(unit_dir / name) for name in names]
        for line in run(["systemd-analyze", "verify", *units], "", check=False).splitlines():
            click.echo(f"systemd-analyze: {line}")
    if no_start or base is not None:
        return
    _start(kind, dostq, data, port, user, ips)


def _start(kind: Kind, dostq: Path, data: Path, port: int, user: str, ips: tuple[str, ...]) -> None:
    name = kind.unit.removesuffix(".service")
    if not Path("/run/systemd/system").is_dir():
        serve = "hq serve" if kind is HQ else "serve"
        click.echo("systemd is not running on this machine (a container?): the unit is in place "
                   f"for when it does; to serve now:\n  runuser -u {user} -- {dostq} {serve} "
                   f"--data-dir {data} --host 0.0.0.0 --port {port}")  # fmt: skip
        return
    run(["systemctl", "daemon-reload"], "systemctl daemon-reload")
    run(["systemctl", "enable", name], "Enabling the service")
    for timer in kind.timers:
        run(["systemctl", "enable", "--now", f"{timer}.timer"], f"Enabling {timer}.timer")
    # restart, not start: after an upgrade the running one still serves the old program.
    run(["systemctl", "restart", name], "Starting the service")
    where = (list(ips) or lan_addresses() or ["localhost"])[0]
    click.echo(f"Started: https://{where}:{port}/{'hq/' if kind is HQ else ''} "
               f"(journalctl -u {name} for its log)")  # fmt: skip
