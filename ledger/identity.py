"""Identity numbers: resident ID (居民身份证号) and unified social credit code (统一社会信用代码).

One function per rule, called by every schema, form, import, service, export and PDF:

* `validate_resident_id`: 18 characters, the first 17 digits, a real birth date not in the
  future, a region code that ever existed (python-stdnum's table of codes with their years),
  and the GB 11643 check character. The region is NOT checked against the birth year: an ID
  carries the code of the place where it was issued, often decades after the birth (a
  person born in 1952 holds a 370827 ID although 鱼台县's code dates from later), and
  most of the people this programme pays are elderly.
* `validate_credit_code`: GB 32100 check character (python-stdnum).
* `mask_id_number` / `shown_counterparty_id`: a person's or organisation's number is
  shown as 3708**********1234 in lists, exports and PDFs; a fund's code is not a secret.
"""
from __future__ import annotations

import functools
import re
from datetime import date

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from .errors import _l
from .timeutil import local_today


#: The earliest birth year an ID may carry: the first resident IDs were issued in 1984, to living people.
RESIDENT_ID_BORN_YEAR_MIN = 1900


class IdentityNumberError(ValueError):
    """Not a valid identity number; the message says why (a deferred `ledger.errors.Message`: English
    for the logs, the reader's language when shown).

    `reason` names the rule that failed (`length`, `characters`, `date`, `date_range`, `region`,
    `check_digit`, `credit_code`) and `details` its figures, so that a web form can say the same in the
    reader's language: this module sits under the journal and may not import Flask-Babel.
    """

    def __init__(self, message: str, reason: str = "invalid", **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


_PLAIN_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]\Z", re.ASCII)


@functools.lru_cache(maxsize=8192)
def region_code_existed(code: str) -> bool:
    """Whether the 6-digit administrative division code was ever assigned (at any time)."""
    results = numdb.get("cn/loc").info(code)
    return any(props.get("county") for _part, props in results)


def resident_id_birth_date(number: str) -> date:
    """The birth date an 18-character resident ID carries (YYYYMMDD at positions 7-14)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def resident_id_sex(number: str) -> str:
    """'male' or 'female', from the 17th digit (odd: male)."""
    return "male" if int(number[16]) % 2 else "female"


def validate_resident_id(value: str) -> str:
    """Return the compact 18-character resident ID (upper-case X), or raise IdentityNumberError
    saying plainly what is wrong."""
    # The common case, 18 plain characters, skips python-stdnum's general clean-up (a third of
    # an import's time); anything else (spaces, dashes, lower-case x) is compacted by it.
    number = value if value and len(value) == 18 and _PLAIN_RESIDENT_ID.match(value) else ric.compact(value or "")
    if len(number) != 18:
        raise IdentityNumberError(_l("a resident ID number has 18 characters, not %(length)s", length=len(number)),
                                  "length",
                                  length=len(number))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdentityNumberError(_l("a resident ID number is 17 digits and a last digit or X"), "characters")
    try:
        born = resident_id_birth_date(number)
    except ValueError:
        raise IdentityNumberError(_l("the birth date in it (%(digits)s) is not a real date", digits=number[6:14]),
                                  "date",
                                  digits=number[6:14]) from None
    if born > local_today() or born.year < RESIDENT_ID_BORN_YEAR_MIN:
        raise IdentityNumberError(_l("the birth date in it (%(digits)s) is in the future or before %(year)s",
                                     digits=number[6:14], year=RESIDENT_ID_BORN_YEAR_MIN), "date_range",
                                  digits=number[6:14])
    if not region_code_existed(number[:6]):
        raise IdentityNumberError(_l("its region code %(region)s was never assigned", region=number[:6]), "region",
                                  region=number[:6])
    if number[17] != ric.calc_check_digit(number):
        raise IdentityNumberError(_l("wrong check digit: the last character does not match the others "
                                     "(a digit is mistyped)"), "check_digit")
    return number


def validate_credit_code(value: str) -> str:
    try:
        return uscc.validate(value)
    except StdnumError as error:
        raise IdentityNumberError(
            _l("not a valid unified social credit code (%(problem)s)", problem=error.message.lower()), "credit_code"
        ) from None


def mask_id_number(value: str | None) -> str:
    """3708**********1234: the first 4 and last 4 characters, the rest hidden."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def shown_counterparty_id(kind: str | None, id_number: str | None) -> str:
    """A counterparty's number as it may be shown: masked for every kind of payee or payer, as it
    is for a fund (allocations name the other fund by its code, which is not a secret)."""
    if not id_number:
        return ""
    return id_number if kind == "fund" else mask_id_number(id_number)
