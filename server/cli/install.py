"""``dostq install-service``: the center as a systemd service on a plain Debian PC, in one go.

It does what the README's "Install at a center" walks through: an unprivileged ``dostq``
user, its data folder (0700), the database with the first admin, a TLS certificate for the
PC's addresses, and ``deploy/dostq.service`` written to /etc/systemd/system with the path of
this installation; then it starts the service (where systemd runs). Run again, it keeps the
database, the certificate and the admin, and only rewrites the unit.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import click

from server.cli import folders

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"
UNIT_DIR = Path("/etc/systemd/system")
SERVICE_USER = "dostq"
HOME = Path("/var/lib/dostq")
DATA_DIR = HOME / "data"
# The paths deploy/*.service are written with: the README's layout.
DOCUMENTED_DOSTQ = "/opt/dostq/.venv/bin/dostq"
DOCUMENTED_CHECKOUT = "/opt/dostq/"


def this_dostq() -> Path:
    """Return the ``dostq`` program of this installation (beside this Python)."""
    return Path(sys.executable).with_name("dostq")


def render_unit(name: str, dostq: Path, port: int | None = None) -> str:
    """Return ``deploy/<name>`` with this installation's paths (and ``port``) in place."""
    text = (DEPLOY_DIR / name).read_text()
    text = text.replace(DOCUMENTED_DOSTQ, str(dostq))
    text = text.replace(DOCUMENTED_CHECKOUT, f"{DEPLOY_DIR.parent}/")
    if port is not None:
        text = text.replace("--port 8443", f"--port {port}")
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


def as_service_user(dostq: Path, *arguments: str, what: str) -> str:
    """Run a dostq command as the service's user, so what it writes is that user's."""
    return run(["runuser", "-u", SERVICE_USER, "--", str(dostq), *arguments], what)


CENTER_ENV = f"""# The center's settings (README, "Settings"), read by the service and by every
# dostq command, which finds the center's folder here. After a change: systemctl restart dostq
DOSTQ_DATA_DIR={DATA_DIR}
# DOSTQ_CENTER_NAME=Bakı 1 saylı DOST mərkəzi
# DOSTQ_BACKUP_DIR=/media/backup/dostq
"""


def write_center_env(group: int) -> None:
    """Write ``/etc/dostq/center.env`` once; a technician's own edits are kept."""
    config = folders.config_dir()
    config.mkdir(mode=0o755, parents=True, exist_ok=True)
    env_file = config / folders.CENTER.env_file
    if env_file.exists():
        return
    env_file.write_text(CENTER_ENV, encoding="utf-8")
    # Root's to change, the service user's to read (its commands look the folder up here).
    os.chown(env_file, 0, group)
    env_file.chmod(0o640)
    click.echo(f"Wrote {env_file}.")


@click.command("install-service")
@click.option("--port", default=8443, show_default=True, help="The HTTPS port on the LAN.")
@click.option("--ip", "ips", multiple=True, help="LAN addresses for the certificate "
              "(default: this PC's).")  # fmt: skip
@click.option("--no-start", is_flag=True, help="Install, but do not start the service.")
def install_service(port: int, ips: tuple[str, ...], no_start: bool) -> None:
    """Install the center as a systemd service: its user, data, admin, certificate and unit."""
    if os.geteuid() != 0:
        raise click.ClickException("Run it as root (sudo dostq install-service).")
    dostq = this_dostq()
    if not dostq.is_file():
        raise click.ClickException(f"{dostq} is not there: run the dostq of the installation.")
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", str(HOME),
             "--shell", "/usr/sbin/nologin", SERVICE_USER], "Creating the dostq user")  # fmt: skip
        click.echo(f"Created the system user '{SERVICE_USER}'.")
    account = pwd.getpwnam(SERVICE_USER)
    HOME.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(HOME, account.pw_uid, account.pw_gid)
    HOME.chmod(0o700)
    as_service_user(dostq, "--version", what=f"Running {dostq} as '{SERVICE_USER}' (install "
                    "dost-queue where every user may read it, e.g. /opt/dostq, on a Python they "
                    f"may run: this one is {Path(sys.executable).resolve()})")  # fmt: skip
    if not (DATA_DIR / "dostq.db").exists():
        click.echo(as_service_user(dostq, "init", "--data-dir", str(DATA_DIR),
                                   what="Creating the database").rstrip())  # fmt: skip
    cert = DATA_DIR / "tls" / "cert.pem"
    if not cert.exists():
        addresses = list(ips) or lan_addresses()
        as_service_user(dostq, "cert", "--data-dir", str(DATA_DIR), "--hostname", "localhost",
                        "--hostname", socket.gethostname(), *(f"--ip={a}" for a in addresses),
                        what="Making the TLS certificate")  # fmt: skip
        click.echo(f"Certificate for {', '.join([socket.gethostname(), *addresses])}: {cert}")
    write_center_env(account.pw_gid)
    unit = UNIT_DIR / "dostq.service"
    unit.write_text(render_unit("dostq.service", dostq, port))
    unit.chmod(0o644)
    click.echo(f"Wrote {unit}.")
    if shutil.which("systemd-analyze"):
        for line in run(["systemd-analyze", "verify", str(unit)], "", check=False).splitlines():
            click.echo(f"systemd-analyze: {line}")
    if no_start:
        return
    if not Path("/run/systemd/system").is_dir():
        click.echo("systemd is not running on this machine (a container?): the unit is in place "
                   "for when it does; to serve now:\n"
                   f"  runuser -u {SERVICE_USER} -- {dostq} serve --data-dir {DATA_DIR} "
                   f"--host 0.0.0.0 --port {port}")  # fmt: skip
        return
    run(["systemctl", "daemon-reload"], "systemctl daemon-reload")
    run(["systemctl", "enable", "--now", "dostq"], "Starting the service")
    click.echo(f"Started: https://{(list(ips) or lan_addresses() or ['localhost'])[0]}:{port}/ "
               "(journalctl -u dostq for its log)")  # fmt: skip
