"""The registry's web forms: a new person, an import upload, the audited "show" button."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..forms import DateField, LedgerForm, WholeNumberField
from ..identity import IdentityNumberError, validate_resident_id
from .services import ADDRESS_MAX, BANK_NAME_MAX, NAME_MAX, check_bank_account, check_phone
from .vocabulary import CATEGORY_LABELS, RELATION_LABELS

#: What a resident ID's refusal says in the reader's language, by `IdentityNumberError.reason`.
RESIDENT_ID_PROBLEMS = {
    "length": _l("A resident ID number has 18 characters."),
    "characters": _l("A resident ID number is 17 digits and a last digit or X."),
    "date": _l("The birth date in this resident ID number is not a real date."),
    "date_range": _l("The birth date in this resident ID number is in the future or before 1900."),
    "region": _l("The region code of this resident ID number was never assigned."),
    "check_digit": _l("Wrong check digit: the last character does not match the others (a digit is mistyped)."),
}


class OnceForm(LedgerForm):
    """A form whose submission counts once, however often it arrives."""

    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex,
                                  validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


def resident_id_rule(form, field):
    if not field.data:
        return
    try:
        field.data = validate_resident_id(field.data)
    except IdentityNumberError as error:
        raise ValidationError(str(RESIDENT_ID_PROBLEMS.get(error.reason, error))) from None


def phone_rule(form, field):
    try:
        check_phone(field.data)
    except ValueError:
        raise ValidationError(_l("A phone number is 5 to 20 digits (spaces and dashes allowed).")) from None


def bank_account_rule(form, field):
    try:
        field.data = check_bank_account(field.data)
    except ValueError:
        raise ValidationError(_l("A bank account number is 12 to 30 digits.")) from None


class PersonForm(OnceForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=NAME_MAX)])
    resident_id = StringField(_l("Resident ID number"), validators=[DataRequired(_l("Enter the resident ID number.")),
                                                                    resident_id_rule])
    village_code = SelectField(_l("Village or community"), validators=[DataRequired(_l("Choose the village."))])
    phone = StringField(_l("Phone"), validators=[Optional(), phone_rule])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=ADDRESS_MAX)])
    household_head_resident_id = StringField(
        _l("Head of household's resident ID"), validators=[Optional(), resident_id_rule],
        description=_l("Leave empty when this person is the head of a new household."))
    relation = SelectField(_l("Relation to the head"), default="head")
    category = SelectField(_l("Category"), validators=[Optional()])
    category_since = DateField(_l("Category since"), validators=[Optional()])
    disability_grade = WholeNumberField(_l("Disability grade (1-4)"), validators=[Optional()])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=BANK_NAME_MAX)])
    bank_account_number = StringField(_l("Bank account number"), validators=[Optional(), bank_account_rule])
    bank_account_holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=NAME_MAX)])

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.village_code.choices = [SelectChoice("", "")] + [SelectChoice(code, label) for code, label in villages]
        self.relation.choices = [SelectChoice(value, str(label)) for value, label in RELATION_LABELS.items()]
        self.category.choices = [SelectChoice("", _l("None"))] + [SelectChoice(value, str(label))
                                                                   for value, label in CATEGORY_LABELS.items()]


class ImportUploadForm(LedgerForm):
    file = FileField(_l("Registry file (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])


class ImportApplyForm(LedgerForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[Optional(), Length(max=255)])


class RevealForm(LedgerForm):
    """The explicit "show the full numbers" action (a POST: each view is audited)."""


# --- changes to a registered person (on the person's page; each form has its own prefix) ---------

class ChangeForm(OnceForm):
    """A change to a person: made only from a form that was sent with its one-time key. (A POST with
    no fields at all would otherwise validate on the defaults, and an empty bank card form means
    "remove the card".)"""

    def validate(self, extra_validators=None):
        if not self.idempotency_key.raw_data:
            self.form_errors.append(_l("The form arrived empty: open the page again and send it from there."))
            super().validate(extra_validators)
            return False
        return super().validate(extra_validators)

class ContactForm(ChangeForm):
    phone = StringField(_l("Phone"), validators=[Optional(), phone_rule])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=ADDRESS_MAX)])
    village_code = SelectField(_l("Village or community"), validators=[DataRequired(_l("Choose the village."))])

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.village_code.choices = [SelectChoice(code, label) for code, label in villages]


class BankCardForm(ChangeForm):
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=BANK_NAME_MAX)])
    bank_account_number = StringField(_l("Bank account number"), validators=[Optional(), bank_account_rule],
                                      description=_l("Leave the three fields empty to remove the card."))
    bank_account_holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=NAME_MAX)])


class CategoryAddForm(ChangeForm):
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose the category."))])
    starts_on = DateField(_l("From"), validators=[DataRequired(_l("Enter the first day."))])
    ends_on = DateField(_l("Until"), validators=[Optional()],
                        description=_l("Leave empty while the category holds."))
    disability_grade = WholeNumberField(_l("Disability grade (1-4)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(value, str(label)) for value, label in CATEGORY_LABELS.items()]


class CategoryEndForm(ChangeForm):
    ends_on = DateField(_l("Until"), validators=[DataRequired(_l("Enter the last day."))])


def _member_relations():
    return [SelectChoice(value, str(label)) for value, label in RELATION_LABELS.items() if value != "head"]


class HouseholdHeadForm(ChangeForm):
    previous_head_relation = SelectField(_l("The former head's relation to the new head"), default="other")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.previous_head_relation.choices = _member_relations()


class HouseholdMemberForm(ChangeForm):
    resident_id = StringField(_l("Resident ID number"), validators=[DataRequired(_l("Enter the resident ID number.")),
                                                                    resident_id_rule],
                              description=_l("The person must be registered already."))
    relation = SelectField(_l("Relation to the head"), default="other")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relation.choices = _member_relations()


class HouseholdRemoveForm(ChangeForm):
    """Take a member out of the household (they head a household of their own)."""
