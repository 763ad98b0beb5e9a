"""The finance staff's forms: receipt, allocation, disbursement, hold, post / void a hold,
reversal, period close and reopen.

Every form that moves money carries a one-time key (`idempotency_key`, a hidden field
made when the form is rendered): a double click, or the browser re-posting the page,
finds the first result under that key instead of recording the entry twice.
Amounts are typed in yuan ("1234.56" or "1,234.56") and become integer fen here.
"""
from __future__ import annotations

import re
import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..forms import DateField, LedgerForm, WholeNumberField
from ..identity import RESIDENT_ID_BORN_YEAR_MIN, IdentityNumberError, validate_credit_code, validate_resident_id
from ..money import AmountError, parse_amount
from ..text import ascii_digits_from_fullwidth
from ..timeutil import local_today
from .schemas import HOLD_MAX_HOURS, MONTH_PATTERN
from .vocabulary import PayeeKind, Purpose, ReceiptSource

PURPOSE_LABELS = Purpose.labels()
SOURCE_LABELS = ReceiptSource.labels()
PAYEE_KIND_LABELS = PayeeKind.labels()


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


_GROUPED_AMOUNT = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$", re.ASCII)
_DECIMALS_TOO_MANY = re.compile(r"^[0-9]+\.[0-9]{3,}$", re.ASCII)


def amount_fen_from_text(text: str) -> int:
    """Parse what a person typed into an amount box; raise wtforms' ValidationError with a
    message that says what is wrong."""
    # A Chinese input method's fullwidth digits, comma and full stop are read as ASCII (only
    # those: digits of other scripts are refused, as the API refuses them).
    text = ascii_digits_from_fullwidth((text or "").strip()).replace("，", ",").replace("。", ".").replace("．", ".")
    if _GROUPED_AMOUNT.match(text):
        text = text.replace(",", "")
    try:
        return parse_amount(text)
    except AmountError:
        if text.startswith("-"):
            raise ValidationError(_l("The amount must not be negative.")) from None
        if _DECIMALS_TOO_MANY.match(text):
            raise ValidationError(_l("At most two decimal places (fen).")) from None
        if re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text, re.ASCII):  # well formed, so refused for its size
            whole, _, fraction = text.partition(".")
            if int(whole) == 0 and int(fraction or 0) == 0:
                raise ValidationError(_l("The amount must be greater than zero.")) from None
            raise ValidationError(_l("The amount is too large.")) from None
        raise ValidationError(_l("Enter an amount in yuan, such as 1234.56.")) from None


class AmountField(StringField):
    """An amount in yuan; `fen` holds the parsed integer after validation."""

    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        if self.data is None or not str(self.data).strip():
            return  # DataRequired speaks for required amounts; an optional one stays None
        self.fen = amount_fen_from_text(str(self.data))


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class OnceForm(LedgerForm):
    """A form whose submission counts once, however often it arrives."""

    idempotency_key = HiddenField(default=new_idempotency_key,
                                  validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


class ReceiptForm(OnceForm):
    amount = AmountField(_l("Amount (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    source = SelectField(_l("Source"), choices=choices(SOURCE_LABELS), validators=[InputRequired()])
    payer_name = StringField(_l("Donor or payer"), validators=[DataRequired(_l("Who paid the money in?")),
                                                                Length(max=200)])
    value_on = DateField(_l("Value date"), default=local_today, validators=[DataRequired(_l("Enter a date."))])
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=1000)])
    # "yes" once the person confirmed a very large receipt on the confirmation page.
    confirm_large_amount = HiddenField(validators=[Optional(), Regexp(r"^(yes)?$")])


class AllocationForm(OnceForm):
    from_fund = SelectField(_l("From fund"), validators=[DataRequired(_l("Choose the fund that pays."))],
                            validate_choice=True)
    to_fund = SelectField(_l("To fund"), validators=[DataRequired(_l("Choose the fund that receives."))],
                          validate_choice=True)
    amount = AmountField(_l("Amount (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    value_on = DateField(_l("Value date"), default=local_today, validators=[DataRequired(_l("Enter a date."))])
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=1000)])

    def validate_to_fund(self, field):
        if field.data and field.data == self.from_fund.data:
            raise ValidationError(_l("Choose a different fund from the one that pays."))


def resident_id_refusal(error: IdentityNumberError) -> str:
    """What the form says when `identity.validate_resident_id` refuses a number: the rule that
    failed, in the reader's language (a wrong check digit is named as such, so a clerk knows to
    look for a mistyped digit rather than doubt the person's papers)."""
    details = error.details
    if error.reason == "length":
        return _("A resident ID number has 18 characters, not %(length)s.", length=details["length"])
    if error.reason == "characters":
        return _("A resident ID number is 17 digits followed by a digit or X.")
    if error.reason == "date":
        return _("The birth date in it (%(digits)s) is not a real date.", digits=details["digits"])
    if error.reason == "date_range":
        return _("The birth date in it (%(digits)s) is in the future or before %(year)s.",
                 digits=details["digits"], year=RESIDENT_ID_BORN_YEAR_MIN)
    if error.reason == "region":
        return _("Its region code %(region)s was never assigned.", region=details["region"])
    if error.reason == "check_digit":
        return _("Wrong check digit: the last character does not match the first 17 (a digit is mistyped).")
    return _("Not a valid resident ID number.")


class PayeeFields:
    """Validation shared by the disbursement and hold forms: a person needs a resident ID
    that passes its checksum; an organisation may give a unified social credit code."""

    def validate_payee_id_number(self, field):
        kind = self.payee_kind.data
        number = (field.data or "").strip().upper()
        field.data = number
        if kind == "person":
            if not number:
                raise ValidationError(_l("A person needs a resident ID number."))
            try:
                validate_resident_id(number)
            except IdentityNumberError as error:
                raise ValidationError(resident_id_refusal(error)) from None
        elif kind == "organisation" and number:
            try:
                validate_credit_code(number)
            except IdentityNumberError:
                raise ValidationError(_l("Not a valid unified social credit code.")) from None

    def validate_payee_name(self, field):
        if self.payee_kind.data in ("person", "organisation") and not (field.data or "").strip():
            raise ValidationError(_l("Enter the payee's name."))


class DisbursementForm(PayeeFields, OnceForm):
    amount = AmountField(_l("Amount (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    purpose = SelectField(_l("Purpose"), choices=choices(PURPOSE_LABELS), validators=[InputRequired()])
    payee_kind = RadioField(_l("Payee"), choices=choices(PAYEE_KIND_LABELS), default="person",
                            validators=[InputRequired()])
    payee_name = StringField(_l("Payee name"), validators=[Length(max=200)])
    payee_id_number = StringField(_l("Resident ID / credit code"), validators=[Length(max=40)],
                                  description=_l("A person: 18-character resident ID. An organisation: "
                                                 "unified social credit code (optional)."))
    value_on = DateField(_l("Value date"), default=local_today, validators=[DataRequired(_l("Enter a date."))])
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=1000)])


class HoldForm(PayeeFields, OnceForm):
    amount = AmountField(_l("Amount (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    purpose = SelectField(_l("Purpose"), choices=choices(PURPOSE_LABELS), validators=[InputRequired()])
    expires_in_hours = WholeNumberField(_l("Expires in (hours)"), default=24,
                                    validators=[InputRequired(_l("Enter a number of hours.")),
                                                NumberRange(min=1, max=HOLD_MAX_HOURS)])
    payee_kind = RadioField(_l("Payee"), choices=[SelectChoice("", _l("Not known yet")), *choices(PAYEE_KIND_LABELS)],
                            default="")
    payee_name = StringField(_l("Payee name"), validators=[Length(max=200)])
    payee_id_number = StringField(_l("Resident ID / credit code"), validators=[Length(max=40)])
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=60)],
                            description=_l("What the money is held for, e.g. an aid application number."))
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=1000)])


class HoldPostForm(OnceForm):
    amount = AmountField(_l("Amount to pay (yuan)"),
                         description=_l("Leave empty to pay the whole hold; a smaller amount releases the rest."))
    value_on = DateField(_l("Value date"), default=local_today, validators=[DataRequired(_l("Enter a date."))])
    memo = TextAreaField(_l("Memo"), validators=[Optional(), Length(max=1000)])


class HoldVoidForm(OnceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why the hold is released.")),
                                                     Length(max=1000)])


class ReversalForm(OnceForm):
    reason = TextAreaField(_l("Reason for the reversal"),
                           validators=[DataRequired(_l("A reversal needs a reason.")), Length(max=1000)])
    value_on = DateField(_l("Date of the reversing entry"), default=local_today,
                         validators=[DataRequired(_l("Enter a date."))])


class PeriodCloseForm(LedgerForm):
    """Step one names the month; step two (the confirmation page, after its pending holds are
    listed) sends it again with `confirmed`."""

    month = StringField(_l("Month to close (YYYY-MM)"),
                        validators=[DataRequired(_l("Enter a month.")),
                                    Regexp(MONTH_PATTERN, message=_l("Write the month as YYYY-MM, e.g. 2026-01."))])
    confirmed = HiddenField()


class PeriodReopenForm(LedgerForm):
    reason = TextAreaField(_l("Reason for reopening"),
                           validators=[DataRequired(_l("Reopening a closed month needs a reason.")),
                                       Length(max=1000)])


class AsOfForm(LedgerForm):
    """The as-of date picker (GET, no CSRF)."""

    class Meta:
        csrf = False

    as_of = DateField(_l("As of"), validators=[Optional()])


class FilterAmountField(StringField):
    """An amount bound of a list filter, in yuan; zero is a bound like any other."""

    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        text = (self.data or "").strip()
        if not text:
            return
        if re.fullmatch(r"0+(\.0{0,2})?", ascii_digits_from_fullwidth(text).replace("，", ",")):
            self.fen = 0
            return
        self.fen = amount_fen_from_text(text)


class EntryFilterForm(LedgerForm):
    """The voucher list's filters (GET, no CSRF). Every field is optional; a value that cannot
    be read is refused with the field's name in the message."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=True, default="")
    counterparty = StringField(_l("Counterparty, voucher or memo"), validators=[Optional(), Length(max=100)])
    amount_min = FilterAmountField(_l("Amount from"))
    amount_max = FilterAmountField(_l("Amount to"))
    fund = StringField(_l("Fund"), validators=[Optional(), Length(max=40)])


class TrialBalanceForm(LedgerForm):
    """The trial balance's date and filters (GET, no CSRF). The county and level choices are
    checked by the service, which names the one it cannot use."""

    class Meta:
        csrf = False

    as_of = DateField(_l("As of"), validators=[Optional()])
    county = SelectField(_l("County"), choices=[], validate_choice=False, default="")
    level = SelectField(_l("Level"), choices=[], validate_choice=False, default="")
