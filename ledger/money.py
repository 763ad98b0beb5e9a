"""Money at the edges: decimal strings in, integer fen inside, formatted strings out.

Amounts are integer fen (1 yuan = 100 fen) everywhere inside the product. This
module is the only place that converts between fen and text. Floats are refused:
a JSON number such as 12.5 is not an amount, "12.50" is.
"""
from __future__ import annotations

import re

#: Largest amount accepted at the edges: 10^12 yuan.
MAX_AMOUNT_FEN = 10**12 * 100

#: ASCII digits only: `\d` alone would also read "١٠٠" or "１００" (digits of other scripts).
_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]{1,13})(?:\.(?P<frac>[0-9]{1,2}))?$", re.ASCII)


class AmountError(ValueError):
    """A text that is not a valid amount; the message says why."""


def parse_amount(value, *, allow_zero: bool = False) -> int:
    """Parse a yuan decimal string such as "1234.56" into fen (123456).

    Refuses floats, ints given as JSON numbers, negatives, zero (unless allowed),
    more than two decimals, thousands separators, digits other than ASCII 0-9 and
    amounts over 10^12 yuan.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError('must be a decimal string such as "1234.56", not a number')
    text = value.strip()
    if text.startswith("-"):
        raise AmountError("must not be negative")
    match = _AMOUNT_RE.match(text)
    if not match:
        if re.match(r"^[0-9]+\.[0-9]{3,}$", text, re.ASCII):
            raise AmountError("must have at most 2 decimal places (fen)")
        raise AmountError('must be a decimal amount in yuan such as "1234.56", in the digits 0-9')
    fen = int(match["int"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
    if fen == 0 and not allow_zero:
        raise AmountError("must be greater than zero")
    if fen > MAX_AMOUNT_FEN:
        raise AmountError("must not exceed 1,000,000,000,000.00 yuan")
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
