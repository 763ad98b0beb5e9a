"""Directory pages: my organisation, an organisation in sight, and the administrator's pages:
every user and organisation, one user with what was done to the account, and the forms that
create users and organisations, disable, enable and unlock users and reset their passwords.

Thin handlers over `ledger.auth.directory` and `ledger.auth.services` (which check
`directory.admin` themselves); every change goes through `ledger.requests.form_write` (validate,
run, commit once) and writes an audit event. A one-time password is shown on the page that
answers the form, once, with `Cache-Control: no-store`, after the change was committed.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..extensions import db
from ..requests import form_write
from ..web.filters import named_code
from ..web.navigation import KIND_LABELS, ROLE_LABELS
from . import directory, services
from .forms import FORM_FIELDS, ConfirmForm, OrganisationCreateForm, UserCreateForm, in_interface_language
from .models import OrganisationKind, Role
from .permissions import require_roles

directory_bp = Blueprint("directory", __name__)

NO_STORE = {"Cache-Control": "no-store"}

#: How the user page names each audit event about an account.
EVENT_LABELS = {
    "user.create": _l("Account created"),
    "user.disable": _l("Disabled"),
    "user.enable": _l("Enabled again"),
    "user.password_reset": _l("Password reset to a one-time password"),
    "user.unlock": _l("Unlocked"),
    "password.change": _l("Password changed by the user"),
    "login": _l("Signed in"),
    "login.locked": _l("Locked after failed sign-ins"),
    "token.issue": _l("API token created"),
    "token.revoke": _l("API token revoked"),
}


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


def _one_time_password_page(issued: services.IssuedPassword, created: bool):
    return render_template("admin/one_time_password.html", user=issued.user, password=issued.password,
                           created=created), 200, NO_STORE


@directory_bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
@require_roles("admin")
def new_user():
    form = UserCreateForm()
    form.role.choices = [(role.value, str(ROLE_LABELS[role])) for role in Role]
    form.organisation.choices = [
        (organisation.code, named_code(organisation.name, organisation.code))
        for organisation in directory.visible_organisations(db.session, current_user)]

    def work(key):
        return services.add_user(db.session, current_user, username=form.username.data, role=form.role.data,
                                 organisation_code=form.organisation.data,
                                 display_name=form.display_name.data or "")

    answer, status = form_write(form, in_interface_language(work), lambda issued: _one_time_password_page(issued, True),
                                FORM_FIELDS)
    if answer is not None:
        return answer
    return render_template("admin/user_new.html", form=form), status


@directory_bp.get("/admin/users/<username>")
@login_required
@require_roles("admin")
def user_page(username: str):
    user = services.user_for_admin(db.session, current_user, username)
    events = services.user_events(db.session, current_user, username)
    return render_template("admin/user.html", user=user, events=events, event_labels=EVENT_LABELS,
                           action_form=ConfirmForm())


def _user_action(username: str, work, message):
    """A button on the user page: run `work()`, commit, flash `message`, back to the user page."""
    services.user_for_admin(db.session, current_user, username)  # an unknown user: 404, not a form error
    form = ConfirmForm()

    def done(body):
        flash(message, "info")
        return redirect(url_for("directory.user_page", username=username))

    answer, _status = form_write(form, in_interface_language(lambda key: work()), done)
    if answer is not None:
        return answer
    # str(): a refusal's deferred message is rendered now, in the reader's language (a flash is stored as text)
    problems = " ".join(str(problem) for problem in form.form_errors)
    flash(problems or _("The form has expired; please try again."), "error")
    return redirect(url_for("directory.user_page", username=username))


@directory_bp.post("/admin/users/<username>/disable")
@login_required
@require_roles("admin")
def disable_user(username: str):
    return _user_action(username, lambda: services.set_user_active(db.session, current_user, username, False),
                        _("%(username)s is disabled: no more sign-ins, and every API token is revoked.",
                          username=username))


@directory_bp.post("/admin/users/<username>/enable")
@login_required
@require_roles("admin")
def enable_user(username: str):
    return _user_action(username, lambda: services.set_user_active(db.session, current_user, username, True),
                        _("%(username)s may sign in again.", username=username))


@directory_bp.post("/admin/users/<username>/unlock")
@login_required
@require_roles("admin")
def unlock_user(username: str):
    return _user_action(username, lambda: services.unlock_user(db.session, current_user, username),
                        _("%(username)s is unlocked and may try to sign in again.", username=username))


@directory_bp.post("/admin/users/<username>/reset-password")
@login_required
@require_roles("admin")
def reset_password(username: str):
    services.user_for_admin(db.session, current_user, username)  # an unknown user: 404, not a form error
    form = ConfirmForm()
    answer, _status = form_write(form, lambda key: services.reset_password(db.session, current_user, username),
                                 lambda issued: _one_time_password_page(issued, False))
    if answer is not None:
        return answer
    flash(_("The form has expired; please try again."), "error")
    return redirect(url_for("directory.user_page", username=username))


@directory_bp.route("/admin/organisations/new", methods=["GET", "POST"])
@login_required
@require_roles("admin")
def new_organisation():
    form = OrganisationCreateForm()
    form.kind.choices = [(kind.value, str(KIND_LABELS[kind])) for kind in OrganisationKind]
    form.region.choices = [(region.code, named_code(region.name, region.code))
                           for region in directory.organisation_regions(db.session, current_user)]

    def work(key):
        return directory.create_organisation(db.session, current_user, name=form.name.data, kind=form.kind.data,
                                             region_code=form.region.data, credit_code=form.credit_code.data)

    def done(organisation):
        flash(_("Organisation %(name)s created with the code %(code)s.", name=organisation.name,
                code=organisation.code), "info")
        return redirect(url_for("directory.organisation", code=organisation.code))

    answer, status = form_write(form, in_interface_language(work), done)
    if answer is not None:
        return answer
    return render_template("admin/organisation_new.html", form=form), status
