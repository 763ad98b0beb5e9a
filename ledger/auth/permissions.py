"""Who is acting, and what their role and organisation let them see.

`current_actor()` is the logged-in web user or the API token's user. Scoping
is enforced in the services' queries (see `confined_county_id`), not only in
templates; a record outside a user's scope answers 404, like one that does not exist.
"""
from __future__ import annotations

from functools import wraps

from flask import g
from flask_login import current_user

from ..errors import Forbidden, Unauthorized
from .models import OrganisationKind, RegionLevel, Role, User


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


def county_region_id(user: User) -> int | None:
    """The county a user is confined to, or None when the user acts city-wide."""
    organisation = user.organisation
    region = organisation.region
    if region.level == RegionLevel.city or organisation.kind == OrganisationKind.city_bureau:
        return None
    return region.id if region.level == RegionLevel.county else region.parent_id


def confined_county_id(user: User) -> int | None:
    """The county whose records this user is limited to, or None for city-wide sight.

    Admins and auditors see everything; everyone else sees the county of their
    organisation (a city bureau's staff: the whole city). Charity and vendor users
    are further limited to their own organisation's records by the feature services.
    """
    if Role(user.role) in (Role.admin, Role.auditor):
        return None
    return county_region_id(user)
