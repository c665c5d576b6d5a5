"""What the waiting room hears: the words of a call in Azerbaijani, Russian or English.

Numbers are written out, so the voice says "qırx iki", not letter by letter, whatever the
speech engine does with digits.
"""

from __future__ import annotations

import re

UNITS_AZ = ["", "bir", "iki", "üç", "dörd", "beş", "altı", "yeddi", "səkkiz", "doqquz"]
TENS_AZ = ["", "on", "iyirmi", "otuz", "qırx", "əlli", "altmış", "yetmiş", "səksən", "doxsan"]


def number_words_az(number: int) -> str:
    """Write 0 to 9999 in Azerbaijani words (yüz, min without "bir": 100 = yüz, 1000 = min)."""
    if number == 0:
        return "sıfır"
    words = []
    thousands, rest = divmod(number, 1000)
    hundreds, rest = divmod(rest, 100)
    tens, units = divmod(rest, 10)
    if thousands:
        words += [UNITS_AZ[thousands], "min"] if thousands > 1 else ["min"]
    if hundreds:
        words += [UNITS_AZ[hundreds], "yüz"] if hundreds > 1 else ["yüz"]
    words += [TENS_AZ[tens], UNITS_AZ[units]]
    return " ".join(word for word in words if word)


def counter_number(counter: str) -> int | None:
    """Return a counter's own number, the last in its name ("Zal 2 · Masa 6" → 6), if any.

    The first number was taken once, so "Zal 2 · Masa 6" was announced as counter 2.
    """
    numbers = re.findall(r"\d+", counter)
    return int(numbers[-1]) if numbers else None


# A ticket's Latin letter as a Russian speaker names it: a Russian voice read "D" as "di".
LETTERS_RU = dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ["а", "бэ", "цэ", "дэ", "е", "эф", "гэ", "аш", "и", "йот", "ка", "эль", "эм", "эн", "о",
     "пэ", "ку", "эр", "эс", "тэ", "у", "вэ", "дубль-вэ", "икс", "игрек", "зэт"],
    strict=True,
))  # fmt: skip


def announcement(label: str, counter: str, language: str = "az", desk: int | None = None) -> str:
    """Return the sentence announcing ticket ``label`` at ``counter``.

    ``desk`` is the number the admin set for the counter; without one, the last in its name.
    """
    letter, _, digits = label.partition("-")
    number = int(digits)
    desk = desk if desk is not None else counter_number(counter)
    if language == "ru":
        where = f"к окну {desk}" if desk is not None else f"к {counter}"
        return f"Талон {LETTERS_RU.get(letter, letter)} {number}, пройдите {where}."
    if language == "en":
        where = f"counter {desk}" if desk is not None else counter
        return f"Ticket {letter} {number}, please go to {where}."
    where = f"{number_words_az(desk)} nömrəli masaya" if desk is not None else f"{counter} masasına"
    return f"{letter} {number_words_az(number)} nömrəli bilet, {where} yaxınlaşın."
