"""Security headers and CSRF for every response and request of the center server."""

from __future__ import annotations

from flask import Flask, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.wrappers import Response

from server.queue.errors import QueueError

# No inline script or style anywhere, so this policy holds for every page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
csrf = CSRFProtect()
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfFailed(QueueError):
    """A cookie-authenticated change came without a valid CSRF token."""

    status = 403


# Sign-in forms are protected too, so nobody can sign a browser into someone else's account.
LOGIN_ENDPOINTS = frozenset({"auth.login", "api.login"})


def protect_from_csrf() -> None:
    """Require a CSRF token on every change a session cookie authorises, and on sign-in.

    Device-token requests carry no cookie authority, and anonymous ones none at all: they get
    a plain 401 from the view instead.
    """
    if request.method not in UNSAFE_METHODS:
        return
    if g.user is not None or g.device_by_cookie or request.endpoint in LOGIN_ENDPOINTS:
        require_csrf_token()


def require_csrf_token() -> None:
    """Refuse (403) a form posted without this browser's CSRF token, signed in or not."""
    try:
        csrf.protect()
    except CSRFError as exc:
        raise CsrfFailed(
            "csrf_failed", f"{exc.description} Reload the page and try again.", "X-CSRFToken"
        ) from exc
    except ValueError as exc:  # Flask-WTF reads a Referer's port ("host:8443.evil.example")
        raise CsrfFailed(
            "csrf_failed", "The referrer is not this site. Reload the page and try again."
        ) from exc


def add_security_headers(response: Response) -> Response:
    """Set CSP and the other protective headers on every response."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if getattr(g, "user", None) is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Wire CSRF and headers into ``app``; the check itself runs after identification."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a counter page stays open all day
    csrf.init_app(app)
    app.after_request(add_security_headers)


def is_local_path(target: str) -> bool:
    """Say whether ``target`` is surely a path on this server, as a browser will read it.

    A browser drops tabs, CR and LF anywhere in a URL and reads a backslash as "/", so
    "/<tab>/evil.example" is "//evil.example", another site; such a target is never one of
    ours (and CR or LF in a Location header would fail the response).
    """
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return False
    return target.startswith("/") and not target.startswith("//")
