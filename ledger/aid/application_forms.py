"""The web forms of aid applications and tier policies: filing, the reviewer's decisions, payment,
the follow-up and a policy's new version. Amounts are typed in yuan and parsed by `ledger.money`."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DateField
from ..money import AmountError, parse_amount
from ..text import ascii_digits_from_fullwidth
from .applications import DESCRIPTION_MAX, REASON_MAX, TEXT_MAX
from .forms import OnceForm
from .policies import BANDS_MAX, FACTOR_MAX
from .vocabulary import CATEGORY_LABELS

URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent: paid within 24 hours"),
                  "especially_urgent": _l("Especially urgent: paid within 2 hours")}
FOLLOW_UP_LABELS = {"visit": _l("Home visit"), "call": _l("Phone call")}


def fen_of(text) -> int | None:
    """The fen of an amount typed in yuan (fullwidth digits and point read as ASCII, thousands
    separators dropped); None when it is not one."""
    text = ascii_digits_from_fullwidth(str(text or "")).strip().replace("．", ".").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        return parse_amount(text, allow_zero=True)
    except (AmountError, ValueError):
        return None


class YuanField(StringField):
    """An amount in yuan, zero allowed; `fen` holds the parsed integer after validation."""

    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        if self.data is None or not str(self.data).strip():
            return
        self.fen = fen_of(self.data)
        if self.fen is None or self.fen < 0:
            self.fen = None
            raise ValidationError(_l("Enter an amount in yuan, such as 1234.56."))


def _choices(labels) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class ApplicationForm(OnceForm):
    person_id = SelectField(_l("Beneficiary"), validators=[DataRequired(_l("Choose the person."))])
    fund_code = SelectField(_l("Fund"), validators=[DataRequired(_l("Choose the fund."))])
    diagnosis = StringField(_l("Medical diagnosis"), validators=[DataRequired(_l("Enter the diagnosis.")),
                                                         Length(max=TEXT_MAX)])
    hospital = StringField(_l("Hospital"), validators=[DataRequired(_l("Enter the hospital.")), Length(max=TEXT_MAX)])
    total_cost = YuanField(_l("Total medical cost (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    reimbursed = YuanField(_l("Reimbursed by insurance and medical assistance (yuan)"),
                           validators=[DataRequired(_l("Enter an amount."))],
                           description=_l("Basic medical insurance, serious-illness insurance and medical "
                                          "assistance together; 0 when none."))
    out_of_pocket = YuanField(_l("Out of pocket (yuan)"), validators=[Optional()],
                              description=_l("Left empty: the total cost less what was reimbursed."))
    urgency = SelectField(_l("Urgency"), choices=_choices(URGENCY_LABELS), default="normal")
    amount_requested = YuanField(_l("Amount asked (yuan)"), validators=[DataRequired(_l("Enter an amount."))])
    description = TextAreaField(_l("What happened"), validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    submit_now = BooleanField(_l("Submit to the reviewers now (otherwise it is kept as a draft)"), default=True)

    def __init__(self, *args, persons=(), funds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.person_id.choices = [SelectChoice("", "")] + [SelectChoice(str(value), label) for value, label in persons]
        self.fund_code.choices = [SelectChoice("", "")] + [SelectChoice(code, label) for code, label in funds]


class ReasonForm(OnceForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX)])


class RequiredReasonForm(OnceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=REASON_MAX)])


class ApproveForm(OnceForm):
    amount = YuanField(_l("Amount approved (yuan)"), validators=[Optional()],
                       description=_l("Left empty: the suggested amount."))
    minimal_documents = BooleanField(_l("Aid now on minimal documents; the full paperwork is due "
                                        "within 5 working days"))
    reason = TextAreaField(_l("Note"), validators=[Optional(), Length(max=REASON_MAX)])


class FollowUpForm(OnceForm):
    kind = SelectField(_l("Follow-up"), choices=_choices(FOLLOW_UP_LABELS), default="visit")
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(_l("Enter the outcome.")),
                                                       Length(max=DESCRIPTION_MAX)])


class PayForm(OnceForm):
    application = SelectMultipleField(_l("Applications to pay"), coerce=str, validate_choice=False)


class EmptyOnceForm(OnceForm):
    """A button that acts once (submit, start the review, paperwork received)."""


_YUAN = r"([0-9][0-9,]*(?:\.[0-9]{1,2})?)"
_BAND_LINE = re.compile(rf"^\s*{_YUAN}\s*(?:->|→|=|:|：|\s)\s*{_YUAN}\s*$")


def parse_bands(text: str) -> tuple[tuple[int, int], ...]:
    """Lines "20000 -> 10000" (threshold, amount in yuan) as fen pairs; ValueError naming the line."""
    bands = []
    for number, line in enumerate(ascii_digits_from_fullwidth(text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = _BAND_LINE.match(line)
        threshold = fen_of(match.group(1)) if match else None
        amount = fen_of(match.group(2)) if match else None
        if threshold is None or amount is None:
            raise ValueError(number)
        bands.append((threshold, amount))
    return tuple(bands)


def bands_text(bands) -> str:
    def yuan(fen):
        return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"
    return "\n".join(f"{yuan(band.threshold_fen)} -> {yuan(band.amount_fen)}" for band in bands)


class PolicyVersionForm(OnceForm):
    effective_on = DateField(_l("In force from"), validators=[DataRequired(_l("Enter a date."))])
    bands = TextAreaField(_l("Bands (one a line: out of pocket from -> amount, in yuan)"),
                          validators=[DataRequired(_l("Give at least one band."))],
                          description=_l("For example 20000 -> 10000: from 20,000 yuan out of pocket, 10,000 yuan."))
    annual_cap = YuanField(_l("Annual cap per person, all funds (yuan)"),
                           validators=[DataRequired(_l("Enter an amount."))])
    county_approval_max = YuanField(_l("Most a county reviewer approves alone (yuan)"),
                                    validators=[DataRequired(_l("Enter an amount."))])
    once_per_household_per_year = BooleanField(_l("Once per household per year"))

    def validate_bands(self, field):
        try:
            bands = parse_bands(field.data)
        except ValueError as error:
            raise ValidationError(_l("Line %(line)s is not \"from -> amount\" in yuan.", line=error.args[0])) from None
        if len(bands) > BANDS_MAX:
            raise ValidationError(_l("At most %(max)s bands.", max=BANDS_MAX))
        field.parsed = bands


def factor_field_name(category: str) -> str:
    return f"factor_{category}"


def add_factor_fields(form_class):
    """One optional factor field per registry category (1.0 when empty)."""
    attributes = {factor_field_name(value): StringField(label, validators=[Optional(), Length(max=6)])
                  for value, label in CATEGORY_LABELS.items()}
    return type("PolicyVersionFormWithFactors", (form_class,), attributes)


PolicyVersionFactorsForm = add_factor_fields(PolicyVersionForm)


def parse_factor(text: str) -> int | None:
    """"1.2" -> 1200 (per mille); None when empty; ValueError when it is no factor."""
    text = ascii_digits_from_fullwidth(text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,2}(\.[0-9]{1,3})?", text):
        raise ValueError(text)
    whole, _dot, rest = text.partition(".")
    permille = int(whole) * 1000 + int((rest + "000")[:3])
    if not 0 < permille <= FACTOR_MAX:
        raise ValueError(text)
    return permille
