"""Uploads kept between a preview and its import: stored under UPLOADS_DIR/<folder> by their
SHA-256 (outside the web root), so that a preview page carries only the digest and the import
reads the very bytes that were previewed."""
from __future__ import annotations

import os
import re
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


def preview_upload(form, folder: str, preview, imported_before, max_bytes: int):
    """Step 1 of every web import: when the upload `form` (a `file` field) validates, read at most
    `max_bytes`, `preview(data, filename)` it, keep the bytes for step 2, write nothing.

    Returns (parsed, the batch that imported this file before or None, a refusal message or None,
    the page's status)."""
    if request.method != "POST":
        return None, None, None, 200
    if not form.validate_on_submit():
        return None, None, None, 422
    data = form.file.data.read(max_bytes + 1)
    filename = os.path.basename(form.file.data.filename or "")
    try:
        if len(data) > max_bytes:
            raise ImportFileRefused(f"the file is larger than {max_bytes} bytes")
        parsed = preview(data, filename)
        previous = imported_before(parsed.sha256)
        keep_upload(folder, parsed.sha256, data)
    except ImportFileRefused as error:
        db.session.rollback()
        return None, None, error.message, 422
    db.session.rollback()  # a preview writes nothing
    return parsed, previous, None, 200
