"""The JSON API under /api/v1: bearer-token authentication, strict JSON input, OpenAPI.

Feature packages add their routes to `api_bp` when their `register(app)` runs
(see `ledger/auth/api.py`, `ledger/funds/api.py`); the factory registers the
blueprint after every feature. Each view's docstring carries its OpenAPI
operation in YAML after a `---` line; the document at /api/v1/openapi.json is
generated from those and the marshmallow schemas, so every endpoint appears there.

Every request except the two documentation pages must carry
`Authorization: Bearer <token>`; a missing, unknown or revoked token, or one whose
user is disabled, answers 401 before the view runs. Bodies are refused before
anything is written: wrong content type 415, malformed JSON 400, unknown or
invalid fields 422, larger than MAX_CONTENT_LENGTH 413.
"""
from __future__ import annotations

import json

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, current_app, g, jsonify, render_template, request
from marshmallow import ValidationError as MarshmallowValidationError

from .auth.services import token_for_secret, touch_token
from .errors import BadRequest, LedgerError, Unauthorized, ValidationError
from .extensions import db
from .schemas import Amount, ErrorResponse

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}


class UnsupportedMediaType(LedgerError):
    """Send the body as JSON with `Content-Type: application/json`."""

    status = 415
    code = "unsupported_media_type"


@api_bp.before_request
def authenticate_bearer_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <token>`; tokens come from `flask users token` "
                           "or the API tokens page.")
    row = token_for_secret(db.session, token.strip())
    if row is None:
        raise Unauthorized("The token is not valid: unknown, revoked, or its user is disabled.")
    if touch_token(row):
        # Bookkeeping of the token, not part of the request's business transaction.
        db.session.commit()
    g.api_token = row
    g.api_user = row.user


def has_body() -> bool:
    """Whether the request carries a body at all (an empty body is not malformed JSON)."""
    return bool(request.content_length) or bool(request.get_data(cache=True))


def load_json(schema, *, partial=False):
    """Parse the request body as a JSON object and load it through `schema`.

    Wrong content type -> 415; malformed JSON or not an object -> 400; unknown or
    invalid fields -> 422 naming each field. Nothing has been written yet when these fire.
    """
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got {request.mimetype or 'none'})."
        )
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    try:
        return schema.load(data, partial=partial)
    except MarshmallowValidationError as error:
        raise ValidationError("Some fields are invalid.", fields=_flatten_messages(error.messages)) from None


def _flatten_messages(messages) -> dict:
    if isinstance(messages, dict):
        return {str(k): (v if isinstance(v, list) else [v]) if not isinstance(v, dict) else _flatten_messages(v)
                for k, v in messages.items()}
    return {"_schema": messages}


def parse_query(schema):
    """Load query-string parameters through `schema`; bad values -> 400 naming the parameter."""
    try:
        return schema.load(request.args.to_dict())
    except MarshmallowValidationError as error:
        raise BadRequest("Some query parameters are invalid.", fields=_flatten_messages(error.messages)) from None


def build_spec(app) -> APISpec:
    marshmallow_plugin = MarshmallowPlugin()
    spec = APISpec(
        title="济时救 fund and care-service ledger API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), marshmallow_plugin],
        info={"description": "Amounts are decimal strings in yuan (\"1234.56\"); every POST that moves "
                             "money takes an Idempotency-Key header."},
        servers=[{"url": "/"}],
    )
    marshmallow_plugin.map_to_openapi_type(Amount, "string", None)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorResponse)
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if not rule.endpoint.startswith("api.") or rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            view = app.view_functions[rule.endpoint]
            spec.path(view=view, app=app)
    return spec


@api_bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of every endpoint under /api/v1 (no token needed)."""
    spec = current_app.extensions.get("ledger_openapi")
    if spec is None:
        spec = build_spec(current_app).to_dict()
        spec["security"] = [{"bearer": []}]
        current_app.extensions["ledger_openapi"] = spec
    return jsonify(spec)


@api_bp.get("/docs")
def docs():
    """A readable page of the OpenAPI document (no token needed)."""
    openapi_json()  # builds and caches the document
    return render_template("api/docs.html", spec=current_app.extensions["ledger_openapi"])


def register(app):
    """Load the API routes of the foundation (users, organisations, tokens)."""
    from .auth import api  # noqa: F401  (adds its routes to api_bp)
