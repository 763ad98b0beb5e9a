"""Uploaded files kept between a preview and its apply step: under UPLOADS_DIR/<folder>/<SHA-256>,
outside the web root, so that a preview page carries only the digest and the apply step reads the
very bytes that were previewed. A digest that is not 64 hex digits, or names no kept file, is no
upload (404)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import current_app

from ..errors import NotFound


def _folder(folder: str) -> Path:
    return Path(current_app.config["UPLOADS_DIR"]) / folder


def keep_upload(folder: str, data: bytes) -> str:
    """Keep the bytes under their SHA-256 (the digest is returned)."""
    sha256 = hashlib.sha256(data).hexdigest()
    directory = _folder(folder)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / sha256).write_bytes(data)
    return sha256


def kept_upload(folder: str, sha256: str) -> bytes:
    """The bytes kept under this digest; NotFound otherwise."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise NotFound("no such upload")
    path = _folder(folder) / sha256
    if not path.is_file():
        raise NotFound("no such upload")
    return path.read_bytes()
