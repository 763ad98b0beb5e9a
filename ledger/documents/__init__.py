"""Uploaded documents for any feature (PDF / JPEG / PNG, checked by content, stored once by hash
outside the web root, downloaded only after the owning record's access check). See `services`."""
from .models import DocumentKind, DocumentLink, MediaType, StoredDocument  # noqa: F401
from .services import (DOCUMENT_MAX_BYTES, DocumentEmpty, DocumentTooLarge, DocumentTypeRefused,  # noqa: F401
                       attach_upload, documents_of, open_document, register_owner, store_document)


def register(app):
    """Attach the download route (`documents.download`)."""
    from .views import register as register_views

    register_views(app)
