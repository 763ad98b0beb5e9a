"""What a password must be: the one check for every password a person chooses or is given.

Following NIST SP 800-63B (memorised secrets): a length floor and a generous ceiling, any
characters at all (spaces, Chinese, emoji), no composition rules (no "one digit, one capital"),
no expiry; instead a new password is compared with passwords known to be common or breached and
with words of this context. The checks, in the order a person is told about them:

* at least `MIN_LENGTH` characters (12: the password is the only factor protecting relief funds;
  NIST's floor is 8 and its 2024 revision asks 15 for a single factor) and at most `MAX_LENGTH`;
* not one character or a short pattern repeated ("aaaaaaaaaaaa", "abcabcabcabc");
* not one of the 10,000 most common passwords (`data/common-passwords.txt`, loaded once), nor one
  of them with only digits, punctuation or spaces around it ("password2026!"), nor one repeated;
* not the username, nor containing it (usernames of 3 or more characters);
* not containing the name of the product or the city ("jishijiu", "济时救", "jining", "济宁", ...).

`password_problem` returns the first problem as a value (its code, with an English message for the
API and the command line and a translated one for the web pages), or None; the services raise
`WeakPassword` with it. Length is counted in characters (code points), not bytes.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
#: Usernames shorter than this are only refused as the whole password, not as a part of it.
USERNAME_PART_MIN = 3

COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"

#: Words of this product and its place that people put in passwords (compared without case).
CONTEXT_WORDS = ("jishijiu", "ji shi jiu", "济时救", "jining", "济宁", "minzheng", "民政")

_AROUND = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)
_REPEATED = re.compile(r"(.{1,4})\1+", re.DOTALL)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case (read from the file once per process)."""
    return frozenset(line.strip().lower() for line in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
                     if line.strip())


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused: `code`, the English `message`, and `translated()` for people."""

    code: str
    message: str
    params: dict

    def translated(self) -> str:
        return str(_TRANSLATED[self.code]) % self.params


_TRANSLATED = {
    "too_short": _l("Use at least %(min)d characters; a few words with spaces make a good password."),
    "too_long": _l("Use at most %(max)d characters."),
    "repetitive": _l("A password must not be one character or a short pattern repeated."),
    "common": _l("This password is one of the most common passwords (or one with only digits or "
                 "symbols added); choose one that others would not guess."),
    "username": _l("The password must not be or contain the username."),
    "context": _l("The password must not contain the name of this product or of the city (%(word)s)."),
}


def _is_common(lowered: str, common: frozenset[str]) -> bool:
    """Whether the password is a common one, one with only digits, symbols or spaces around it, or
    one repeated ("dragondragon")."""
    core = _AROUND.match(lowered).group(1)
    for candidate in {lowered, core} - {""}:
        if candidate in common:
            return True
        for size in range(1, len(candidate) // 2 + 1):
            count, rest = divmod(len(candidate), size)
            if rest == 0 and candidate[:size] * count == candidate and candidate[:size] in common:
                return True
    return False


def password_problem(password: str, username: str | None = None) -> PasswordProblem | None:
    """The first reason to refuse `password` for the user `username`, or None when it is fine."""
    length = len(password)
    if length < MIN_LENGTH:
        return PasswordProblem("too_short", f"must be at least {MIN_LENGTH} characters (this one has {length})",
                               {"min": MIN_LENGTH})
    if length > MAX_LENGTH:
        return PasswordProblem("too_long", f"must be at most {MAX_LENGTH} characters", {"max": MAX_LENGTH})
    if _REPEATED.fullmatch(password):
        return PasswordProblem("repetitive", "must not be one character or a short pattern repeated", {})
    lowered = password.lower()
    if _is_common(lowered, common_passwords()):
        return PasswordProblem("common", "is one of the most common passwords (or one with only digits or "
                                         "symbols added)", {})
    name = (username or "").strip().lower()
    if name and (lowered == name or (len(name) >= USERNAME_PART_MIN and name in lowered)):
        return PasswordProblem("username", "must not be or contain the username", {})
    squeezed = re.sub(r"[\s\W_]+", "", lowered)
    for word in CONTEXT_WORDS:
        if word in lowered or word.replace(" ", "") in squeezed:
            return PasswordProblem("context", f"must not contain the name of this product or of the city ({word})",
                                   {"word": word})
    return None
