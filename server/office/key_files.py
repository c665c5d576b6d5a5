"""The secrets a database backup alone does not hold, kept beside it in a 0600 archive.

Restored on a new disk, a center with only its ``dostq.db`` lost its link to HQ (``hq_key``:
it showed "HQ: not set up" and stopped syncing), its signed-in staff (``secret_key``) and,
worse, its certificate (``tls/``): every kiosk and TV pinned the old one's fingerprint and
every edge agent trusted it as its CA. So each backup ``NAME.db`` has ``NAME.keys`` beside it,
a tar of exactly these files, readable by the service's user only; a restore puts them back.
HQ keeps its own list (the centers' sealed keys' key file among them).
"""

from __future__ import annotations

import io
import os
import tarfile
from datetime import datetime
from pathlib import Path

from server.queue.storage import PRIVATE_FILE, PRIVATE_FOLDER

CENTER_KEYS = ("secret_key", "hq_key", "hq_ca.pem", "tls/key.pem", "tls/cert.pem")
HQ_KEYS = ("secret_key", "center_keys.key", "tls/key.pem", "tls/cert.pem")
SUFFIX = ".keys"


def beside(backup: Path) -> Path:
    """Return the keys archive that belongs with ``backup`` (``NAME.db`` → ``NAME.keys``)."""
    return backup.with_suffix(SUFFIX)


def save(data_dir: Path, names: tuple[str, ...], archive: Path) -> list[str]:
    """Write the files of ``names`` that exist in ``data_dir`` to ``archive`` (0600).

    Returns the names saved; nothing is written when there are none (a center never linked
    to HQ and served over plain HTTP has no key yet).
    """
    present = [name for name in names if (data_dir / name).is_file()]
    if not present:
        return []
    partial = archive.with_name(archive.name + ".part")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    with tarfile.open(partial, "w") as tar:
        for name in present:
            content = (data_dir / name).read_bytes()
            member = tarfile.TarInfo(name)
            member.size, member.mode = len(content), PRIVATE_FILE
            member.mtime = int((data_dir / name).stat().st_mtime)
            tar.addfile(member, io.BytesIO(content))
    partial.rename(archive)
    return present


def put_back(archive: Path, data_dir: Path, names: tuple[str, ...], at: datetime) -> list[str]:
    """Put the files of ``archive`` back into ``data_dir``; return the names restored.

    Only the names this program writes are taken (an archive is a file someone handed over,
    not trusted input); a file that differs is kept aside as ``NAME.replaced-YYYYMMDD-HHMMSS``.
    """
    restored = []
    with tarfile.open(archive, "r") as tar:
        for member in tar.getmembers():
            if member.name not in names or not member.isfile():
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            content = source.read()
            target = data_dir / member.name
            target.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            if target.is_file():
                if target.read_bytes() == content:
                    continue
                target.rename(target.with_name(f"{target.name}.replaced-{at:%Y%m%d-%H%M%S}"))
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with os.fdopen(fd, "wb") as written:
                written.write(content)
            restored.append(member.name)
    return restored
