"""Uploads kept between a preview and its import: stored under UPLOADS_DIR/<folder> by their
SHA-256 (outside the web root), so that a preview page carries only the digest and the import
reads the very bytes that were previewed."""
from __future__ import annotations

import re
from pathlib import Path

from flask import current_app

from ..errors import NotFound


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
