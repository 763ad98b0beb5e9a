"""API routes of the foundation: who am I, organisations in sight, the caller's tokens."""
from __future__ import annotations

from flask import g, jsonify

from ..api import api_bp, has_body, load_json
from ..errors import NotFound
from ..extensions import db
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


@api_bp.get("/me")
def me():
    """The token's user.
    ---
    get:
      summary: Who am I
      description: The user the token belongs to, with role and organisation.
      tags: [auth]
      responses:
        200:
          description: The authenticated user
          content:
            application/json:
              schema: MeSchema
        401:
          description: Missing, unknown or revoked token, or a disabled user
          content:
            application/json:
              schema: Error
    """
    return jsonify(MeSchema().dump(g.api_user))


@api_bp.patch("/me")
def update_me():
    """Change one's own display name or interface language.
    ---
    patch:
      summary: Update my profile
      tags: [auth]
      requestBody:
        required: true
        content:
          application/json:
            schema: MeUpdateSchema
      responses:
        200:
          description: The updated user
          content:
            application/json:
              schema: MeSchema
        400:
          description: The body is not a JSON object
          content:
            application/json:
              schema: Error
        413:
          description: The body is too large
          content:
            application/json:
              schema: Error
        415:
          description: The body is not sent as application/json
          content:
            application/json:
              schema: Error
        422:
          description: Unknown or invalid fields, named in `fields`
          content:
            application/json:
              schema: Error
    """
    changes = load_json(MeUpdateSchema())
    user = update_profile(db.session, g.api_user, **changes)
    db.session.commit()
    return jsonify(MeSchema().dump(user))


@api_bp.get("/organisations")
def organisations():
    """Organisations the caller may see.
    ---
    get:
      summary: List organisations
      description: >
        Charity and vendor users see their own organisation only; county staff see the
        organisations of their county; administrators, auditors and city staff see all.
      tags: [organisations]
      responses:
        200:
          description: The organisations in sight, bureaus first
          content:
            application/json:
              schema: OrganisationListSchema
        401:
          description: Missing or invalid token
          content:
            application/json:
              schema: Error
    """
    rows = directory.visible_organisations(db.session, g.api_user)
    return jsonify(OrganisationListSchema().dump({"organisations": rows}))


@api_bp.get("/organisations/<code>")
def organisation(code: str):
    """One organisation by code.
    ---
    get:
      summary: Get an organisation
      tags: [organisations]
      parameters:
        - in: path
          name: code
          required: true
          schema: {type: string}
          description: e.g. CSH-370827
      responses:
        200:
          description: The organisation
          content:
            application/json:
              schema: OrganisationSchema
        401:
          description: Missing or invalid token
          content:
            application/json:
              schema: Error
        404:
          description: No such organisation, or one outside the caller's sight
          content:
            application/json:
              schema: Error
    """
    return jsonify(OrganisationSchema().dump(directory.get_organisation(db.session, g.api_user, code)))


@api_bp.get("/tokens")
def tokens():
    """The caller's own API tokens.
    ---
    get:
      summary: List my tokens
      description: Only prefixes are shown; a token itself is never shown again after it is issued.
      tags: [auth]
      responses:
        200:
          description: The caller's tokens, newest first
          content:
            application/json:
              schema: TokenListSchema
        401:
          description: Missing or invalid token
          content:
            application/json:
              schema: Error
    """
    return jsonify(TokenListSchema().dump({"tokens": list_tokens(db.session, g.api_user)}))


@api_bp.post("/tokens/revoke")
def revoke():
    """Revoke the calling token, or another of the caller's tokens by prefix.
    ---
    post:
      summary: Revoke a token
      description: >
        With no body, revokes the token that authenticates this request; it answers 401
        from then on. With `{"prefix": "jsj_..."}`, revokes the caller's token with that prefix.
      tags: [auth]
      requestBody:
        required: false
        content:
          application/json:
            schema: TokenRevokeSchema
      responses:
        200:
          description: How many tokens were revoked
          content:
            application/json:
              schema: TokenRevokedSchema
        401:
          description: Missing or invalid token
          content:
            application/json:
              schema: Error
        404:
          description: The caller has no live token with this prefix
          content:
            application/json:
              schema: Error
        415:
          description: A body not sent as application/json
          content:
            application/json:
              schema: Error
        422:
          description: Unknown or invalid fields
          content:
            application/json:
              schema: Error
    """
    prefix = load_json(TokenRevokeSchema())["prefix"] if has_body() else g.api_token.prefix
    count = revoke_tokens(db.session, g.api_user, prefix)
    if count == 0:
        raise NotFound("You have no live token with this prefix.")
    db.session.commit()
    return jsonify(TokenRevokedSchema().dump({"revoked": count}))
