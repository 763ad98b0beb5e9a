"""The JSON API under /api/v1: bearer-token authentication, strict JSON input, OpenAPI.

`create_api_blueprint(features)` makes the `/api/v1` parent blueprint of one app and
registers each feature's own API blueprint under it (`ledger.auth.api.auth_api`,
`ledger.funds.api.funds_api`, ...), so their endpoints are named `api.<feature>.<view>`
and the parent's `before_request` authenticates every one of them. Each view carries an
`@operation` record (`ledger.openapi`); the document at /api/v1/openapi.json is generated
from those records and the marshmallow schemas, so every endpoint appears there.

Every request except the two documentation pages must carry
`Authorization: Bearer <token>`; a missing, unknown or revoked token, or one whose
user is disabled, answers 401 before the view runs. Bodies are refused before
anything is written: wrong content type 415, malformed JSON 400, unknown or
invalid fields 422, larger than MAX_CONTENT_LENGTH 413 (`ledger.requests`). A query parameter
the operation does not document answers 400 naming it (`unknown_query_parameter`).
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request

from .auth.services import token_for_secret, touch_token
from .errors import Unauthorized, _l
from .extensions import db
from .openapi import build_spec as build_openapi
from .requests import has_body, load_json, parse_query  # noqa: F401  (the API's parsing, for handlers)
from .requests import refuse_unknown_query_parameters
from .schemas import ErrorResponse

API_PREFIX = "/api/v1"
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}


_NO_TOKEN = object()


def bearer_token_row():
    """The live token row of this request's `Authorization: Bearer` header, or None; looked up once
    per request (the per-user rate limit reads it before the authentication below)."""
    row = getattr(request, "_ledger_bearer_token_row", _NO_TOKEN)  # on the request: g may outlive it
    if row is _NO_TOKEN:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        row = token_for_secret(db.session, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        request._ledger_bearer_token_row = row
    return row


def authenticate_bearer_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_l("Send `Authorization: Bearer <token>`; tokens come from `flask users token` "
                              "or the API tokens page."))
    row = bearer_token_row()
    if row is None:
        raise Unauthorized(_l("The token is not valid: unknown, revoked, or its user is disabled."))
    if touch_token(row):
        # A boundary of its own: the token's last use is authentication bookkeeping, committed
        # before the request's unit of work begins, so a refused request still records it.
        db.session.commit()
    g.api_token = row
    g.api_user = row.user


def build_spec(app):
    return build_openapi(
        app, prefix="api.", public_endpoints=PUBLIC_ENDPOINTS,
        title="济时救 fund and care-service ledger API", version="1.0.0",
        description="Amounts are decimal strings in yuan (\"1234.56\"); every POST that moves "
                    "money takes an Idempotency-Key header.",
        error_schema=ErrorResponse)


def openapi_json():
    """The OpenAPI 3 document of every endpoint under /api/v1 (no token needed)."""
    spec = current_app.extensions.get("ledger_openapi")
    if spec is None:
        spec = build_spec(current_app).to_dict()
        spec["security"] = [{"bearer": []}]
        current_app.extensions["ledger_openapi"] = spec
    return jsonify(spec)


def docs():
    """A readable page of the OpenAPI document (no token needed)."""
    openapi_json()  # builds and caches the document
    return render_template("api/docs.html", spec=current_app.extensions["ledger_openapi"])


def create_api_blueprint(features) -> Blueprint:
    """The /api/v1 parent blueprint of one app, with each feature's API blueprint nested in it.

    A new parent per app: a blueprint takes no nested blueprints once it is registered, and
    the tests build many apps. The feature blueprints themselves are module-level and may be
    registered under any number of parents.
    """
    parent = Blueprint("api", __name__, url_prefix=API_PREFIX)
    parent.before_request(authenticate_bearer_token)
    parent.before_request(refuse_unknown_query_parameters)  # after the token: a stranger learns nothing
    parent.add_url_rule("/openapi.json", view_func=openapi_json, methods=["GET"])
    parent.add_url_rule("/docs", view_func=docs, methods=["GET"])
    for feature in features:
        parent.register_blueprint(feature)
    return parent
