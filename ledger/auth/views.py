"""Sign-in, sign-out, the language switch, the user's own password and API tokens (HTML).

A user whose password was set by an administrator (a new user, a reset) is sent to the
change-password page right after signing in and, until the password is changed, every other
page redirects there (`require_password_change`, a before-request hook); signing out and the
language switch stay open.

Every POST here is protected by the app-wide CSRF check (Flask-WTF). Failed
logins are counted and lock the account for a growing time (see services). Nothing here
moves money: what these views write (the failure count, the login event, a token, the
language) is committed once at the request boundary (`ledger.requests.commit_request`),
also when the page answers 401 or 429.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import AccountLocked
from ..extensions import db, login_manager
from ..requests import form_write
from ..security import counter_storage
from .forms import ConfirmForm, LoginForm, PasswordChangeForm, TokenCreateForm, in_interface_language
from .models import User
from .services import (
    LoginSettings,
    UnknownUsernameLockout,
    authenticate,
    change_password,
    issue_token,
    list_tokens,
    record_event,
    revoke_token,
)

auth_bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _login_settings() -> LoginSettings:
    config = current_app.config
    return LoginSettings(config["LOGIN_LOCKOUT_THRESHOLD"], config["LOGIN_LOCKOUT_BASE_SECONDS"],
                         config["LOGIN_LOCKOUT_MAX_SECONDS"])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send the user elsewhere."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.dashboard")


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            settings = _login_settings()
            unknown = UnknownUsernameLockout(counter_storage(), settings)
            user = authenticate(db.session, form.username.data.strip(), form.password.data, settings, unknown)
        except AccountLocked as locked:  # the lock is kept: the request commits at its boundary
            form.password.errors.append(
                _("Too many failed logins. Try again in %(seconds)s seconds.", seconds=locked.details["retry_after"])
            )
            return render_template("auth/login.html", form=form), 429
        if user is None:
            # the failure count is kept: the request commits at its boundary
            form.password.errors.append(_("Wrong username or password."))
            status = 401
        else:
            record_event(db.session, user, "login", user.username, ip=request.remote_addr)
            language = session.get("lang")
            session.clear()  # a fresh session for the signed-in user (no fixation)
            if language:
                session["lang"] = language
            login_user(user)
            if user.must_change_password:  # the page says why the user is there
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


#: What a user who must change their password may still open.
OPEN_DURING_PASSWORD_CHANGE = frozenset({"auth.change_password", "auth.logout", "auth.set_language", "static"})


def require_password_change():
    """Before every web request: a user with a one-time password goes to the change-password page."""
    if request.blueprint and request.blueprint.startswith("api"):
        return None  # the API authenticates by token, not by the password
    if request.endpoint in OPEN_DURING_PASSWORD_CHANGE or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


@auth_bp.route("/account/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page():
    """Change one's own password (the current one is required)."""
    form = PasswordChangeForm(username=current_user.username)
    forced = bool(current_user.must_change_password)

    def work(key):
        change_password(db.session, current_user, form.current_password.data, form.new_password.data)
        return {}

    def done(body):
        flash(_("Your password was changed."), "info")
        return redirect(url_for("web.dashboard"))

    answer, status = form_write(form, in_interface_language(work), done)
    if answer is not None:
        return answer
    return render_template("auth/password.html", form=form, forced=forced), status


@auth_bp.post("/logout")
@login_required
def logout():
    language = session.get("lang")
    logout_user()
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language; kept in the session and, when signed in, on the user."""
    if code in current_app.config["LEDGER_LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))


@auth_bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """The user's own API tokens; a new token is shown once, right after it is made."""
    form = TokenCreateForm()
    new_token = None
    if form.validate_on_submit():
        new_token = issue_token(db.session, current_user, (form.label.data or "").strip())
        form = TokenCreateForm(formdata=None)
    rows = list_tokens(db.session, current_user)
    response = render_template("auth/tokens.html", form=form, tokens=rows, new_token=new_token,
                               revoke_form=ConfirmForm())
    if new_token:
        return response, 200, {"Cache-Control": "no-store"}
    return response, 422 if form.errors else 200


@auth_bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    row = revoke_token(db.session, current_user, token_id)
    flash(_("Token %(prefix)s… revoked; programs using it are refused from now on.", prefix=row.prefix), "info")
    return redirect(url_for("auth.tokens"))
