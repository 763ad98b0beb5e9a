"""The CJK font embedded in every report: WenQuanYi Micro Hei (TrueType outlines).

It ships in the `paperang-p2-fonts-cjk` package (a TrueType collection), so a
fresh machine renders the same glyphs as ours and no PDF relies on the viewer's
fonts. If it is missing the reports refuse to render (an empty-box PDF is worse
than an error). ReportLab's built-in STSong-Light is never used: it is not embedded.
"""
from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_FILE = "wqy-microhei.ttc"
#: The name the font is registered under in ReportLab and declared under in CSS.
FONT_NAME = "WQYMicroHei"


class FontMissing(RuntimeError):
    """The embedded CJK font is not installed; install `paperang-p2-fonts-cjk` (requirements.txt)."""


@functools.cache
def font_path() -> Path:
    try:
        path = Path(str(importlib.resources.files(FONT_PACKAGE) / "fonts" / FONT_FILE))
    except ModuleNotFoundError:
        raise FontMissing(FontMissing.__doc__) from None
    if not path.is_file():
        raise FontMissing(f"{FONT_FILE} not found at {path}; reinstall paperang-p2-fonts-cjk")
    return path


@functools.cache
def font_bytes() -> bytes:
    return font_path().read_bytes()


@functools.cache
def register_reportlab_font() -> str:
    """Register the font with ReportLab once (subfont 0 of the collection); returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path()), subfontIndex=0))
    return FONT_NAME
