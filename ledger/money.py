"""Money at the edges: decimal strings in, integer fen inside, formatted strings out.

Amounts are integer fen (1 yuan = 100 fen) everywhere inside the product. This
module is the only place that converts between fen and text. Floats are refused:
a JSON number such as 12.5 is not an amount, "12.50" is.
"""
from __future__ import annotations

import re

from .errors import _l

#: Largest amount accepted at the edges: 10^12 yuan.
MAX_AMOUNT_FEN = 10**12 * 100

#: The text of an amount, exactly as the edges accept it and as the OpenAPI document states it (so that
#: generated clients and fuzzers make valid amounts): ASCII digits, at most two decimals, at most twelve
#: digits before the point, or the largest amount itself. Zero is refused on top (`ZERO_AMOUNT_PATTERN`).
#: `[0-9]`, never `\d`, which would also read "١٠٠" or "１００" (digits of other scripts).
AMOUNT_PATTERN = r"^(?:[0-9]{1,12}(?:\.[0-9]{1,2})?|1000000000000(?:\.0{1,2})?)$"
#: The texts of zero, which match AMOUNT_PATTERN and are refused where an amount must be positive.
ZERO_AMOUNT_PATTERN = r"^0+(?:\.0{1,2})?$"

_AMOUNT_RE = re.compile(AMOUNT_PATTERN, re.ASCII)
_LOOKS_LIKE_AMOUNT_RE = re.compile(r"^[0-9]+(?:\.[0-9]*)?$", re.ASCII)


class AmountError(ValueError):
    """A text that is not a valid amount; the message says why."""


def parse_amount(value, *, allow_zero: bool = False) -> int:
    """Parse a yuan decimal string such as "1234.56" into fen (123456).

    Refuses floats, ints given as JSON numbers, negatives, zero (unless allowed),
    more than two decimals, thousands separators, digits other than ASCII 0-9 and
    amounts over 10^12 yuan.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError(_l('must be a decimal string such as "1234.56", not a number'))
    text = value.strip()
    if text.startswith("-"):
        raise AmountError(_l("must not be negative"))
    if not _AMOUNT_RE.match(text):
        if _LOOKS_LIKE_AMOUNT_RE.match(text):
            whole, _, part = text.partition(".")
            if len(part) > 2:
                raise AmountError(_l("must have at most 2 decimal places (fen)"))
            if len(whole) > 12:
                raise AmountError(_l("must not exceed 1,000,000,000,000.00 yuan"))
        raise AmountError(_l('must be a decimal amount in yuan such as "1234.56", in the digits 0-9'))
    whole, _, part = text.partition(".")
    fen = int(whole) * 100 + int(part.ljust(2, "0"))
    if fen == 0 and not allow_zero:
        raise AmountError(_l("must be greater than zero"))
    assert 0 <= fen <= MAX_AMOUNT_FEN, "AMOUNT_PATTERN bounds the amount"
    return fen


def fen_to_decimal_string(fen: int) -> str:
    """123456 -> "1234.56"; -5 -> "-0.05". The API's amount format."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{part:02d}"


def format_cny(fen: int, *, symbol: bool = True) -> str:
    """123456789 -> "¥1,234,567.89"; negatives as "-¥1,234.56"."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), 100)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{part:02d}"
