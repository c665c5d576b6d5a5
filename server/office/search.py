"""Finding a service by what a visitor types, best first.

Any of the three languages, with or without Azerbaijani letters, by the start of each word,
over names and keywords.

"pensiya" finds "pensiyası", "mesgulluq" and "məşğulluq" find each other, "shexsiyyet" finds
"şəxsiyyət", "пенсия" finds "Трудовая пенсия", and "təqaüd" finds the pension area's services
through its keywords. Plain functions over the catalog the kiosk already shows.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from server.settings import LANGUAGES

# Letters a visitor may type without their marks, and the digraphs some type for them.
FOLDED = str.maketrans(
    {"ı": "i", "ş": "s", "ç": "c", "ğ": "g", "ö": "o", "ü": "u", "ё": "е", "й": "и"}
)
DIGRAPHS = (("sh", "s"), ("ch", "c"), ("gh", "g"))
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> list[str]:
    """Return the words of ``text`` as a visitor might type them (ə both as e and as a)."""
    lower = text.replace("İ", "i").replace("I", "ı").lower().translate(FOLDED)
    for digraph, letter in DIGRAPHS:
        lower = lower.replace(digraph, letter)
    words = WORD.findall(lower.replace("ə", "e"))
    if "ə" in lower:  # "Gəncə" is typed "Gence" and "Ganja" alike
        words += WORD.findall(lower.replace("ə", "a"))
    return words


@dataclass(frozen=True)
class Entry:
    """A service as search sees it: its words, by where they come from."""

    code: str
    position: int  # its place in the catalog, the last tie-break
    name_words: dict[str, list[str]]  # per language
    keyword_words: list[str]
    area_words: list[str]


def entries(conn: sqlite3.Connection) -> list[Entry]:
    """Return every active service with the words it is found by."""
    rows = conn.execute(
        "SELECT s.*, a.name_az AS area_az, a.name_ru AS area_ru, a.name_en AS area_en, "
        "a.keywords_az AS area_kw_az, a.keywords_ru AS area_kw_ru, a.keywords_en AS area_kw_en "
        "FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE s.active = 1 AND a.active = 1 ORDER BY a.position, a.id, s.position, s.id"
    ).fetchall()
    return [
        Entry(
            code=row["code"],
            position=position,
            name_words={lang: fold(row[f"name_{lang}"] or "") for lang in LANGUAGES},
            keyword_words=fold(" ".join(row[f"keywords_{lang}"] or "" for lang in LANGUAGES)),
            area_words=fold(
                " ".join(
                    (row[f"area_{lang}"] or "") + " " + (row[f"area_kw_{lang}"] or "")
                    for lang in LANGUAGES
                )
            ),
        )
        for position, row in enumerate(rows)
    ]


def _found(query: list[str], words: list[str]) -> bool:
    return all(any(word.startswith(q) for word in words) for q in query)


def score(entry: Entry, query: list[str], language: str) -> int:
    """Rank a service for a query: 0 when it does not match, higher the better it matches."""
    own = entry.name_words.get(language, [])
    if _found(query, own):
        best = 100 + (20 if own and own[0].startswith(query[0]) else 0)
    elif any(_found(query, words) for words in entry.name_words.values()):
        best = 80  # named so in another language
    elif _found(query, entry.keyword_words + own):
        best = 60
    elif _found(query, entry.area_words + entry.keyword_words + own):
        best = 40  # the whole area matched ("pensiya", "Məşğulluq")
    else:
        return 0
    exact = sum(q in own for q in query)  # whole words typed out rank higher
    return best + exact


def search(conn: sqlite3.Connection, text: str, language: str) -> list[str]:
    """Return the codes of the services matching ``text``, best first (all of them)."""
    query = list(dict.fromkeys(fold(text)))[:8]
    if not query:
        return []
    ranked = [(score(entry, query, language), entry) for entry in entries(conn)]
    ranked = [(s, e) for s, e in ranked if s > 0]
    ranked.sort(key=lambda pair: (-pair[0], pair[1].position))
    return [entry.code for _score, entry in ranked]
