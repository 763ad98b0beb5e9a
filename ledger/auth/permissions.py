"""Who is acting, and what their role and organisation let them see.

`current_actor()` is the logged-in web user or the API token's user;
`require_roles` lets a handler refuse early, for a nicer page. The rules
themselves -- which role may do what, which records each user sees -- live in
`ledger.auth.access` and are checked by every service, whatever its caller.
"""
from __future__ import annotations

from functools import wraps

from flask import g
from flask_login import current_user

from ..errors import Forbidden, Unauthorized
from .models import Role, User


def current_actor() -> User | None:
    user = getattr(g, "api_user", None)
    if user is not None:
        return user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def require_roles(*roles: Role | str):
    """Decorator: the actor must be authenticated and hold one of `roles`."""
    allowed = {Role(r).value for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                raise Unauthorized()
            if Role(actor.role).value not in allowed:
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed
        return wrapper

    return decorator
