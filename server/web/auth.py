"""Who is asking: staff sessions (cookie) and enrolled devices (``Authorization: Device``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from server.office import accounts
from server.queue.actors import Device, User
from server.queue.counter_release import release_clerk
from server.queue.errors import Forbidden, QueueError
from server.queue.facts import SessionsEnded
from server.queue.storage import Database, audit
from server.settings import DEVICE_COOKIE, device_cookie, device_token_cookie
from server.web.language import refusal, text
from server.web.security import is_local_path
from server.web.signin_guard import SignInGuard, seconds_text
from server.web.wiring import center, device_tokens, publish

F = TypeVar("F", bound=Callable[..., Any])
bp = Blueprint("auth", __name__)
# Who works a counter; a volunteer issues and finds tickets at reception but calls nobody.
COUNTER_ROLES = ("clerk", "manager", "admin")


class Unauthorized(QueueError):
    """No valid session or device token."""

    status = 401


TEN_YEARS_S = 10 * 365 * 24 * 3600


def keep_device_cookie(response: Response, token: str) -> Response:
    """Give this browser its device token as a cookie: HttpOnly, Strict, __Host- over HTTPS."""
    tls = bool(current_app.config["TLS"])
    # HttpOnly: page scripts never see it; Strict: no other site can send it.
    response.set_cookie(device_cookie(tls), token, max_age=TEN_YEARS_S, httponly=True,
                        samesite="Strict", secure=tls)  # fmt: skip
    return response


def renew_device_cookie(response: Response) -> Response:
    """Move a device enrolled over HTTPS before the prefix to the ``__Host-`` cookie."""
    if g.get("renew_device_cookie") and g.get("device") is not None:
        keep_device_cookie(response, request.cookies[DEVICE_COOKIE])
        response.delete_cookie(DEVICE_COOKIE, secure=True, httponly=True, samesite="Strict")
    return response


def identify_request() -> None:
    """Set ``g.device`` / ``g.user`` for this request (runs before every view).

    A request that carries an Authorization header is judged by it alone and never by a
    cookie, so it needs no CSRF token; a cookie-authenticated one always does.
    """
    g.device, g.user, g.device_by_cookie = None, None, False
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme == "Device" and token:
            g.device = device_tokens().device(token.strip())
        return
    cookie_token, g.renew_device_cookie = device_token_cookie(
        request.cookies, bool(current_app.config["TLS"])
    )
    if cookie_token:
        g.device = device_tokens().device(cookie_token)
        g.device_by_cookie = g.device is not None
    if "uid" in session:
        with center().store.read() as conn:
            g.user = accounts.load_user(conn, session["uid"], session.get("sv", 0))
        if g.user is None:
            session.clear()


def user_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to a signed-in user (with one of ``roles``, if given)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                raise Unauthorized("login_required", "Sign in first.")
            if roles and g.user.role not in roles:
                raise Forbidden("role_required", f"Only {' or '.join(roles)} may do this.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def device_required(kind: str) -> Callable[[F], F]:
    """Allow the view only to an enrolled device of ``kind``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.device is None:
                raise Unauthorized(
                    "device_token_required",
                    "Send 'Authorization: Device <token>' of an enrolled device.",
                )
            if g.device.kind != kind:
                raise Forbidden("wrong_device", f"Only a {kind} may do this.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def sign_in(username: str, password: str) -> User | None:
    """Check the password and start a fresh center session; the attempt is audit-logged."""
    c = center()
    return sign_in_to(c.store, c.now(), username, password)


class TooManyAttempts(QueueError):
    """Too many wrong passwords for this account or from this address: wait."""

    status = 429


def sign_in_to(store: Database, now: float, username: str, password: str) -> User | None:
    """Check the password against ``store`` (the center's or HQ's) and start a fresh session.

    Throttled per account and address (``signin_guard``); the password is checked outside any
    transaction, so sign-ins never hold the database while argon2 works.
    """
    guard: SignInGuard = current_app.extensions["dostq.signin_guard"]
    address = request.remote_addr
    wait_s = guard.wait_s(username, address)
    if wait_s > 0:
        with store.write() as conn:
            audit(conn, "login_throttled", now, detail={"username": username[:100]},
                  remote_addr=address)  # fmt: skip
        raise TooManyAttempts(
            "sign_in_throttled",
            f"Çox sayda səhv şifrə: {seconds_text(wait_s)} sonra yenidən yoxlayın. / "
            f"Too many wrong passwords: try again in {seconds_text(wait_s)}.",
            "password",
        )
    with store.read() as conn:
        stored = accounts.password_hash(conn, username)
    with guard.hashing():
        right = accounts.check_password(stored, password)
    with store.write() as conn:
        user = accounts.signed_in(conn, username, password, stored or "") if right else None
        audit(
            conn,
            "login" if user else "login_failed",
            now,
            user_id=user.id if user else None,
            detail={"username": username[:100]},
            remote_addr=address,
        )
    if user is None:
        guard.failed(username, address)
    else:
        guard.succeeded(username)
    session.clear()  # a new session at login: no fixation
    if user is not None:
        session.permanent = True
        session["uid"], session["sv"] = user.id, user.session_version
        g.user = user
    return user


def sign_out() -> None:
    """End the session and close this user's open sockets."""
    user: User | None = g.user
    session.clear()
    if user is not None:
        c = center()
        # A clerk who signs out has left the counter: it stayed "open" for nobody, and only
        # that clerk could free it. One with a visitor still at the desk keeps it.
        released = release_clerk(c, user.id, "signed out")
        with c.store.write() as conn:
            # The session cookie is signed, not stored: a copy of it would stay valid after
            # clearing it here, so logout retires every session of this user instead.
            accounts.end_sessions(conn, user.id)
            audit(conn, "logout", c.now(), user_id=user.id, remote_addr=request.remote_addr)
        publish([*released.facts, SessionsEnded(user.id)])


def user_json(user: User | None) -> dict[str, Any] | None:
    """Shape a user for the API."""
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
    }


def current_device() -> Device | None:
    """Return the device making this request, if any."""
    return g.device  # type: ignore[no-any-return]


def safe_next(default: str) -> str:
    """Return where to go after sign-in: ``next`` if it is a path on this server, else default.

    Never an open redirect to another site.
    """
    target = request.args.get("next", "")
    return target if is_local_path(target) else default


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | tuple[str, int] | Response:
    """Staff sign-in page."""
    if request.method == "POST":
        try:
            if sign_in(request.form.get("username", ""), request.form.get("password", "")):
                return redirect(safe_next(url_for("home")))
            flash(text("login.wrong"), "error")
        except TooManyAttempts as refused:  # the page says it in words, the status stays 429
            flash(refusal(refused), "error")
            return render_template("login.html"), 429
    return render_template("login.html")


@bp.post("/logout")
def logout() -> Response:
    """Sign out (a form POST, so a link cannot log anyone out)."""
    sign_out()
    return redirect(url_for("auth.login"))
