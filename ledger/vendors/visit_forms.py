"""The care visits' web forms: the upload, its apply step, a held visit's resolution."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..aid.forms import OnceForm
from ..forms import LedgerForm
from .visit_vocabulary import RESOLUTION_LABELS
from .visits import REASON_MAX


class VisitUploadForm(LedgerForm):
    file = FileField(_l("Visit file (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])


class VisitApplyForm(OnceForm):
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    filename = HiddenField(validators=[Optional(), Length(max=255)])


class ResolutionForm(OnceForm):
    resolution_code = SelectField(_l("Resolution"), validators=[DataRequired(_l("Choose a resolution."))])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(_l("Say why.")), Length(max=REASON_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resolution_code.choices = [SelectChoice("", "")] + [SelectChoice(code, str(label))
                                                                 for code, label in RESOLUTION_LABELS.items()]
