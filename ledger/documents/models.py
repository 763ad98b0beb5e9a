"""Uploaded documents: the stored files (one row per content) and their links to the records they serve.

Invariants the database keeps:

* one stored document per content (`uq_stored_documents_sha256`): the same bytes uploaded twice,
  by anyone, for any record, are stored once, under their SHA-256 (`ledger.documents.services`);
* a link names its owner by kind and number (`owner_kind`, `owner_id`: an aid application, a
  referral order ...) and says what the document is to it (`kind`: a hospital bill, a diagnosis,
  an ID copy ...); the same content is linked to a record at most once per kind.

The files live outside the web root (`DOCUMENTS_DIR`), named by their SHA-256; the table keeps the
digest, size, media type (read from the content, never from the name) and who uploaded it when.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from ..db_base import Base, enum_column
from ..timeutil import utcnow

#: Link numbers are INTEGER: a larger number in a path is no document (404), never a query.
DOCUMENT_LINK_ID_MAX = 2**31 - 1


class MediaType(str, enum.Enum):
    pdf = "application/pdf"
    jpeg = "image/jpeg"
    png = "image/png"


class DocumentKind(str, enum.Enum):
    """What a document is to the record it is attached to."""

    hospital_bill = "hospital_bill"  # 医疗费用票据
    diagnosis = "diagnosis"  # 诊断证明
    id_copy = "id_copy"  # 身份证复印件
    other = "other"  # 其他


class StoredDocument(Base):
    """One stored content (a file under DOCUMENTS_DIR named by its SHA-256)."""

    __tablename__ = "stored_documents"
    __table_args__ = (sa.UniqueConstraint("sha256", name="uq_stored_documents_sha256"),
                      sa.CheckConstraint("size_bytes > 0", name="size"))

    id = sa.Column(sa.Integer, primary_key=True)
    sha256 = sa.Column(sa.String(64), nullable=False, comment="of the content; the stored file's name")
    size_bytes = sa.Column(sa.BigInteger, nullable=False)
    media_type = sa.Column(sa.Enum(MediaType, name="document_media_type", native_enum=False, create_constraint=True,
                                   length=40, values_callable=lambda e: [m.value for m in e],
                                   validate_strings=True),
                           nullable=False, comment="read from the content")
    filename = sa.Column(sa.String(120), nullable=False, comment="as first uploaded, sanitised")
    uploaded_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    uploaded_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class DocumentLink(Base):
    """A stored document attached to a record of a feature (`owner_kind`, `owner_id`)."""

    __tablename__ = "document_links"
    __table_args__ = (
        sa.UniqueConstraint("owner_kind", "owner_id", "document_id", "kind", name="uq_document_links_owner_document"),
        sa.Index("ix_document_links_owner", "owner_kind", "owner_id"),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    document_id = sa.Column(sa.Integer, sa.ForeignKey("stored_documents.id"), nullable=False, index=True)
    owner_kind = sa.Column(sa.String(40), nullable=False, comment="the feature's record type: aid_application, ...")
    owner_id = sa.Column(sa.Integer, nullable=False)
    kind = enum_column(DocumentKind, "document_kind", nullable=False)
    filename = sa.Column(sa.String(120), nullable=False, comment="as uploaded for this record, sanitised")
    linked_by_user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    linked_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    document = relationship(StoredDocument, lazy="joined")
