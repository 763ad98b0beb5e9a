"""API routes of the foundation: who am I, organisations in sight, the caller's tokens.

`auth_api` is nested under the /api/v1 parent blueprint (`ledger.api`), which authenticates
the bearer token before any of these views runs; endpoints are named `api.auth.<view>`.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from ..errors import NotFound
from ..extensions import db
from ..openapi import operation
from ..requests import api_write, has_body, load_body
from . import directory
from .schemas import (
    MeSchema,
    MeUpdateSchema,
    OrganisationListSchema,
    OrganisationSchema,
    TokenListSchema,
    TokenRevokedSchema,
    TokenRevokeSchema,
)
from .services import list_tokens, revoke_tokens, update_profile

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
            raise NotFound("You have no live token with this prefix.")
        return TokenRevokedSchema().dump({"revoked": count})

    return api_write(work)
