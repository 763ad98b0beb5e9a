"""Login, logout and the language switch (HTML)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from ..errors import AccountLocked
from ..extensions import db, login_manager
from .forms import LoginForm
from .models import User
from .services import LoginSettings, authenticate, record_event

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
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.dashboard")


@auth_bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.username.data.strip(), form.password.data, _login_settings())
        except AccountLocked as locked:
            db.session.commit()
            form.password.errors.append(
                _("Too many failed logins. Try again in %(seconds)s seconds.", seconds=locked.details["retry_after"])
            )
            return render_template("auth/login.html", form=form), 429
        if user is None:
            db.session.commit()  # keep the failure count
            form.password.errors.append(_("Wrong username or password."))
            status = 401
        else:
            record_event(db.session, user, "login", user.username, ip=request.remote_addr)
            db.session.commit()
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@auth_bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LEDGER_LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
