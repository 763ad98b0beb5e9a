"""The one upload control for documents, shared by every feature's pages (`templates/_documents.html`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..forms import LedgerForm
from .models import DocumentKind

#: What a document is, in the reader's language.
DOCUMENT_KIND_LABELS = {
    DocumentKind.hospital_bill.value: _l("Hospital bill"),
    DocumentKind.diagnosis.value: _l("Diagnosis"),
    DocumentKind.id_copy.value: _l("Copy of the ID card"),
    DocumentKind.other.value: _l("Other document"),
}

#: What the file chooser offers first; the content decides what is accepted (`ledger.documents.services`).
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class DocumentUploadForm(LedgerForm):
    kind = SelectField(_l("Kind of document"), validators=[DataRequired()],
                       choices=[SelectChoice(value, label) for value, label in DOCUMENT_KIND_LABELS.items()])
    file = FileField(_l("Document (PDF, JPEG or PNG, at most 10 MB)"), validators=[FileRequired(_l("Choose a file."))])
