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


_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_PLACES = ("仟", "佰", "拾", "")


def _capital_below_10_000(number: int) -> str:
    """1..9999 in capital digits, one 零 for any run of zeros inside (1005 -> 壹仟零伍)."""
    out, pending_zero = [], False
    for digit, place in zip(f"{number:04d}", _CAPITAL_PLACES):
        if digit == "0":
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_CAPITAL_DIGITS[int(digit)] + place)
    return "".join(out)


def _capital_whole(number: int) -> str:
    """A positive whole number in capital digits with 万 and 亿 (1_0000_1000 -> 壹亿零壹仟)."""
    parts = []
    for unit, size in (("亿", 10**8), ("万", 10**4)):
        high, number = divmod(number, size)
        if high:
            parts.append(_capital_whole(high) + unit)
            # The next group does not fill its highest place: one 零 stands for the gap.
            if 0 < number < size // 10:
                parts.append("零")
    if number:
        parts.append(_capital_below_10_000(number))
    return "".join(parts)


def amount_in_words(fen: int) -> str:
    """An amount in Chinese capital words (大写金额), as written on vouchers and cheques.

    50_000_000 -> "伍拾万元整"; 100_500 -> "壹仟零伍元整"; 100_005 -> "壹仟元零伍分";
    50 -> "伍角整"; 0 -> "零元整". Following the People's Bank rules for writing amounts: one 零
    for a run of zeros inside the yuan (壹拾万零壹拾元整), 零 between 元 and a 分 when the 角 is
    zero, 整 after 元 or 角 and never after 分, 壹拾 (not 拾) for a leading ten. Negative
    amounts read 负... (a reversal's effect); floats and other non-integers are refused.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount_in_words takes integer fen")
    if fen < 0:
        return "负" + amount_in_words(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, fen_digit = divmod(rest, 10)
    if fen == 0:
        return "零元整"
    words = _capital_whole(yuan) + "元" if yuan else ""
    if jiao:
        words += _CAPITAL_DIGITS[jiao] + "角"
    elif fen_digit and yuan:
        words += "零"
    if fen_digit:
        words += _CAPITAL_DIGITS[fen_digit] + "分"
    else:
        words += "整"
    return words
