"""A row's text in each language: the one reading every multilingual column goes through."""

from __future__ import annotations

import sqlite3

from server.settings import LANGUAGES


def names(row: sqlite3.Row, prefix: str = "name") -> dict[str, str]:
    """Return a row's ``<prefix>_az/_ru/_en`` columns as {language: text}, leaving out blanks."""
    return {lang: row[f"{prefix}_{lang}"] for lang in LANGUAGES if row[f"{prefix}_{lang}"]}
