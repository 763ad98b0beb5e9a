"""The refusals of user administration and passwords, each with its rule (see `ledger.errors`)."""
from __future__ import annotations

from ..errors import Conflict, ValidationError


class WeakPassword(ValidationError):
    """The password is refused; `fields` names the field and says why.

    Rule: every password a person chooses or is given passes `ledger.auth.passwords.password_problem`
    (length, common and breached passwords, the username, the product's and the city's names);
    `reason` is the problem's code (too_short, too_long, repetitive, common, username, context).
    """

    code = "weak_password"


class WrongCurrentPassword(ValidationError):
    """The current password is not right; nothing was changed.

    Rule: changing one's own password needs the current one, so that an open session left at a
    desk cannot be used to take the account over.
    """

    code = "wrong_password"


class UsernameTaken(Conflict):
    """Another user already has this username; choose another one.

    Rule: usernames are unique, also among disabled users (a username is never given to a new person).
    """

    code = "username_taken"


class OwnAccount(Conflict):
    """Administrators cannot disable their own account; ask another administrator.

    Rule: an administrator never locks themselves (and possibly everyone) out by accident.
    """

    code = "own_account"
