"""Web forms of sign-in, account and user-administration pages. Every form carries a CSRF token
(Flask-WTF). Passwords are checked here with the same function the services use
(`ledger.auth.passwords`), so the page can say why in the interface language; the service checks
again whatever its caller."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..forms import LedgerForm
from .passwords import MAX_LENGTH, MIN_LENGTH, password_problem


class LoginForm(LedgerForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class TokenCreateForm(LedgerForm):
    label = StringField(_l("What the token is for"), validators=[Length(max=100)],
                        description=_l("For example: monthly export script"))


class ConfirmForm(LedgerForm):
    """A button that changes something: only the CSRF token travels."""


class PasswordChangeForm(LedgerForm):
    """Change one's own password; `username` is the user's, for the check against it."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired()],
        description=_l("At least %(min)d characters, up to %(max)d; any characters, spaces and Chinese included. "
                       "Not a common password, not your username.", min=MIN_LENGTH, max=MAX_LENGTH))
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))])

    def __init__(self, *args, username: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username

    def validate_new_password(self, field):
        problem = password_problem(field.data or "", self._username)
        if problem is not None:
            raise ValidationError(problem.translated())


class UserCreateForm(LedgerForm):
    """A new user; the choices of role and organisation are filled in by the view."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=80)],
                           description=_l("Lower-case letters, digits, “.”, “_” or “-”, starting with a letter; "
                                          "used to sign in and never given to anyone else."))
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=100)],
                               description=_l("As colleagues know the person, e.g. Li Shenhe of the Yutai civil "
                                              "affairs bureau."))
    role = SelectField(_l("Role"), validators=[DataRequired()])
    organisation = SelectField(_l("Organisation"), validators=[DataRequired()])


class OrganisationCreateForm(LedgerForm):
    """A new organisation; the region choices (the city and its counties) are filled in by the view."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    region = SelectField(_l("Region"), validators=[DataRequired()],
                         description=_l("A city bureau works in the city, a county bureau in its county."))
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)],
                              description=_l("Optional; 18 characters, checked."))


#: The web's wording of the refusals of these forms: by error code (the field it belongs next to and
#: the message), then by the field a service names. The services' English stays the API's wording.
CODE_MESSAGES = {
    "wrong_password": ("current_password", _l("The current password is not right; nothing was changed.")),
    "username_taken": ("username", _l("This username is taken (perhaps by a disabled user); choose another one.")),
    "own_account": (None, _l("You cannot disable your own account; ask another administrator.")),
}
FIELD_MESSAGES = {
    "username": _l("Use 2 to 80 lower-case letters, digits, “.”, “_” or “-”, starting with a letter."),
    "display_name": _l("Use at most 100 characters."),
    "role": _l("This role does not fit the organisation: charity users belong to a charity, care vendor "
               "users to a care vendor, everyone else to a bureau."),
    "org": _l("Choose an organisation from the list."),
    "new_password": _l("Choose a new password that differs from the current one."),
    "name": _l("Give a name (at most 200 characters) that no organisation of this region has yet."),
    "kind": _l("Choose a kind from the list."),
    "region": _l("A city bureau works in the city and a county bureau in a county; choose another region."),
    "credit_code": _l("Not a valid unified social credit code (check the 18 characters)."),
}
#: Service field name -> form field name, where they differ.
FORM_FIELDS = {"org": "organisation"}


def in_interface_language(work):
    """Wrap a form's `work(key)` so that a refusal's field messages are in the interface language
    (then `ledger.requests.form_write` rolls back and puts them next to their fields)."""
    from ..errors import LedgerError

    def run(key):
        try:
            return work(key)
        except LedgerError as error:
            if error.code in CODE_MESSAGES:
                field, message = CODE_MESSAGES[error.code]
                if field is None:
                    error.message, error.fields = str(message), {}
                else:
                    error.fields = {field: [str(message)]}
            elif error.fields:
                error.fields = {name: [str(FIELD_MESSAGES[name])] if name in FIELD_MESSAGES else problems
                                for name, problems in error.fields.items()}
            raise

    return run
