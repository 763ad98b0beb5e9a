"""The dashboard (a page per role) and the health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required

from ..extensions import db

web_bp = Blueprint("web", __name__, template_folder="templates")


@web_bp.get("/")
@login_required
def dashboard():
    return render_template("web/dashboard.html", user=current_user)


@web_bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unavailable"
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": type(error).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
