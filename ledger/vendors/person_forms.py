"""The supported persons' web forms: an assessment, a status change, a reassignment, an import."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..aid.forms import OnceForm
from ..forms import DateField, LedgerForm
from .person_vocabulary import ACTIVITY_LABELS, STATUS_LABELS
from .persons import NOTE_MAX

ABLE_CHOICES = [SelectChoice("able", _l("Able")), SelectChoice("unable", _l("Unable"))]


def _answer(label):
    return RadioField(label, choices=ABLE_CHOICES, validators=[InputRequired(_l("Answer able or unable."))])


class AssessmentForm(OnceForm):
    assessed_on = DateField(_l("Assessed on"), validators=[DataRequired(_l("Enter the day of the assessment."))])
    assessor = StringField(_l("Assessor"), validators=[DataRequired(_l("Enter who assessed.")), Length(max=100)])
    eating = _answer(ACTIVITY_LABELS["eating"])
    dressing = _answer(ACTIVITY_LABELS["dressing"])
    transferring = _answer(ACTIVITY_LABELS["transferring"])
    toileting = _answer(ACTIVITY_LABELS["toileting"])
    walking_indoors = _answer(ACTIVITY_LABELS["walking_indoors"])
    bathing = _answer(ACTIVITY_LABELS["bathing"])


class StatusForm(OnceForm):
    status = SelectField(_l("New status"), validators=[DataRequired(_l("Choose the new status."))])
    effective_on = DateField(_l("From"), validators=[DataRequired(_l("Enter the day it takes effect."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", "")] + [SelectChoice(value, str(label))
                                                        for value, label in STATUS_LABELS.items()]


class ReassignForm(OnceForm):
    vendor = SelectField(_l("Care vendor"), validators=[DataRequired(_l("Choose the vendor."))])
    valid_from = DateField(_l("From"), validators=[DataRequired(_l("Enter the first day of the new assignment."))],
                           description=_l("The current assignment ends the day before."))

    def __init__(self, *args, vendors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.vendor.choices = [SelectChoice("", "")] + [SelectChoice(code, f"{name}（{code}）")
                                                        for code, name in vendors]


class PersonsImportForm(LedgerForm):
    file = FileField(_l("Supported persons file (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])
