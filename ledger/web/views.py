"""The start page (one per role) and the health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.models import Region, Role
from ..auth.access import as_actor
from ..extensions import db

web_bp = Blueprint("web", __name__)


def register(app):
    app.register_blueprint(web_bp)


def _scope_text(user) -> str:
    """One sentence saying which records this user sees, as the services scope them."""
    role = Role(user.role)
    if role in (Role.charity, Role.vendor):
        return _("You see the records of %(organisation)s only.", organisation=user.organisation.name)
    county_id = as_actor(user).county_id
    if county_id is not None:
        county = db.session.get(Region, county_id)
        return _("You see the records of %(county)s and its villages and communities.", county=county.name)
    if role == Role.auditor:
        return _("You see every record of the city, read-only.")
    return _("You see the records of the whole city: the city fund, every county and every village.")


@web_bp.get("/")
@login_required
def dashboard():
    return render_template("web/dashboard.html", user=current_user, scope_text=_scope_text(current_user))


@web_bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers and monitors)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": type(error).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
