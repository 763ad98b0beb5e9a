"""Web forms of sign-in and account pages. Every form carries a CSRF token (Flask-WTF)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class TokenCreateForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Length(max=100)],
                        description=_l("For example: monthly export script"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""
