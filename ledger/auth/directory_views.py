"""Directory pages: my organisation, an organisation in sight, and the administrator's
list of every user and organisation. Thin handlers over `ledger.auth.directory`."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..extensions import db
from . import directory
from .permissions import require_roles

directory_bp = Blueprint("directory", __name__)


@directory_bp.get("/organisation")
@login_required
def my_organisation():
    organisation = current_user.organisation
    return render_template("auth/organisation.html", organisation=organisation, own=True,
                           members=directory.members_visible_to(db.session, current_user, organisation))


@directory_bp.get("/organisations/<code>")
@login_required
def organisation(code: str):
    organisation = directory.get_organisation(db.session, current_user, code)
    return render_template("auth/organisation.html", organisation=organisation,
                           own=organisation.id == current_user.organisation_id,
                           members=directory.members_visible_to(db.session, current_user, organisation))


@directory_bp.get("/admin/users")
@login_required
@require_roles("admin")
def admin_users():
    return render_template("admin/users.html", directory=directory.admin_directory(db.session, current_user))
