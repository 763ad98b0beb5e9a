"""Identity numbers: resident ID (居民身份证号) and unified social credit code (统一社会信用代码).

Both are checked by their checksums (python-stdnum) and masked wherever shown.
"""
from __future__ import annotations

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError


class IdentityNumberError(ValueError):
    """Not a valid identity number; the message says why."""


def validate_resident_id(value: str) -> str:
    """Return the compact 18-character resident ID, or raise IdentityNumberError."""
    try:
        return ric.validate(value)
    except StdnumError as error:
        raise IdentityNumberError(f"not a valid resident ID number ({error.message.lower()})") from None


def validate_credit_code(value: str) -> str:
    try:
        return uscc.validate(value)
    except StdnumError as error:
        raise IdentityNumberError(
            f"not a valid unified social credit code ({error.message.lower()})"
        ) from None


def mask_id_number(value: str | None) -> str:
    """3708**********1234: the first 4 and last 4 characters, the rest hidden."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
