"""Documents attached to records, told from the Yutai desk: what is accepted (by content, not by
name), what is refused and how it is named, one stored file per content, and a download that
answers only those who may see the record (the demo registry's persons carry the documents here:
`aid_person`, checked by the registry's own scope)."""
from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
import sqlalchemy as sa

from ledger.aid.models import Person
from ledger.auth.models import Region, User
from ledger.documents import (DOCUMENT_MAX_BYTES, DocumentEmpty, DocumentKind, DocumentLink, DocumentTooLarge,
                              DocumentTypeRefused, StoredDocument, attach_upload, documents_of, open_document,
                              store_document)
from ledger.documents.services import media_type_of, sanitised_filename, stored_path
from ledger.errors import Forbidden, NotFound
from ledger.extensions import db
from tests.support import signed_in_client


def png_bytes(width=2, height=1) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    scan = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00" + b"\x12\x34"
    return b"\xff\xd8" + app0 + frame + scan + b"\xff\xd9"


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"PE\x00\x00"
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 100


@pytest.fixture
def desk(demo_app):
    """(session, user by name, a Yutai person's id, a Rencheng person's id) inside the demo app."""
    with demo_app.app_context():
        session = db.session

        def user(name):
            return session.scalar(sa.select(User).where(User.username == name))

        def person_in(code):
            county = session.scalar(sa.select(Region.id).where(Region.code == code))
            return session.scalar(sa.select(Person.id).where(Person.county_id == county).order_by(Person.id))

        yield session, user, person_in("370827"), person_in("370811")


def test_a_program_renamed_pdf_is_refused_and_named(desk):
    session, user, yutai_person, _ = desk
    for content, named in ((ELF, "a program (an ELF executable)"), (PE, "a Windows program (an executable)"),
                           (ZIP, "a ZIP archive (or an Office document)")):
        with pytest.raises(DocumentTypeRefused) as refused:
            attach_upload(session, user("charity_yutai"), "aid_person", yutai_person, DocumentKind.hospital_bill,
                          io.BytesIO(content), "住院发票.pdf")
        assert str(refused.value.message) == f"This file is {named}: only PDF, JPEG and PNG documents are accepted."
    assert session.scalar(sa.select(sa.func.count(StoredDocument.id))) == 0


def test_a_png_named_pdf_is_stored_as_png(desk):
    session, user, yutai_person, _ = desk
    link = attach_upload(session, user("charity_yutai"), "aid_person", yutai_person, DocumentKind.id_copy,
                         io.BytesIO(png_bytes()), "../../身份证 正面.pdf")
    assert link.document.media_type.value == "image/png"
    assert link.filename == "身份证 正面.png"
    assert link.document.sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert stored_path(link.document.sha256).read_bytes() == png_bytes()


def test_pdf_jpeg_and_png_are_told_apart_by_content_and_broken_ones_refused():
    assert media_type_of(PDF).value == "application/pdf"
    assert media_type_of(jpeg_bytes()).value == "image/jpeg"
    assert media_type_of(png_bytes()).value == "image/png"
    broken_png = bytearray(png_bytes())
    broken_png[20] ^= 0xFF  # the IHDR's CRC no longer holds
    for damaged in (PDF[:-7], bytes(broken_png), jpeg_bytes()[:-2], b"\xff\xd8\xff\xd9"):
        with pytest.raises(DocumentTypeRefused) as refused:
            media_type_of(damaged)
        assert "damaged or incomplete" in refused.value.message
    with pytest.raises(DocumentTypeRefused) as refused:
        media_type_of(b"<!DOCTYPE html><script>alert(1)</script>")
    assert "a web page" in refused.value.message


def test_eleven_megabytes_are_refused_without_being_read_whole(desk):
    session, user, yutai_person, _ = desk

    class Endless(io.RawIOBase):
        """A stream that never ends: a bounded read is the only way to stop."""

        read_bytes = 0

        def read(self, size=-1):
            assert size is not None and 0 < size <= 64 * 1024
            self.read_bytes += size
            return b"%" * size

    stream = Endless()
    with pytest.raises(DocumentTooLarge) as refused:
        store_document(session, user("charity_yutai"), stream, "bill.pdf")
    assert refused.value.status == 413 and str(refused.value.message) == "A document may be at most 10 MB."
    assert stream.read_bytes == DOCUMENT_MAX_BYTES + 1
    declared = io.BytesIO(b"%PDF-")
    with pytest.raises(DocumentTooLarge):
        store_document(session, user("charity_yutai"), declared, "bill.pdf", content_length=11 * 1024 * 1024)
    assert declared.tell() == 0  # refused on the declared length, nothing read
    with pytest.raises(DocumentEmpty):
        store_document(session, user("charity_yutai"), io.BytesIO(b""), "bill.pdf")


def test_the_same_file_twice_is_stored_once(desk):
    session, user, yutai_person, _ = desk
    first = attach_upload(session, user("charity_yutai"), "aid_person", yutai_person, DocumentKind.hospital_bill,
                          io.BytesIO(PDF), "发票.pdf")
    again = attach_upload(session, user("reviewer_yutai"), "aid_person", yutai_person, DocumentKind.hospital_bill,
                          io.BytesIO(PDF), "copy.pdf")
    other_kind = attach_upload(session, user("reviewer_yutai"), "aid_person", yutai_person, DocumentKind.other,
                               io.BytesIO(PDF), "copy.pdf")
    assert again.id == first.id and other_kind.id != first.id
    assert other_kind.document_id == first.document_id
    assert session.scalar(sa.select(sa.func.count(StoredDocument.id))) == 1
    files = [path for path in stored_path(first.document.sha256).parent.iterdir()]
    assert [path.name for path in files] == [first.document.sha256]  # no temporary file left behind
    assert [link.id for link in documents_of(session, user("reviewer_yutai"), "aid_person", yutai_person)] == \
        [first.id, other_kind.id]


def test_a_record_out_of_sight_has_no_documents(desk):
    session, user, yutai_person, rencheng_person = desk
    link = attach_upload(session, user("charity_yutai"), "aid_person", yutai_person, DocumentKind.id_copy,
                         io.BytesIO(PDF), "id.pdf")
    with pytest.raises(NotFound):
        attach_upload(session, user("charity_yutai"), "aid_person", rencheng_person, DocumentKind.id_copy,
                      io.BytesIO(PDF), "id.pdf")
    with pytest.raises(Forbidden):  # auditors read, never attach
        attach_upload(session, user("auditor"), "aid_person", yutai_person, DocumentKind.id_copy,
                      io.BytesIO(PDF), "id.pdf")
    with pytest.raises(NotFound):
        open_document(session, user("charity_yutai"), link.id + 1)
    with pytest.raises(NotFound):
        documents_of(session, user("reviewer_yutai"), "no_such_owner", yutai_person)
    assert open_document(session, user("auditor"), link.id).path.read_bytes() == PDF


def attached(app, username, county_code, kind, content, filename) -> int:
    """The link of a document attached to the first person of the county, committed in a context of its own
    (so that each request after it signs in as its own user)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        county = db.session.scalar(sa.select(Region.id).where(Region.code == county_code))
        person_id = db.session.scalar(sa.select(Person.id).where(Person.county_id == county).order_by(Person.id))
        link_id = attach_upload(db.session, user, "aid_person", person_id, kind, io.BytesIO(content), filename).id
        db.session.commit()
    return link_id


def test_a_download_out_of_scope_answers_404(demo_app):
    link_id = attached(demo_app, "charity_yutai", "370827", DocumentKind.hospital_bill, png_bytes(), "住院发票.pdf")
    own = signed_in_client(demo_app, "charity_yutai").get(f"/documents/{link_id}")
    assert own.status_code == 200 and own.data == png_bytes()
    assert own.mimetype == "image/png"
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in own.headers["Content-Disposition"] and ".png" in own.headers["Content-Disposition"]
    assert own.headers["Cache-Control"] == "private, no-store"
    assert signed_in_client(demo_app, "reviewer_yutai").get(f"/documents/{link_id}").status_code == 200
    assert signed_in_client(demo_app, "auditor").get(f"/documents/{link_id}").status_code == 200
    # the vendor may not see the registry at all: the document is not there for it (404, not 403)
    assert signed_in_client(demo_app, "vendor").get(f"/documents/{link_id}").status_code == 404
    assert signed_in_client(demo_app, "charity_yutai").get(f"/documents/{link_id + 1}").status_code == 404
    assert demo_app.test_client().get(f"/documents/{link_id}").status_code in (302, 401)


def test_a_person_of_another_county_has_no_documents_for_a_county_reviewer(demo_app):
    link_id = attached(demo_app, "reviewer", "370811", DocumentKind.diagnosis, jpeg_bytes(), "诊断.jpg")
    assert signed_in_client(demo_app, "reviewer").get(f"/documents/{link_id}").status_code == 200
    for outsider in ("reviewer_yutai", "charity_yutai"):
        assert signed_in_client(demo_app, outsider).get(f"/documents/{link_id}").status_code == 404


def test_names_are_kept_without_paths_or_control_characters():
    from ledger.documents.models import MediaType

    assert sanitised_filename("C:\\Users\\张三\\诊断证明.PDF", MediaType.pdf) == "诊断证明.pdf"
    assert sanitised_filename("a\x00b\u202e<script>.jpg", MediaType.jpeg) == "ab_script.jpg"
    assert sanitised_filename("....", MediaType.png) == "document.png"
    assert len(sanitised_filename("长" * 500 + ".pdf", MediaType.pdf)) == 120


def test_the_shared_list_links_each_document_to_its_checked_download(demo_app):
    from flask import render_template_string

    with demo_app.app_context():
        charity = db.session.scalar(sa.select(User).where(User.username == "charity_yutai"))
        yutai = db.session.scalar(sa.select(Region.id).where(Region.code == "370827"))
        person_id = db.session.scalar(sa.select(Person.id).where(Person.county_id == yutai).order_by(Person.id))
        attach_upload(db.session, charity, "aid_person", person_id, DocumentKind.hospital_bill,
                      io.BytesIO(PDF), "发票.pdf")
        links = documents_of(db.session, charity, "aid_person", person_id)
        from ledger.documents.forms import DocumentUploadForm

        with demo_app.test_request_context("/?lang=en"):
            html = render_template_string(
                '{% from "_documents.html" import document_list, document_upload %}'
                '{{ document_list(links) }}{{ document_upload(form, "/upload") }}{{ document_list([]) }}',
                links=links, form=DocumentUploadForm())
    assert f'href="/documents/{links[0].id}"' in html and "发票.pdf" in html and "Hospital bill" in html
    assert f"{len(PDF)} B" in html
    assert 'enctype="multipart/form-data"' in html and 'accept=".pdf,.jpg,.jpeg,.png' in html
    assert "No documents attached yet." in html


def test_an_upload_request_may_carry_ten_megabytes_and_a_larger_declared_one_is_refused_unread(demo_app):
    from ledger.documents.views import FORM_OVERHEAD_BYTES, allow_document_uploads

    assert demo_app.config["MAX_CONTENT_LENGTH"] < DOCUMENT_MAX_BYTES  # every other request stays small
    with demo_app.test_request_context("/", method="POST", environ_overrides={"CONTENT_LENGTH": str(11 * 1024 * 1024)}):
        with pytest.raises(DocumentTooLarge):
            allow_document_uploads()
    declared = {"CONTENT_LENGTH": str(DOCUMENT_MAX_BYTES)}
    with demo_app.test_request_context("/", method="POST", environ_overrides=declared):
        from flask import request

        allow_document_uploads()
        assert request.max_content_length == DOCUMENT_MAX_BYTES + FORM_OVERHEAD_BYTES
