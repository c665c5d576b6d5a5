"""What goes on a ticket: hardware's own plain data, filled in by the server."""

from __future__ import annotations

from dataclasses import dataclass

# The ticket's fixed wording, per visitor language. Azerbaijani is the default.
WORDING = {
    "az": {"ahead": "Qarşınızda: {n} nəfər", "booked": "Yazılış: {time}",
           "wait": "Təxmini gözləmə: {m} dəq ({low}-{high})", "documents": "Sənədlər: {d}",
           "watch": "Nömrənizi ekranda izləyin"},
    "ru": {"ahead": "Перед вами: {n} чел.", "booked": "Запись на {time}",
           "wait": "Ожидание: около {m} мин ({low}-{high})", "documents": "Документы: {d}",
           "watch": "Следите за номером на экране"},
    "en": {"ahead": "Ahead of you: {n}", "booked": "Booked for {time}",
           "wait": "Estimated wait: about {m} min ({low}-{high})", "documents": "Documents: {d}",
           "watch": "Watch for your number on the screen"},
}  # fmt: skip


# What paper holds at most: a service name is printed whole up to this length; the list of
# documents (shown in full on the kiosk and the phone page) is shortened, at a word, to this.
SERVICE_MAX_CHARS = 240
DOCUMENTS_MAX_CHARS = 100


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at the last word that fits ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 3].rsplit(" ", 1)[0].rstrip(",;") + "..."


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one ticket."""

    center: str
    label: str  # "A-042"
    service: str  # in the visitor's language
    issued_at: str  # "23.11.2026 12:13", already in the center's time zone
    people_ahead: int
    status_url: str  # the QR code: the ticket's live status page
    language: str = "az"
    wait_minutes: int | None = None
    documents: str | None = None
    booked_for: str | None = None  # a checked-in booking's time ("12:40"): called then
    wait_range: tuple[int, int] | None = None  # the band told around wait_minutes

    def text_lines(self) -> list[str]:
        """Return the ticket's lines below the big number, in the visitor's language."""
        words = WORDING.get(self.language, WORDING["az"])
        lines = [shorten(self.service, SERVICE_MAX_CHARS)]
        if self.booked_for:  # called at its time, whoever is ahead
            lines.append(words["booked"].format(time=self.booked_for))
        else:
            lines.append(words["ahead"].format(n=self.people_ahead))
        if self.wait_minutes and not self.booked_for:  # nobody ahead: no "about 0 min" line
            low, high = self.wait_range or (self.wait_minutes, self.wait_minutes)
            lines.append(words["wait"].format(m=self.wait_minutes, low=low, high=high))
        if self.documents:
            lines.append(words["documents"].format(d=shorten(self.documents, DOCUMENTS_MAX_CHARS)))
        lines.append(words["watch"])
        return lines
