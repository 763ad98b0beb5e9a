"""Text at the edges: which characters a text field may hold, and how text leaves in files.

One owner for the rule (as `money.py` owns amounts): the API schemas (`ledger.schemas`), the
web forms (`ledger.forms`) and every export (CSV, XLSX, PDF) call these functions.

* `text_problem(value)`: a text typed by a person may hold any printable character, spaces,
  tabs and line breaks. It may not hold other control characters (C0 except tab and line
  feed, DEL, C1), lone UTF-16 surrogates or the non-characters U+FFFE / U+FFFF: PostgreSQL
  refuses NUL, a lone surrogate cannot be encoded as UTF-8 at all, and XML (XLSX, the PDFs'
  paragraphs) has no way to write the others, so one such character in a memo would break
  every register above its fund for good (entries are never deleted). They are refused at
  the edge with 422 naming the field. A carriage return before a line feed (what browsers
  send from a text area) is read as a line break (`normalised_text`).
* `export_text(value)`: what is already stored is written whatever it holds: the characters
  above (but CR, which XML can hold) are replaced by U+FFFD, so a file is always well formed.
* `spreadsheet_text(value)`: a text cell of any CSV / XLSX the product writes. A cell a
  spreadsheet would read as a formula (OWASP "CSV injection": starting with =, +, -, @, tab,
  CR, or their fullwidth forms ＝＋－＠, which spreadsheet programs in a Chinese locale
  also read as formula starts) gets a leading apostrophe.
* `ascii_digits_from_fullwidth(value)`: a Chinese input method types fullwidth digits
  (０-９); the web forms turn those (and only those) into ASCII digits before parsing an
  amount or a date. The API takes ASCII digits only.

This module imports nothing of the product, so every layer may use it.
"""
from __future__ import annotations

import re

#: Characters a text field refuses (see the module docstring). Tab (\t) and line feed (\n) are allowed,
#: and so is a carriage return right before a line feed (a browser's text area sends CR LF).
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]|\r(?!\n)")
#: The refused characters' rule as an OpenAPI (ECMA-262) pattern for a text field of a request: any
#: text without them (CR only in CR LF, written without a lookahead so that generators can use it).
#: Lone surrogates are left out: a UTF-8 body cannot carry them.
_TEXT_CHARACTER = r"(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffe\uffff]|\r\n)"
TEXT_PATTERN = rf"^{_TEXT_CHARACTER}*$"
#: The same for a text that must say something (a reason, a name): at least one character that is
#: not white space as Python's `str.strip()` counts it, so that a generated "\r\n" or "　" (which
#: the server refuses as blank) is not documented as valid.
NON_BLANK_TEXT_PATTERN = (rf"^{_TEXT_CHARACTER}*"
                          r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufffe\uffff]"
                          rf"{_TEXT_CHARACTER}*$")
#: Characters an export replaces: the refused ones except CR, which XML (and so XLSX) can hold
#: and which older entries may carry in their memos.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: What a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
REPLACEMENT = "\ufffd"


def _describe(character: str) -> str:
    return f"U+{ord(character):04X}"


def normalised_text(value: str) -> str:
    """Line breaks as line feeds: CR LF (what a browser's text area sends) becomes LF."""
    return value.replace("\r\n", "\n")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as typed text (an English sentence naming the first bad
    character and its position), or None when it can."""
    match = _REFUSED.search(value)
    if match is None:
        return None
    return (f"must not contain the control character {_describe(match.group())} (at position "
            f"{match.start() + 1}); remove it and send the text again")


def safe_name(value: str) -> str:
    """A name (of a field, for an error message) with refused characters replaced, so that an
    answer never echoes a character that cannot be encoded."""
    return _REFUSED.sub(REPLACEMENT, value)


def export_text(value) -> str:
    """Stored text as a file may hold it: characters XML cannot hold (control characters other
    than tab, LF and CR, lone surrogates, U+FFFE / U+FFFF) and C1 controls replaced by U+FFFD."""
    if value is None:
        return ""
    return _UNWRITABLE.sub(REPLACEMENT, str(value))


def spreadsheet_text(value) -> str:
    """`value` as a spreadsheet cell shows it and never runs it: refused characters replaced
    (`export_text`), and a leading apostrophe before a text that would start a formula
    ("=HYPERLINK(...)" -> "'=HYPERLINK(...)")."""
    text = export_text(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def ascii_digits_from_fullwidth(value: str) -> str:
    """"２０２６－１２－０１" digits as "2026－12－01": fullwidth digits only, nothing else."""
    return value.translate(_FULLWIDTH_DIGITS)
