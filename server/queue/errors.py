"""Why the center refuses a request: one small tree, each class carrying its HTTP status.

    QueueError (409: the request conflicts with the state of the queue)
    ├── NotFound  (404: the thing named does not exist, or is not active)
    ├── Forbidden (403: this person or device may not do it)
    └── Invalid   (422: well-formed, but it names something unusable)

The web layer adds its own leaves (401, 400, 429) and turns any of them into the
``{"error": {code, message, field}}`` answer; the CLI prints the message.
"""

from __future__ import annotations


class QueueError(Exception):
    """A request the queue refuses; ``code`` is stable for clients, the message is for people."""

    status = 409

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        detail: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # Facts a screen fills its own sentence with (an appointment's time on the kiosk).
        self.detail = detail


class NotFound(QueueError):
    """The thing named does not exist (or is not active)."""

    status = 404


class Forbidden(QueueError):
    """The person or device may not do this."""

    status = 403


class Invalid(QueueError):
    """The request is well-formed but names something unusable."""

    status = 422
