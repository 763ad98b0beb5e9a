"""Uploads kept between a preview and its import: stored under UPLOADS_DIR/<folder> by their
SHA-256 (outside the web root), so that a preview page carries only the digest and the import
reads the very bytes that were previewed."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, request

from ..errors import NotFound
from ..extensions import db
from ..imports import ImportFileRefused


def _directory(folder: str) -> Path:
    return Path(current_app.config["UPLOADS_DIR"]) / folder


def keep_upload(folder: str, sha256: str, data: bytes) -> None:
    directory = _directory(folder)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / sha256).write_bytes(data)


def kept_upload(folder: str, sha256: str) -> bytes:
    """The bytes kept under `sha256`; NotFound for a digest that names no kept upload."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise NotFound("no such upload")
    path = _directory(folder) / sha256
    if not path.is_file():
        raise NotFound("no such upload")
    return path.read_bytes()


@dataclass
class UploadPreview:
    """What an import page shows after an upload: the parsed file (None before one), the batch of
    an earlier import of the same file, the refusal of a file that cannot be read, the status."""

    parsed: object = None
    previous: object = None
    refusal: str | None = None
    status: int = 200


def preview_upload(form, folder: str, max_bytes: int, preview, imported_before) -> UploadPreview:
    """Step 1 of every import page: on a valid POST of `form` (its `file` field), read at most
    `max_bytes`, `preview(data, filename)` it (nothing is written: the session is rolled back),
    look up `imported_before(sha256)` and keep the bytes for step 2 (`kept_upload`). A file the
    pipeline refuses becomes `refusal` with status 422."""
    outcome = UploadPreview()
    if request.method != "POST":
        return outcome
    if not form.validate_on_submit():
        outcome.status = 422
        return outcome
    data = form.file.data.read(max_bytes + 1)
    filename = os.path.basename(form.file.data.filename or "")
    try:
        if len(data) > max_bytes:
            raise ImportFileRefused(f"the file is larger than {max_bytes} bytes")
        outcome.parsed = preview(data, filename)
        outcome.previous = imported_before(outcome.parsed.sha256)
        keep_upload(folder, outcome.parsed.sha256, data)
        db.session.rollback()  # a preview writes nothing
    except ImportFileRefused as error:
        db.session.rollback()
        outcome.refusal, outcome.status = error.message, 422
    return outcome
