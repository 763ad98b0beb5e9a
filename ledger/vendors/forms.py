"""The care-procurement web forms: a vendor, its status, a worker, a worker file, a contract, an
amendment, a contract's move."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..aid.forms import bank_account_rule, phone_rule, resident_id_rule
from ..forms import DateField, LedgerForm, WholeNumberField
from ..funds.forms import AmountField, OnceForm
from ..identity import IdentityNumberError, validate_credit_code
from .models import CareLevel
from .services.contracts import MINUTES_MAX, NOTE_MAX, VISITS_MAX
from .services.vendors import BANK_NAME_MAX, ORGANISATION_NAME_MAX, WORKER_NUMBER_MAX
from .vocabulary import CARE_LEVEL_LABELS, VENDOR_STATUS_LABELS


def credit_code_rule(form, field):
    try:
        field.data = validate_credit_code((field.data or "").strip().upper())
    except IdentityNumberError:
        raise ValidationError(_l("Not a valid unified social credit code: 18 characters whose last one is the "
                                 "check character (GB 32100).")) from None


class VendorForm(OnceForm):
    name = StringField(_l("Name of the vendor"), validators=[DataRequired(_l("Enter the vendor's name.")),
                                                              Length(max=ORGANISATION_NAME_MAX)])
    credit_code = StringField(_l("Unified social credit code"),
                              validators=[DataRequired(_l("Enter the credit code.")), credit_code_rule])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), phone_rule])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=BANK_NAME_MAX)])
    bank_account_number = StringField(_l("Bank account number"), validators=[Optional(), bank_account_rule])
    bank_account_holder = StringField(_l("Account holder"), validators=[Optional(), Length(max=ORGANISATION_NAME_MAX)])


class VendorStatusForm(LedgerForm):
    status = SelectField(_l("Status"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(value, str(label)) for value, label in VENDOR_STATUS_LABELS.items()]


class WorkerForm(OnceForm):
    worker_number = StringField(_l("Worker number"), validators=[DataRequired(_l("Enter the worker number.")),
                                                                  Length(max=WORKER_NUMBER_MAX)])
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=100)])
    resident_id = StringField(_l("Resident ID number"), validators=[DataRequired(_l("Enter the resident ID number.")),
                                                                    resident_id_rule])
    phone = StringField(_l("Phone"), validators=[Optional(), phone_rule])
    active_from = DateField(_l("Active from"), validators=[DataRequired(_l("Enter a date."))])
    active_to = DateField(_l("Active until"), validators=[Optional()],
                          description=_l("Leave empty while the worker still works for the vendor."))


class WorkerImportForm(LedgerForm):
    file = FileField(_l("Worker file (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])


def _visits(level: CareLevel):
    return WholeNumberField(_l("Minimum visits a month, %(level)s", level=CARE_LEVEL_LABELS[level.value]),
                            validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=VISITS_MAX)])


def _minutes(level: CareLevel):
    return WholeNumberField(_l("Minimum minutes a visit, %(level)s", level=CARE_LEVEL_LABELS[level.value]),
                            validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=MINUTES_MAX)])


def _price(level: CareLevel):
    return AmountField(_l("Price per person-month (yuan), %(level)s", level=CARE_LEVEL_LABELS[level.value]),
                       validators=[DataRequired(_l("Enter an amount."))])


class TermsFields:
    """The terms of a version, shared by the contract and the amendment forms."""

    ceiling = AmountField(_l("Budget ceiling (yuan)"), validators=[DataRequired(_l("Enter an amount."))],
                          description=_l("Committed on the county's care budget while the contract is active."))
    penalty_per_mille = WholeNumberField(_l("Penalty for care not given (per mille)"),
                                         validators=[InputRequired(_l("Enter a number.")), NumberRange(min=0, max=1000)])
    price_self_caring = _price(CareLevel.self_caring)
    price_partly_disabled = _price(CareLevel.partly_disabled)
    price_fully_disabled = _price(CareLevel.fully_disabled)
    visits_min_self_caring = _visits(CareLevel.self_caring)
    visits_min_partly_disabled = _visits(CareLevel.partly_disabled)
    visits_min_fully_disabled = _visits(CareLevel.fully_disabled)
    minutes_min_self_caring = _minutes(CareLevel.self_caring)
    minutes_min_partly_disabled = _minutes(CareLevel.partly_disabled)
    minutes_min_fully_disabled = _minutes(CareLevel.fully_disabled)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])

    def terms_data(self) -> dict:
        """The loaded terms in the API's shape (`schemas.terms_of` reads it)."""
        data = {"ceiling": self.ceiling.fen, "penalty_per_mille": self.penalty_per_mille.data}
        for level in CareLevel:
            data[f"price_{level.value}"] = getattr(self, f"price_{level.value}").fen
            data[f"visits_min_{level.value}"] = getattr(self, f"visits_min_{level.value}").data
            data[f"minutes_min_{level.value}"] = getattr(self, f"minutes_min_{level.value}").data
        return data


class ContractForm(TermsFields, OnceForm):
    vendor_id = SelectField(_l("Vendor"), validators=[DataRequired(_l("Choose the vendor."))])
    county = SelectField(_l("County"), validators=[DataRequired(_l("Choose the county."))])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired(_l("Enter a date."))])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired(_l("Enter a date."))])

    def __init__(self, *args, vendors=(), counties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.vendor_id.choices = [SelectChoice("", "")] + [SelectChoice(str(key), label) for key, label in vendors]
        self.county.choices = [SelectChoice("", "")] + [SelectChoice(code, label) for code, label in counties]


class AmendmentForm(TermsFields, OnceForm):
    effective_on = DateField(_l("Effective from"), validators=[DataRequired(_l("Enter a date."))])


class ContractMoveForm(OnceForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=NOTE_MAX)])
