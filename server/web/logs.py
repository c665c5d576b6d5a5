"""The server's log lines: text for a person, JSON lines for a machine, and never a token.

``dostq serve --log-format json`` (or ``DOSTQ_LOG_FORMAT=json``) writes one JSON object per
line, for journald's or a log shipper's parser; the default is one readable line. Either way
every line passes ``Redact``: a ticket's status token or a device token in a path or a query
(``/t/<token>``, ``/tickets/status/<token>``, ``token=``) is cut out before the line is
written, whoever logged it (gunicorn, a library, this code). Requests are logged by their
route (``/t/<token>``), never by their path, so the access log holds no token to begin with.
Rotation is journald's under systemd (``deploy/``), or the shell's when run by hand.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

TEXT_FORMAT = "[%(asctime)s] [%(name)s] %(message)s"
# What follows one of these up to the next separator is a secret: a ticket's or device's token.
TOKEN_IN_TEXT = re.compile(r"(/t/|/tickets/status/|token=|token%3D)[^/\s?&\"']+", re.IGNORECASE)


SOCKET_LIBRARIES = frozenset({"socketio", "engineio", "flask_socketio"})


def redact(text: str) -> str:
    """Return ``text`` with every token cut out (``/t/…``)."""
    return TOKEN_IN_TEXT.sub(r"\1…", text)


class Redact(logging.Filter):
    """Cut tokens out of every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without tokens; never drop a record."""
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class SocketNoiseOneLine(logging.Filter):
    """Write a Socket.IO or Engine.IO library error as one line, without its traceback.

    Their errors come from what a client sent (a hostile packet logged two tracebacks each,
    a flood of the log); the line still names the error and what raised it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Fold the exception into the message; never drop a record."""
        if record.exc_info and record.name.split(".")[0] in SOCKET_LIBRARIES:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON (non-ASCII letters kept as they are)."""
        line: dict[str, Any] = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
            + f".{int(record.msecs):03d}"
            + time.strftime("%z", time.localtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def through_our_handlers(*library_loggers: str) -> None:
    """Drop the handlers a library gave its own loggers: their records reach ours instead.

    Engine.IO adds a bare StreamHandler to its logger when it finds none (as in gunicorn's
    worker at that moment), which wrote every client's bad packet as a traceback, unformatted.
    """
    for name in library_loggers:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of ``log_format`` (text or json)."""
    return JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def dress(handler: logging.Handler, log_format: str) -> None:
    """Give a handler the chosen format and the token filter."""
    handler.setFormatter(formatter(log_format))
    if not any(isinstance(f, Redact) for f in handler.filters):
        handler.addFilter(SocketNoiseOneLine())
        handler.addFilter(Redact())


def configure(log_format: str) -> None:
    """Send this process's log records to standard error in ``log_format``, tokens cut out."""
    handler = logging.StreamHandler()
    dress(handler, log_format)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a log line too, in the same format
