"""Uploaded documents for any feature: check the content, store it once by its hash, link it to a
record, and open it only for those who may see that record.

A feature attaches files with two calls:

    documents.register_owner("aid_application", read=check_read, write=check_write)   # once, at import
    documents.attach_upload(session, actor, "aid_application", application.id, DocumentKind.hospital_bill,
                            upload.stream, upload.filename, content_length=request.content_length)

and lists them with `documents_of(session, actor, owner_kind, owner_id)`. `read` / `write` are the
feature's own access checks, `check(session, actor, owner_id)`, raising NotFound (404) when the
actor may not see (or change) the record; `open_document` calls `read` before it hands out a file,
so a download is refused exactly like the record itself. An owner kind that was never registered
opens nothing (404).

What is accepted (the rules, in order):

* the declared length first (`content_length`, the request's Content-Length) and then a bounded
  read (at most `DOCUMENT_MAX_BYTES` + 1 bytes are ever read): a file over 10 MB is refused without
  being read into memory whole (`DocumentTooLarge`); an empty one is refused (`DocumentEmpty`);
* the type is read from the content, never from the name or the declared Content-Type: a PDF
  (`%PDF-` and an `%%EOF` near its end), a PNG (its signature, an IHDR chunk whose CRC holds and
  whose size is not zero, IEND at the end) or a JPEG (SOI, a frame header with a size before the
  scan, EOI at the end). Anything else is refused and named (`DocumentTypeRefused`: an executable,
  a ZIP archive, an HTML page ...);
* the name is kept sanitised (no path, no control or refused characters, at most 120 characters)
  with the extension of the type found: a PNG uploaded as `bill.pdf` is kept as `bill.png`.

Storage: `DOCUMENTS_DIR` (default instance/documents/, outside the web root, created when first
needed), one file per content named by its SHA-256 in a two-character fan-out folder. A file is
written to a temporary name in the same folder and renamed into place (atomic on POSIX), so a
reader never sees half a file; the same content uploaded twice is written once and stored once
(`stored_documents.sha256` is unique; the row is claimed with INSERT ... ON CONFLICT DO NOTHING).
A file written for a transaction that then rolls back stays on disk, unreferenced, and is reused by
the next upload of the same bytes: the content is the name, so it can never be the wrong file.

Services flush, never commit.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

import sqlalchemy as sa

from ..auth.access import Actor, require
from ..db_base import dialect_insert
from ..errors import Forbidden, NotFound, PayloadTooLarge, ValidationError, _l
from ..timeutil import utcnow
from .models import DocumentKind, DocumentLink, MediaType, StoredDocument

DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
FILENAME_MAX = 120
_READ_CHUNK = 64 * 1024
_EXTENSIONS = {MediaType.pdf: ".pdf", MediaType.jpeg: ".jpg", MediaType.png: ".png"}


class DocumentTypeRefused(ValidationError):
    """Only PDF, JPEG and PNG documents are accepted.

    The type is read from the file's content, not from its name or the type the browser declared."""

    code = "document_type_refused"


class DocumentTooLarge(PayloadTooLarge):
    """A document may be at most 10 MB.

    The limit holds for each file; larger files are refused before they are read whole."""

    code = "document_too_large"


class DocumentEmpty(ValidationError):
    """The file is empty: choose the document again."""

    code = "document_empty"


# --- owners: the features whose records carry documents ------------------------------------------

OwnerCheck = Callable[[object, Actor, int], object]


@dataclass(frozen=True)
class Owner:
    read: OwnerCheck
    write: OwnerCheck


_OWNERS: dict[str, Owner] = {}


def register_owner(owner_kind: str, *, read: OwnerCheck, write: OwnerCheck | None = None) -> None:
    """Let records of `owner_kind` carry documents. `read(session, actor, owner_id)` and
    `write(...)` (default: `read`) raise NotFound when the actor may not see / change the record."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", owner_kind):
        raise ValueError(f"owner kind {owner_kind!r}: lower-case letters, digits and _, at most 40")
    _OWNERS[owner_kind] = Owner(read, write or read)


def _owner(owner_kind: str) -> Owner:
    owner = _OWNERS.get(owner_kind)
    if owner is None:
        raise NotFound(f"no documents for {owner_kind!r}")
    return owner


# --- the content -----------------------------------------------------------------------------------

#: Types that are refused, by what their content starts with, and how the refusal names them.
_REFUSED_SIGNATURES: tuple[tuple[bytes, object], ...] = (
    (b"\x7fELF", _l("a program (an ELF executable)")),
    (b"MZ", _l("a Windows program (an executable)")),
    (b"\xca\xfe\xba\xbe", _l("a program (a Mach-O executable)")),
    (b"\xcf\xfa\xed\xfe", _l("a program (a Mach-O executable)")),
    (b"#!", _l("a script")),
    (b"PK\x03\x04", _l("a ZIP archive (or an Office document)")),
    (b"Rar!", _l("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _l("a 7-Zip archive")),
    (b"\x1f\x8b", _l("a gzip archive")),
    (b"\xd0\xcf\x11\xe0", _l("an old Office document")),
    (b"GIF8", _l("a GIF image")),
    (b"RIFF", _l("a RIFF file (WebP image, audio or video)")),
    (b"II*\x00", _l("a TIFF image")),
    (b"MM\x00*", _l("a TIFF image")),
    (b"BM", _l("a BMP image")),
)
_MARKUP = re.compile(rb"^\s*<(!doctype|html|script|svg|\?xml)", re.IGNORECASE)


def _pdf_ok(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def _png_ok(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 8 + 25 + 12:
        return False
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    if chunk_type != b"IHDR" or length != 13:
        return False
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    width, height = struct.unpack(">II", body[:8])
    return zlib.crc32(b"IHDR" + body) == crc and width > 0 and height > 0 and \
        data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_ok(data: bytes) -> bool:
    """SOI, then marker segments up to the first scan (SOS) among which a frame header (SOFn)
    gives a size, and EOI at the end (trailing padding of zero bytes allowed)."""
    if not data.startswith(b"\xff\xd8\xff") or not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return False
    position, sized = 2, False
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:  # segments without a length
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        if length < 2 or position + 2 + length > len(data):
            return False
        if marker in _JPEG_FRAMES and length >= 8:
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            sized = height > 0 and width > 0
        if marker == 0xDA:
            return sized
        position += 2 + length
    return False


def media_type_of(data: bytes) -> MediaType:
    """The type of a document from its content; DocumentTypeRefused naming what it is otherwise."""
    for media_type, ok in ((MediaType.pdf, _pdf_ok), (MediaType.png, _png_ok), (MediaType.jpeg, _jpeg_ok)):
        if ok(data):
            return media_type
    what = next((name for signature, name in _REFUSED_SIGNATURES if data.startswith(signature)), None)
    if what is None and _MARKUP.match(data[:512]):
        what = _l("a web page or markup (HTML, SVG, XML)")
    if what is None and (data[:4] in (b"%PDF", b"\x89PNG") or data[:3] == b"\xff\xd8\xff"):
        what = _l("a damaged or incomplete PDF, JPEG or PNG")
    if what is None:
        what = _l("of a type that is not accepted")
    raise DocumentTypeRefused(_l("This file is %(what)s: only PDF, JPEG and PNG documents are accepted.", what=what),
                              fields={"file": [_l("not a PDF, JPEG or PNG document")]})


def read_upload(stream: BinaryIO, content_length: int | None = None, limit: int = DOCUMENT_MAX_BYTES) -> bytes:
    """The bytes of an upload, at most `limit`: refused by the declared length before any read,
    and by a read of at most `limit` + 1 bytes (a length may be missing or false)."""
    too_large = DocumentTooLarge(fields={"file": [_l("larger than %(limit)s MB", limit=limit // (1024 * 1024))]})
    if content_length is not None and content_length > limit:
        raise too_large
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large
    if size == 0:
        raise DocumentEmpty(fields={"file": [_l("the file is empty")]})
    return b"".join(chunks)


_FILENAME_REFUSED = re.compile(r"[^\w .\-()（）\[\]]+", re.UNICODE)


def sanitised_filename(filename: str, media_type: MediaType) -> str:
    """The name without any path, control or unusual characters, at most FILENAME_MAX characters,
    ending in the extension of the type found in the content."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(character for character in name if unicodedata.category(character)[0] != "C")
    stem = _FILENAME_REFUSED.sub("_", os.path.splitext(name)[0]).strip(" ._") or "document"
    extension = _EXTENSIONS[media_type]
    return stem[:FILENAME_MAX - len(extension)] + extension


# --- storage ---------------------------------------------------------------------------------------

_DIRECTORY: dict[str, Path] = {}


def configure(directory: str | os.PathLike) -> None:
    """Where the files are kept when no app is running (a script); an app's DOCUMENTS_DIR wins."""
    _DIRECTORY["path"] = Path(directory)


def _directory() -> Path:
    """DOCUMENTS_DIR of the running app; outside one, what `configure` was given."""
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.config["DOCUMENTS_DIR"])
    if "path" not in _DIRECTORY:
        raise RuntimeError("no app, and documents.configure(DOCUMENTS_DIR) was not called")
    return _DIRECTORY["path"]


def stored_path(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256")
    return _directory() / sha256[:2] / sha256


def _write_once(sha256: str, data: bytes) -> None:
    """The content under its hash, written to a temporary file and renamed into place; nothing is
    written when a complete file of that hash is there already."""
    path = stored_path(sha256)
    if path.is_file() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def store_document(session, who, stream: BinaryIO, filename: str, *,
                   content_length: int | None = None) -> StoredDocument:
    """Check an upload and keep it once by its hash; returns its row (an existing one for the same bytes)."""
    actor = require(who, "documents.write")
    data = read_upload(stream, content_length)
    media_type = media_type_of(data)
    sha256 = hashlib.sha256(data).hexdigest()
    _write_once(sha256, data)
    table = StoredDocument.__table__
    session.execute(dialect_insert(session, table).values(
        sha256=sha256, size_bytes=len(data), media_type=media_type.value,
        filename=sanitised_filename(filename, media_type), uploaded_by_user_id=actor.user_id, uploaded_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["sha256"]))
    return session.scalar(sa.select(StoredDocument).where(StoredDocument.sha256 == sha256))


def attach_upload(session, who, owner_kind: str, owner_id: int, kind: DocumentKind, stream: BinaryIO,
                  filename: str, *, content_length: int | None = None) -> DocumentLink:
    """Check and store an upload and attach it to the record `owner_kind` `owner_id` (which the
    actor must be allowed to change: the owner's `write` check). The same content attached again
    to the same record as the same kind answers the existing link."""
    actor = require(who, "documents.write")
    _owner(owner_kind).write(session, actor, owner_id)
    document = store_document(session, actor, stream, filename, content_length=content_length)
    kind = DocumentKind(kind)
    # Claimed like the content: the same link made twice at once is one link (the unique constraint).
    session.execute(dialect_insert(session, DocumentLink.__table__).values(
        document_id=document.id, owner_kind=owner_kind, owner_id=owner_id, kind=kind.value,
        filename=sanitised_filename(filename, document.media_type), linked_by_user_id=actor.user_id,
        linked_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["owner_kind", "owner_id", "document_id", "kind"]))
    return session.scalar(sa.select(DocumentLink).where(
        DocumentLink.owner_kind == owner_kind, DocumentLink.owner_id == owner_id,
        DocumentLink.document_id == document.id, DocumentLink.kind == kind))


def documents_of(session, who, owner_kind: str, owner_id: int) -> list[DocumentLink]:
    """The documents attached to a record the actor may see, oldest first."""
    actor = require(who, "documents.read")
    _owner(owner_kind).read(session, actor, owner_id)
    return list(session.scalars(sa.select(DocumentLink).where(
        DocumentLink.owner_kind == owner_kind, DocumentLink.owner_id == owner_id).order_by(DocumentLink.id)))


@dataclass(frozen=True)
class OpenedDocument:
    link: DocumentLink
    path: Path

    @property
    def media_type(self) -> str:
        return MediaType(self.link.document.media_type).value


def open_document(session, who, link_id: int) -> OpenedDocument:
    """A document for download, after the owning record's own access check: NotFound (404) for
    anyone who may not see the record, exactly as for a link that does not exist."""
    actor = require(who, "documents.read")
    link = session.get(DocumentLink, link_id)
    if link is None:
        raise NotFound(f"no document {link_id}")
    owner = _OWNERS.get(link.owner_kind)
    if owner is None:
        raise NotFound(f"no document {link_id}")
    try:
        owner.read(session, actor, link.owner_id)
    except Forbidden:
        # A role that may not read such records at all learns no more than one out of scope.
        raise NotFound(f"no document {link_id}") from None
    path = stored_path(link.document.sha256)
    if not path.is_file():
        raise NotFound(f"document {link_id} is not in the store")
    return OpenedDocument(link, path)
