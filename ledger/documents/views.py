"""The one download route for every feature's documents, and the request limit of an upload.

`/documents/<link>` answers the file only after the owning record's own access check
(`services.open_document`): 404 for anyone who may not see the record, exactly as for no such
document. The file is sent as an attachment under its sanitised name, with the type found in its
content (never one the uploader declared), `nosniff` (set for every response by `ledger.security`)
and no caching outside the browser.

Upload handlers call `allow_document_uploads(files)` before they touch the request body: it lets
this one request carry that many documents of at most 10 MB each (the app's MAX_CONTENT_LENGTH
stays small for every other request), and refuses a declared length above that with 413 before
anything is read.
"""
from __future__ import annotations

from flask import Blueprint, request, send_file
from flask_login import current_user, login_required

from ..extensions import db
from . import services
from .forms import ACCEPT, DOCUMENT_KIND_LABELS
from .models import DOCUMENT_LINK_ID_MAX

documents_bp = Blueprint("documents", __name__, url_prefix="/documents")

#: Room for the multipart framing and the other fields of a form carrying documents.
FORM_OVERHEAD_BYTES = 256 * 1024


def allow_document_uploads(files: int = 1) -> None:
    """Let this request's body hold `files` documents; a declared length above it is refused now."""
    limit = files * services.DOCUMENT_MAX_BYTES + FORM_OVERHEAD_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise services.DocumentTooLarge()


@documents_bp.get(f"/<int(max={DOCUMENT_LINK_ID_MAX}):link_id>")
@login_required
def download(link_id):
    opened = services.open_document(db.session, current_user._get_current_object(), link_id)
    response = send_file(opened.path, mimetype=opened.media_type, as_attachment=True,
                         download_name=opened.link.filename, conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def document_size(size_bytes: int) -> str:
    """A file's size as a reader takes it in: 820 B, 35 KB, 2.4 MB."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    if size_bytes < 1024 * 1024:
        return f"{round(size_bytes / 1024)} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def document_kind_label(kind) -> str:
    value = getattr(kind, "value", kind)
    return str(DOCUMENT_KIND_LABELS.get(value, value))


def register(app):
    app.register_blueprint(documents_bp)
    app.jinja_env.globals.update(document_size=document_size, document_kind_label=document_kind_label,
                                 document_accept=ACCEPT)
