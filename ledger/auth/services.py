"""Users, passwords, login throttling and API tokens.

Passwords are hashed with scrypt (werkzeug). Repeated failed logins lock the
account for a growing time: after `LOGIN_LOCKOUT_THRESHOLD` failures in a row,
for `LOGIN_LOCKOUT_BASE_SECONDS`, doubling with each further failure up to
`LOGIN_LOCKOUT_MAX_SECONDS`. Tokens are random, shown once, stored as SHA-256.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import AccountLocked, Conflict, NotFound, ValidationError
from ..timeutil import as_utc, utcnow
from .models import ApiToken, AuditEvent, Organisation, Role, User

TOKEN_PREFIX = "jsj_"
MIN_PASSWORD_LENGTH = 10

# A hash to compare against when the username does not exist, so that a wrong
# username costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(fields={"password": [f"must be at least {MIN_PASSWORD_LENGTH} characters"]})


def record_event(session: Session, user: User | None, action: str, target: str = "", **detail) -> AuditEvent:
    """Log a sensitive action of `user` (see `ledger.audit`)."""
    return audit.record_event(session, user.id if user else None, action, target, **detail)


def create_user(session: Session, username: str, role: str, org_code: str, password: str,
                display_name: str = "") -> User:
    try:
        role_value = Role(role)
    except ValueError:
        raise ValidationError(fields={"role": [f"must be one of {', '.join(r.value for r in Role)}"]}) from None
    organisation = session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
    if organisation is None:
        raise ValidationError(fields={"org": [f"no organisation with code {org_code!r}"]})
    if session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    check_password_strength(password)
    user = User(username=username, role=role_value, organisation=organisation,
                password_hash=hash_password(password), display_name=display_name or username,
                active=True, failed_login_count=0)
    session.add(user)
    session.flush()
    record_event(session, None, "user.create", username, role=role_value.value, org=org_code)
    return user


@dataclass
class LoginSettings:
    threshold: int = 5
    base_seconds: int = 60
    max_seconds: int = 3600


def authenticate(session: Session, username: str, password: str, settings: LoginSettings) -> User | None:
    """Check a username and password. Returns the user, or None for a wrong pair.

    Raises AccountLocked while the account is locked (without checking the
    password, so guessing during a lock gains nothing). The caller commits: the
    failure counter must be saved even though the login failed.
    """
    user = session.scalar(sa.select(User).where(User.username == username).with_for_update(of=User))
    now = utcnow()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    locked_until = as_utc(user.locked_until_at)
    if locked_until and locked_until > now:
        seconds = int((locked_until - now).total_seconds()) + 1
        raise AccountLocked(f"Too many failed logins; try again in {seconds} seconds.", retry_after=seconds)
    if not user.active or not check_password_hash(user.password_hash, password):
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
        raise NotFound("no such token")
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
            raise ValidationError(fields={"display_name": ["must not be empty"]})
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
        raise NotFound(f"no user named {username!r}")
    return user


def disable_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    user.active = False
    revoke_tokens(session, user)
    record_event(session, None, "user.disable", username)
    return user
