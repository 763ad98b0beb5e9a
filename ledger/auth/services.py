"""Users, passwords, login throttling, API tokens and the administration of users.

Passwords are hashed with scrypt (werkzeug) and checked by `ledger.auth.passwords` wherever they
are chosen or given (the web, the API, the command line). Repeated failed logins lock the
account for a growing time: after `LOGIN_LOCKOUT_THRESHOLD` failures in a row,
for `LOGIN_LOCKOUT_BASE_SECONDS`, doubling with each further failure up to
`LOGIN_LOCKOUT_MAX_SECONDS`. Tokens are random, shown once, stored as SHA-256.

Administration (create, disable, enable, reset a password, unlock) needs `directory.admin`
(`require(actor, ...)`; the command line acts as the system). Each action writes one audit
event naming who did it to whom. A reset or a new user gets a one-time password, returned once
to the administrator and never stored in clear; the user must choose their own at the next
sign-in (`must_change_password`).
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import AccountLocked, NotFound, ValidationError, _l
from ..timeutil import as_utc, utcnow
from .access import as_actor, require
from .errors import OwnAccount, UsernameTaken, WeakPassword, WrongCurrentPassword
from .models import ApiToken, AuditEvent, Organisation, OrganisationKind, Role, User
from .passwords import MIN_LENGTH, password_problem

TOKEN_PREFIX = "jsj_"
MIN_PASSWORD_LENGTH = MIN_LENGTH
USERNAME_PATTERN = re.compile(r"[a-z][a-z0-9_.-]{1,79}")
DISPLAY_NAME_MAX = 100
#: Organisation kinds whose people may hold each partner role; every other role belongs to a bureau.
ROLE_ORGANISATION_KINDS = {Role.charity: {OrganisationKind.charity}, Role.vendor: {OrganisationKind.vendor}}
BUREAU_KINDS = {OrganisationKind.city_bureau, OrganisationKind.county_bureau}
#: One-time passwords: four groups of four from letters and digits that cannot be mistaken for each other.
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

# A hash to compare against when the username does not exist, so that a wrong
# username costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password_strength(password: str, username: str | None = None, field: str = "password") -> None:
    """Refuse a password that `ledger.auth.passwords` finds a problem with (WeakPassword, 422)."""
    problem = password_problem(password, username)
    if problem is not None:
        raise WeakPassword(f"The password is refused: it {problem.message}.", fields={field: [problem.message]},
                           reason=problem.code)


def record_event(session: Session, user: User | None, action: str, target: str = "", **detail) -> AuditEvent:
    """Log a sensitive action of `user` (see `ledger.audit`)."""
    return audit.record_event(session, user.id if user else None, action, target, **detail)


def _record_by(session: Session, actor, action: str, target: str, **detail) -> AuditEvent:
    """Log an action of an actor (a user, an Actor, or None for the system)."""
    return audit.record_event(session, as_actor(actor).user_id, action, target, **detail)


def one_time_password() -> str:
    """A random password to hand to a person once (about 79 bits), e.g. `k7mp-x2qa-9rtw-hc4e`."""
    while True:
        password = "-".join("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4))
        if password_problem(password) is None:
            return password


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValidationError(fields={"username": [
            _l("use 2 to 80 lower-case letters, digits, '.', '_' or '-', starting with a letter")]})
    return username


def _check_role_fits(role: Role, organisation: Organisation) -> None:
    kinds = ROLE_ORGANISATION_KINDS.get(role, BUREAU_KINDS)
    if OrganisationKind(organisation.kind) not in kinds:
        wanted = (_l("a charity") if role == Role.charity else _l("a care vendor") if role == Role.vendor
                  else _l("a bureau"))
        raise ValidationError(fields={"role": [_l("a %(role)s user belongs to %(kind)s organisation, not to %(org)s",
                                                  role=role.value, kind=wanted, org=organisation.code)]})


def create_user(session: Session, username: str, role: str, org_code: str, password: str,
                display_name: str = "", *, actor=None, must_change_password: bool = False) -> User:
    """Create a user (the command line and the seed act as the system; the web and API as an admin)."""
    require(actor, "directory.admin")
    errors: dict[str, list[str]] = {}
    try:
        username = _check_username(username)
    except ValidationError as error:
        errors.update(error.fields)
    try:
        role_value = Role(role)
    except ValueError:
        role_value = None
        errors["role"] = [f"must be one of {', '.join(r.value for r in Role)}"]
    organisation = session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if organisation is None:
        errors["org"] = [f"no organisation with code {org_code!r}"]
    display_name = (display_name or "").strip()
    if len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = [f"must be at most {DISPLAY_NAME_MAX} characters"]
    if errors:
        raise ValidationError(fields=errors)
    _check_role_fits(role_value, organisation)
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(_l("user %(name)r already exists", name=username), fields={"username": [_l("is taken")]})
    check_password_strength(password, username)
    user = User(username=username, role=role_value, organisation=organisation,
                password_hash=hash_password(password), display_name=display_name or username,
                active=True, failed_login_count=0, must_change_password=must_change_password)
    session.add(user)
    session.flush()
    _record_by(session, actor, "user.create", username, role=role_value.value, org=org_code)
    return user


@dataclass
class IssuedPassword:
    """A user and the one-time password just given to them: shown once, to the administrator."""

    user: User
    password: str


def add_user(session: Session, actor, *, username: str, role: str, organisation_code: str,
             display_name: str = "") -> IssuedPassword:
    """An administrator creates a user with a one-time password the user must change at first sign-in."""
    password = one_time_password()
    user = create_user(session, username, role, organisation_code, password, display_name, actor=actor,
                       must_change_password=True)
    return IssuedPassword(user=user, password=password)


@dataclass
class LoginSettings:
    threshold: int = 5
    base_seconds: int = 60
    max_seconds: int = 3600


class UnknownUsernameLockout:
    """The failed sign-ins under usernames that do not exist, locked exactly as an account would be.

    Rule: a sign-in never reveals whether a username exists. An unknown name answers "wrong
    username or password" after the same password check (same time), and after `threshold`
    failures it is "locked" for the same growing time with the same message, as a real account.
    The counts live in the rate limiter's store (`ledger.security`; memory, or Redis shared by
    every worker), keyed by a digest of the name, and are forgotten after `memory_seconds`
    without a failure (a real account keeps its count until a successful sign-in).
    """

    def __init__(self, storage, settings: LoginSettings, memory_seconds: int = 30 * 24 * 3600):
        self.storage = storage
        self.settings = settings
        self.memory_seconds = memory_seconds

    @staticmethod
    def _key(kind: str, username: str) -> str:
        return f"ledger-login-unknown-{kind}:" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()

    def seconds_locked(self, username: str) -> int:
        """Seconds the name is still "locked", 0 when it is not."""
        key = self._key("lock", username)
        if not self.storage.get(key):
            return 0
        return max(1, int(self.storage.get_expiry(key) - time.time()) + 1)

    def failed(self, username: str) -> None:
        failures = self.storage.incr(self._key("failures", username), self.memory_seconds)
        over = failures - self.settings.threshold
        if over >= 0:
            delay = min(self.settings.base_seconds * (2 ** over), self.settings.max_seconds)
            lock = self._key("lock", username)
            self.storage.clear(lock)
            self.storage.incr(lock, delay)


def _locked(seconds: int) -> AccountLocked:
    return AccountLocked(_l("Too many failed logins; try again in %(seconds)s seconds.", seconds=seconds),
                         retry_after=seconds)


def authenticate(session: Session, username: str, password: str, settings: LoginSettings,
                 unknown_usernames: UnknownUsernameLockout | None = None) -> User | None:
    """Check a username and password. Returns the user, or None for a wrong pair.

    Raises AccountLocked while the account is locked (without checking the
    password, so guessing during a lock gains nothing). The caller commits: the
    failure counter must be saved even though the login failed. With `unknown_usernames`,
    a name that does not exist is counted and locked the same way, so that neither the
    answers nor their timing tell which names exist; a disabled account's password is
    checked too, for the same reason.
    """
    user = session.scalar(sa.select(User).where(User.username == username).with_for_update(of=User))
    now = utcnow()
    if user is None:
        if unknown_usernames is not None:
            seconds = unknown_usernames.seconds_locked(username)
            if seconds:
                raise _locked(seconds)
        check_password_hash(_DUMMY_HASH, password)
        if unknown_usernames is not None:
            unknown_usernames.failed(username)
        return None
    locked_until = as_utc(user.locked_until_at)
    if locked_until and locked_until > now:
        raise _locked(int((locked_until - now).total_seconds()) + 1)
    password_matches = check_password_hash(user.password_hash, password)
    if not user.active or not password_matches:
        if user.active:
            user.failed_login_count = (user.failed_login_count or 0) + 1
            over = user.failed_login_count - settings.threshold
            if over >= 0:
                delay = min(settings.base_seconds * (2 ** over), settings.max_seconds)
                user.locked_until_at = now + timedelta(seconds=delay)
                record_event(session, user, "login.locked", username, seconds=delay)
        return None
    user.failed_login_count = 0
    user.locked_until_at = None
    # "Last login" on the start page is the sign-in before this one.
    user.previous_login_at = user.last_login_at
    user.last_login_at = now
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, label: str = "") -> str:
    """Create a token for `user` and return it; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_digest(token), prefix=token[:12], label=label))
    record_event(session, user, "token.issue", user.username, prefix=token[:12])
    session.flush()
    return token


def token_for_secret(session: Session, token: str) -> ApiToken | None:
    """The live token row for a presented bearer token: None when unknown, revoked,
    or when its user is disabled (a disabled user's tokens stop working at once)."""
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = token_for_secret(session, token)
    return row.user if row is not None else None


#: `last_used_at` is refreshed at most this often, so that reads do not all become writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def touch_token(row: ApiToken) -> bool:
    """Record that the token was used now; returns whether anything changed."""
    now = utcnow()
    last = as_utc(row.last_used_at)
    if last is not None and now - last < TOKEN_TOUCH_INTERVAL:
        return False
    row.last_used_at = now
    return True


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's own tokens, newest first (revoked ones included, marked by revoked_at)."""
    return session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).all()


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens. Someone else's token is NotFound."""
    row = session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise NotFound(_l("no such token"))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(session, user, "token.revoke", user.username, count=1, prefix=row.prefix)
    session.flush()
    return row


def update_profile(session: Session, user: User, *, display_name: str | None = None,
                   locale: str | None = None) -> User:
    """Change the user's own display name and preferred language."""
    if display_name is not None:
        if not display_name.strip():
            raise ValidationError(fields={"display_name": [_l("must not be empty")]})
        user.display_name = display_name.strip()
    if locale is not None:
        user.locale = locale or None
    session.flush()
    return user


def revoke_tokens(session: Session, user: User, prefix: str | None = None) -> int:
    """Revoke the user's live tokens (all, or the one whose prefix is given). Returns how many."""
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.prefix == prefix)
    count = 0
    for token in session.scalars(query):
        token.revoked_at = utcnow()
        count += 1
    if count:
        record_event(session, user, "token.revoke", user.username, count=count, prefix=prefix or "*")
    session.flush()
    return count


def get_user(session: Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(_l("no user named %(name)r", name=username))
    return user


def user_for_admin(session: Session, actor, username: str) -> User:
    """A user by username, for administrators (Forbidden for everyone else; NotFound when unknown)."""
    require(actor, "directory.admin")
    return get_user(session, username)


def user_events(session: Session, actor, username: str, limit: int = 50) -> list[AuditEvent]:
    """What was done to or by the account, newest first: the audit events that name it."""
    user = user_for_admin(session, actor, username)
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.target == user.username)
                           .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)).all()


def set_user_active(session: Session, actor, username: str, active: bool) -> User:
    """Disable (no more sign-ins, open sessions end, every token revoked) or enable a user again."""
    user = user_for_admin(session, actor, username)
    if not active and as_actor(actor).user_id == user.id:
        raise OwnAccount()
    if bool(user.active) == active:
        return user
    user.active = active
    if not active:
        revoke_tokens(session, user)
    else:  # a fresh start: the failures counted before the account was disabled are forgotten
        user.failed_login_count = 0
        user.locked_until_at = None
    _record_by(session, actor, "user.enable" if active else "user.disable", username)
    session.flush()
    return user


def disable_user(session: Session, username: str, *, actor=None) -> User:
    return set_user_active(session, actor, username, False)


def enable_user(session: Session, username: str, *, actor=None) -> User:
    return set_user_active(session, actor, username, True)


def reset_password(session: Session, actor, username: str) -> IssuedPassword:
    """Give the user a one-time password (returned once) that must be changed at the next sign-in.

    The account's lock is lifted too (a person who forgot the password has usually locked it);
    API tokens stay valid (disable the user to stop them).
    """
    user = user_for_admin(session, actor, username)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    was_locked = user.is_locked
    user.failed_login_count = 0
    user.locked_until_at = None
    _record_by(session, actor, "user.password_reset", username, unlocked=was_locked)
    session.flush()
    return IssuedPassword(user=user, password=password)


def unlock_user(session: Session, actor, username: str) -> User:
    """Lift a lock after failed sign-ins and forget the failures counted so far."""
    user = user_for_admin(session, actor, username)
    failures = user.failed_login_count or 0
    user.failed_login_count = 0
    user.locked_until_at = None
    _record_by(session, actor, "user.unlock", username, failures=failures)
    session.flush()
    return user


def change_password(session: Session, user: User, current_password: str, new_password: str) -> User:
    """A user changes their own password: the current one is required, the new one is checked."""
    if not check_password_hash(user.password_hash, current_password or ""):
        raise WrongCurrentPassword(fields={"current_password": [_l("is not right")]})
    check_password_strength(new_password, user.username, field="new_password")
    if check_password_hash(user.password_hash, new_password):
        raise WeakPassword(fields={"new_password": [_l("must differ from the current password")]}, reason="unchanged")
    user.password_hash = hash_password(new_password)
    forced = bool(user.must_change_password)
    user.must_change_password = False
    record_event(session, user, "password.change", user.username, forced=forced)
    session.flush()
    return user
