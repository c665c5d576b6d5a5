"""``dostq backup`` and ``dostq restore`` (server.office.backups).

A consistent copy of the center while it runs, and putting one back while it does not.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from server.cli.common import data_dir_option, new_data_dir_option
from server.office import backups, key_files
from server.settings import CENTER_SETTINGS, backup_folder, center_local_now, resolve

DAILY, WEEKLY = 14, 8


@click.command("backup")
@data_dir_option
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the backups (a second disk or a USB stick); default: $DOSTQ_BACKUP_DIR, "
    "else DATA_DIR/backups.",
)
@click.option("--keep-daily", type=click.IntRange(1, 3650), default=DAILY, show_default=True)
@click.option("--keep-weekly", type=click.IntRange(0, 520), default=WEEKLY, show_default=True)
def backup(data_dir: Path, folder: Path | None, keep_daily: int, keep_weekly: int) -> None:
    """Copy the center's database while it runs, check the copy, and rotate old ones."""
    database = data_dir / "dostq.db"
    values = resolve(CENTER_SETTINGS, {"DATA_DIR": str(data_dir)})
    folder = folder or backup_folder(values)
    started = time.perf_counter()
    try:
        taken = backups.take(database, folder, center_local_now(values))
    except backups.BackupRefused as exc:
        raise click.ClickException(f"The backup failed its check and was removed: {exc}") from exc
    seconds = time.perf_counter() - started
    deleted = backups.rotate(folder, keep_daily, keep_weekly)
    rows = ", ".join(f"{table} {count}" for table, count in taken.rows.items())
    click.echo(
        f"{taken.path} ({taken.size_bytes / 2**20:.1f} MiB in {seconds:.1f} s; "
        f"schema {taken.schema_version}; {rows})"
    )
    if taken.keys:
        click.echo(
            f"{key_files.beside(taken.path)}: {', '.join(taken.keys)} (secrets, mode 0600: "
            "keep it with the backup, as safe as the PC itself)"
        )
    if deleted:
        click.echo(f"Rotated away {len(deleted)} older backup(s).")


@click.command("restore")
@new_data_dir_option
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
def restore(data_dir: Path, backup_file: Path) -> None:
    """Put a backup in place of the center's database (the server must be stopped)."""
    try:
        values = resolve(CENTER_SETTINGS, {"DATA_DIR": str(data_dir)})
        restored = backups.restore(backup_file, data_dir, center_local_now(values))
    except backups.BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {backup_file} into {data_dir / 'dostq.db'}.")
    if restored.keys:
        click.echo(f"Key files put back from {key_files.beside(backup_file)}: "
                   f"{', '.join(restored.keys)}.")  # fmt: skip
    elif not key_files.beside(backup_file).is_file():
        click.echo(f"No {key_files.beside(backup_file).name} beside it: the HQ link, the "
                   "certificate and the secret key stay as they are in the folder.")  # fmt: skip
    if restored.aside is not None:
        click.echo(f"The database it replaced is kept as {restored.aside}.")


COMMANDS = (backup, restore)
