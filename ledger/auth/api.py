"""API routes of the foundation: who am I, organisations in sight, the caller's tokens and
password, and (for administrators) users and organisations.

Answers that carry a one-time password (a new user, a reset) are sent with `Cache-Control:
no-store` and are never replayed from an idempotency record: the password exists only in them.

`auth_api` is nested under the /api/v1 parent blueprint (`ledger.api`), which authenticates
the bearer token before any of these views runs; endpoints are named `api.auth.<view>`.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..errors import NotFound, _l
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, has_body, load_body
from . import directory
from .permissions import require_roles
from .schemas import (
    IssuedPasswordSchema,
    MeSchema,
    MeUpdateSchema,
    OrganisationCreateSchema,
    OrganisationListSchema,
    OrganisationSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    TokenListSchema,
    TokenRevokedSchema,
    TokenRevokeSchema,
    UserCreateSchema,
    UserDetailSchema,
    UserListSchema,
    UserSchema,
)
from .services import (
    add_user,
    change_password,
    list_tokens,
    reset_password,
    revoke_tokens,
    set_user_active,
    unlock_user,
    update_profile,
    user_events,
    user_for_admin,
)

auth_api = Blueprint("auth", __name__)


@auth_api.get("/me")
@operation("Who am I", tags=["auth"], description="The user the token belongs to, with role and organisation.",
           responses={200: ("The authenticated user", MeSchema)})
def me():
    """The token's user."""
    return jsonify(MeSchema().dump(g.api_user))


@auth_api.patch("/me")
@operation("Update my profile", tags=["auth"], body=MeUpdateSchema,
           description="Change one's own display name or interface language.",
           responses={200: ("The updated user", MeSchema)})
def update_me():
    """Change one's own display name or interface language."""
    changes = load_body()
    return api_write(lambda key: MeSchema().dump(update_profile(db.session, g.api_user, **changes)))


@auth_api.get("/organisations")
@operation("List organisations", tags=["organisations"],
           description="Charity and vendor users see their own organisation only; county staff see the "
                       "organisations of their county; administrators, auditors and city staff see all.",
           responses={200: ("The organisations in sight, bureaus first", OrganisationListSchema)})
def organisations():
    """Organisations the caller may see."""
    rows = directory.visible_organisations(db.session, g.api_user)
    return jsonify(OrganisationListSchema().dump({"organisations": rows}))


@auth_api.get("/organisations/<code>")
@operation("Get an organisation", tags=["organisations"], path={"code": {"description": "e.g. CSH-370827"}},
           responses={200: ("The organisation", OrganisationSchema),
                      404: "No such organisation, or one outside the caller's sight"})
def organisation(code: str):
    """One organisation by code."""
    return jsonify(OrganisationSchema().dump(directory.get_organisation(db.session, g.api_user, code)))


@auth_api.get("/tokens")
@operation("List my tokens", tags=["auth"],
           description="Only prefixes are shown; a token itself is never shown again after it is issued.",
           responses={200: ("The caller's tokens, newest first", TokenListSchema)})
def tokens():
    """The caller's own API tokens."""
    return jsonify(TokenListSchema().dump({"tokens": list_tokens(db.session, g.api_user)}))


@auth_api.post("/tokens/revoke")
@operation("Revoke a token", tags=["auth"], body=TokenRevokeSchema, body_required=False,
           description="With no body, revokes the token that authenticates this request; it answers 401 "
                       "from then on. With `{\"prefix\": \"jsj_...\"}`, revokes the caller's token with that prefix.",
           responses={200: ("How many tokens were revoked", TokenRevokedSchema),
                      404: "The caller has no live token with this prefix"})
def revoke():
    """Revoke the calling token, or another of the caller's tokens by prefix."""
    prefix = load_body()["prefix"] if has_body() else g.api_token.prefix

    def work(key):
        count = revoke_tokens(db.session, g.api_user, prefix)
        if count == 0:
            raise NotFound(_l("You have no live token with this prefix."))
        return TokenRevokedSchema().dump({"revoked": count})

    return api_write(work)


@auth_api.post("/me/password")
@operation("Change my password", tags=["auth"], body=PasswordChangeSchema,
           description="The current password is required. The new one has at least 12 characters and is not "
                       "a common password, the username or the product's or city's name (422 `weak_password` "
                       "names the field and why; `wrong_password` when the current one is wrong).",
           responses={200: ("The password was changed", PasswordChangedSchema)})
def change_my_password():
    """Change one's own password."""
    body = load_body()

    def work(key):
        change_password(db.session, g.api_user, body["current_password"], body["new_password"])
        return PasswordChangedSchema().dump({"changed": True})

    return api_write(work)


USERNAME = {"username": {"description": "e.g. reviewer_yutai"}}
NO_STORE = {"Cache-Control": "no-store"}


@auth_api.get("/users")
@require_roles("admin")
@operation("List users", tags=["users"], description="Every user with role, organisation and state.",
           responses={200: ("Every user, by organisation and username", UserListSchema)})
def users():
    """Every user (administrators)."""
    rows = directory.admin_directory(db.session, g.api_user).users
    return jsonify(UserListSchema().dump({"users": rows}))


@auth_api.post("/users")
@require_roles("admin")
@operation("Create a user", tags=["users"], body=UserCreateSchema,
           description="The answer carries a one-time password, shown this once; the user must change it at "
                       "the first sign-in. 409 `username_taken` when the username is in use.",
           responses={201: ("The new user and the one-time password", IssuedPasswordSchema)})
def create_user():
    """Create a user with a one-time password."""
    body = load_body()

    def work(key):
        issued = add_user(db.session, g.api_user, username=body["username"], role=body["role"],
                          organisation_code=body["organisation"], display_name=body["display_name"])
        return IssuedPasswordSchema().dump({"user": issued.user, "one_time_password": issued.password})

    response, status = api_write(work)
    return response, status, NO_STORE


@auth_api.get("/users/<username>")
@require_roles("admin")
@operation("Get a user", tags=["users"], path=USERNAME,
           responses={200: ("The user and what was done to or by the account", UserDetailSchema),
                      404: "No such user"})
def user_detail(username: str):
    """One user with the audit events that name it."""
    user = user_for_admin(db.session, g.api_user, username)
    events = user_events(db.session, g.api_user, username)
    return jsonify(UserDetailSchema().dump({"user": user, "events": events}))


def _user_action(action):
    return api_write(lambda key: UserSchema().dump(action()))


@auth_api.post("/users/<username>/disable")
@require_roles("admin")
@operation("Disable a user", tags=["users"], path=USERNAME,
           description="No more sign-ins; open sessions end and every API token is revoked. 409 `own_account` "
                       "for one's own account.",
           responses={200: ("The user", UserSchema), 404: "No such user"})
def disable_user(username: str):
    """Disable a user."""
    return _user_action(lambda: set_user_active(db.session, g.api_user, username, False))


@auth_api.post("/users/<username>/enable")
@require_roles("admin")
@operation("Enable a user", tags=["users"], path=USERNAME, description="The user may sign in again.",
           responses={200: ("The user", UserSchema), 404: "No such user"})
def enable_user(username: str):
    """Enable a disabled user."""
    return _user_action(lambda: set_user_active(db.session, g.api_user, username, True))


@auth_api.post("/users/<username>/unlock")
@require_roles("admin")
@operation("Unlock a user", tags=["users"], path=USERNAME,
           description="Lift the lock after failed sign-ins and forget the failures counted.",
           responses={200: ("The user", UserSchema), 404: "No such user"})
def unlock_user_view(username: str):
    """Unlock a locked account."""
    return _user_action(lambda: unlock_user(db.session, g.api_user, username))


@auth_api.post("/users/<username>/password-reset")
@require_roles("admin")
@operation("Reset a user's password", tags=["users"], path=USERNAME,
           description="Gives a one-time password, shown this once, that the user must change at the next "
                       "sign-in; also lifts a lock. API tokens stay valid.",
           responses={200: ("The user and the one-time password", IssuedPasswordSchema), 404: "No such user"})
def reset_user_password(username: str):
    """Reset a password to a one-time password."""
    def work(key):
        issued = reset_password(db.session, g.api_user, username)
        return IssuedPasswordSchema().dump({"user": issued.user, "one_time_password": issued.password})

    response, status = api_write(work)
    return response, status, NO_STORE


@auth_api.post("/organisations")
@require_roles("admin")
@operation("Create an organisation", tags=["organisations"], body=OrganisationCreateSchema,
           description="The code is made from the kind and the region: MZJ-<region> for bureaus, CSH-<county> "
                       "for charities (-02, -03 ... when taken), HL-<region>-NN for care vendors.",
           responses={201: ("The new organisation", OrganisationSchema)})
def create_organisation():
    """Add an organisation."""
    body = load_body()
    return api_write(lambda key: OrganisationSchema().dump(directory.create_organisation(
        db.session, g.api_user, name=body["name"], kind=body["kind"], region_code=body["region"],
        credit_code=body["credit_code"])))
