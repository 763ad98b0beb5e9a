"""Errors as types, and the one place that turns them into responses.

Every rule the ledger enforces raises a subclass of `LedgerError`. The classes
import nothing from Flask (the journal core raises them); the response mapping
below imports Flask only when the app registers it. Each class
carries its HTTP status and a stable machine code; the API renders

    {"error": {"code": "...", "message": "...", "fields": {...}}}

and HTML pages render a friendly error page. Services never build responses.
"""
from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal the product makes on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, **details):
        self.message = message or self.default_message()
        self.fields = fields or {}
        self.details = details
        super().__init__(self.message)

    def default_message(self) -> str:
        return (self.__doc__ or self.code).strip().splitlines()[0]

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.details)
        return {"error": body}


class BadRequest(LedgerError):
    """The request cannot be read (malformed JSON, wrong content type, bad parameter)."""

    status = 400
    code = "bad_request"


class ValidationError(LedgerError):
    """One or more fields are invalid; `fields` says which and why."""

    status = 422
    code = "validation_error"


class Unauthorized(LedgerError):
    """Authentication is required: send `Authorization: Bearer <token>` or log in."""

    status = 401
    code = "unauthorized"


class Forbidden(LedgerError):
    """Your role may not do this."""

    status = 403
    code = "forbidden"


class NotFound(LedgerError):
    """No such record (or not one you may see)."""

    status = 404
    code = "not_found"


class Conflict(LedgerError):
    """The request conflicts with the current state of the record."""

    status = 409
    code = "conflict"


class IdempotencyConflict(Conflict):
    """This Idempotency-Key was already used with a different request body."""

    code = "idempotency_conflict"


class PayloadTooLarge(LedgerError):
    """The request body is larger than the server accepts."""

    status = 413
    code = "payload_too_large"


class AccountLocked(LedgerError):
    """Too many failed logins: the account is locked for a while."""

    status = 429
    code = "account_locked"


def _wants_json() -> bool:
    from flask import request

    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def _http_message(status: int, fallback: str) -> str:
    from flask_babel import gettext as _

    messages = {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do this."),
        404: _("The page or record was not found."),
        405: _("This method is not allowed here."),
        413: _("The request body is too large."),
        500: _("Something went wrong on our side; nothing was saved."),
        503: _("The service is temporarily unavailable."),
    }
    return messages.get(status, fallback)


def render_error(status: int, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
    from flask import jsonify, render_template

    if _wants_json():
        body = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        if extra:
            body.update(extra)
        return jsonify({"error": body}), status
    return render_template("errors/error.html", status=status, message=message, fields=fields or {}), status


def register_error_handlers(app):
    from flask import request
    from flask_babel import gettext as _
    from werkzeug.exceptions import HTTPException

    from .extensions import db

    @app.errorhandler(LedgerError)
    def handle_ledger_error(error: LedgerError):
        db.session.rollback()
        return render_error(error.status, error.code, error.message, error.fields, error.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        message = _http_message(status, error.description or error.name)
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = _("The request body is larger than %(limit)s bytes.", limit=limit)
        return render_error(status, _HTTP_CODES.get(status, "http_error"), message)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "internal_error", _http_message(500, "internal error"))
