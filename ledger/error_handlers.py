"""The one place that turns refusals into responses: JSON for the API, a page for people.

`register_error_handlers(app)` maps every `LedgerError` (`ledger.errors`, with its
status, code and message), CSRF failures, HTTP errors and anything unexpected
(500, logged, nothing saved: the session is rolled back) to `render_error`. A database that
cannot be reached answers 503 `database_unavailable` (`ledger.db_errors`), a rate limit 429
`rate_limited` (`ledger.security`), both with `Retry-After`.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .db_errors import is_database_unavailable
from .errors import DatabaseUnavailable, LedgerError, RateLimited, localized
from .extensions import db, login_manager


def _wants_json() -> bool:
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
    """A message a person can act on, in the reader's language: the API's wording for API
    clients (in the API's language, English unless asked: `ledger.api_language`), the
    interface's for HTML pages."""
    if _wants_json():
        return str(_API_MESSAGES.get(status, fallback))
    messages = {
        400: _("The request could not be understood."),
        401: _("Please log in first."),
        403: _("You do not have permission to do this."),
        404: _("The page or record was not found."),
        405: _("This method is not allowed here."),
        409: _("The record was changed in the meantime; reload it and try again."),
        413: _("The request body is too large."),
        415: _("This kind of content is not accepted here."),
        422: _("Some fields are invalid."),
        429: _("Too many attempts; wait a moment and try again."),
        500: _("Something went wrong on our side; nothing was saved."),
        503: _("The service is temporarily unavailable."),
    }
    return messages.get(status, fallback)


_API_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Authentication is required: send `Authorization: Bearer <token>`."),
    403: _l("Your role may not do this."),
    404: _l("No such resource (or not one you may see)."),
    405: _l("This method is not allowed on this resource."),
    409: _l("The request conflicts with the current state of the record."),
    413: _l("The request body is too large."),
    415: _l("Send the body as JSON with Content-Type: application/json."),
    422: _l("Some fields are invalid."),
    429: _l("Too many requests."),
    500: _l("Internal error; nothing was saved."),
    503: _l("The service is temporarily unavailable."),
}


def _status_title(status: int) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Not logged in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed here"),
        409: _("Conflict"),
        413: _("Too large"),
        415: _("Wrong content type"),
        422: _("Invalid input"),
        429: _("Please wait"),
        500: _("Server error"),
        503: _("Unavailable"),
    }
    return titles.get(status, str(status))


def render_error(status: int, code: str, message: str, fields: dict | None = None, extra: dict | None = None,
                 detail: str | None = None, headers: dict | None = None):
    """The one rendering of a refusal: JSON `{"error": {...}}` for the API, a page for people."""
    if _wants_json():
        body = {"code": code, "message": str(message)}
        if fields:
            body["fields"] = localized(fields)
        if extra:
            body.update(localized(extra))
        return jsonify({"error": body}), status, headers or {}
    return render_template("errors/error.html", status=status, title=_status_title(status), message=message,
                           detail=detail, fields=localized(fields or {})), status, headers or {}


def _rollback_quietly() -> None:
    """Roll the session back; on a dead connection the rollback itself may fail, which is no news."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        db.session.close()


def render_database_unavailable():
    """503 `database_unavailable` with `Retry-After`: JSON for the API, a page for people.

    The page is shown as to a visitor who is not signed in: the signed-in user's row cannot be
    read while the database is away (and the base template would try)."""
    _rollback_quietly()
    seconds = int(current_app.config.get("DATABASE_RETRY_AFTER_SECONDS", 5))
    headers = {"Retry-After": str(seconds)}
    if not _wants_json():
        g._login_user = login_manager.anonymous_user()
        return render_error(503, DatabaseUnavailable.code,
                            _("The books cannot be reached right now. Nothing is lost: wait a few seconds and "
                              "try again (a form sent again is saved at most once)."),
                            headers=headers)
    return render_error(503, DatabaseUnavailable.code, DatabaseUnavailable().message,
                        extra={"retry_after_seconds": seconds}, headers=headers)


#: On HTML pages, the specific message of these refusals is worth showing (it says what to
#: change); for 401/403/404 the generic text is shown, which also reveals nothing.
_HTML_DETAIL_STATUSES = {400, 409, 422}


def render_rate_limited():
    """429 `rate_limited` with `Retry-After` (`ledger.security`): JSON for the API, a page for people."""
    from .security import retry_after_seconds

    seconds = retry_after_seconds()
    headers = {"Retry-After": str(seconds)}
    if _wants_json():
        return render_error(429, RateLimited.code,
                            _("Too many requests; try again in %(seconds)s seconds.", seconds=seconds),
                            extra={"retry_after_seconds": seconds}, headers=headers)
    return render_error(429, RateLimited.code,
                        _("Too many attempts from here; wait %(seconds)s seconds and try again.", seconds=seconds),
                        headers=headers)


def register_error_handlers(app):
    @app.errorhandler(LedgerError)
    def handle_ledger_error(error: LedgerError):
        db.session.rollback()
        if _wants_json():
            return render_error(error.status, error.code, error.message, error.fields, error.details)
        detail = error.message if error.status in _HTML_DETAIL_STATUSES else None
        return render_error(error.status, error.code, _http_message(error.status, error.message), error.fields,
                            detail=detail)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        db.session.rollback()
        if _wants_json():
            return render_error(400, "csrf_failed", _("The form's CSRF token is missing or invalid."))
        return render_error(400, "csrf_failed", _("This form has expired or did not come from this site. "
                                                  "Go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if is_database_unavailable(getattr(error, "original_exception", None)):
            # a database failure after the view (the request's commit) reaches Flask as a 500
            return render_database_unavailable()
        db.session.rollback()
        status = error.code or 500
        if isinstance(error, RateLimitExceeded):
            return render_rate_limited()
        message = _http_message(status, error.description or error.name)
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            if _wants_json():
                message = _("The request body is larger than the limit of %(limit)s bytes.", limit=limit)
            else:
                message = _("The request body is larger than %(limit)s bytes.", limit=limit)
        body, status, _headers = render_error(status, _HTTP_CODES.get(status, "http_error"), message)
        # What the exception says about the resource goes along: `Allow` on a 405 (the methods the
        # path answers), `Retry-After` where one is set; the body's own Content-Type stays.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(sa_exc.SQLAlchemyError)
    def handle_database_error(error: sa_exc.SQLAlchemyError):
        if is_database_unavailable(error):
            app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, error)
            return render_database_unavailable()
        return handle_unexpected(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _rollback_quietly()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "internal_error", _http_message(500, "internal error"))
