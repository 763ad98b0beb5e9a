"""One request pattern for every handler: parse, run once, refuse at the field, commit once.

A handler (JSON API view, HTML form view) parses its input, calls one service and renders;
what is the same for all of them lives here, so the funds, aid, vendors, referrals and
batches handlers go through one door (the model is Indico's `web/rh.py`: operations flush,
the request handler commits once):

* `load_body()` / `load_query()` load the request through the schemas declared on the
  view's `@operation` (`ledger.openapi`), so the document and the parsing cannot drift;
* `api_write(work)` runs a JSON write: once per `Idempotency-Key` where the operation
  requires or accepts one (`ledger.idempotency.run_idempotent`), then commits, or rolls
  back and lets the refusal render as `{"error": {..., "fields": {...}}}`;
* `form_write(form, work, done)` runs an HTML form: validate, run once per the form's
  one-time key, commit, then `done(body)` (a flash and a redirect); a refusal is rolled
  back and put next to the form field it concerns;
* `load_json` refuses a body nested deeper than `JSON_DEPTH_MAX` (400) before any schema
  reads it; `parse_query` refuses a bad query parameter with 422 naming it;
* `BodyLimit` (WSGI middleware) holds a body sent without Content-Length (chunked) to the
  same `MAX_CONTENT_LENGTH` as one with it: 413, never a body cut at the limit and parsed;
* `commit_request` (after every request) is the boundary for handlers that write
  without moving money (login bookkeeping, a token issued, a report run queued): a
  request that answers is committed once; one that raised was already rolled back by the
  error handlers (`ledger.errors`), so its commit is empty. `after_commit(callback)`
  defers work that needs the committed rows (handing a report run to its queue).

Services never commit; they flush.
"""
from __future__ import annotations

import io
import json
import re
from urllib.parse import urlencode

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowValidationError
from werkzeug.routing import IntegerConverter

from .auth.permissions import current_actor
from .errors import (BadRequest, IdempotencyKeyRequired, LedgerError, UnknownQueryParameter, UnsupportedMediaType,
                     ValidationError)
from .extensions import db
from .idempotency import request_fingerprint, run_idempotent
from .money import format_cny
from .openapi import COMMON_QUERY_PARAMETERS, IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_KEY_PATTERN, Operation, operation_of
from .schemas import PAGE_MAX, PATH_ID_MAX
from .text import safe_name, text_problem

__all__ = ["IDEMPOTENCY_KEY_MAX", "JSON_DEPTH_MAX", "BodyLimit", "PathIdConverter", "after_commit",
           "api_write", "commit_request", "current_operation",
           "form_write", "has_body", "load_body", "load_json", "load_query", "page_argument", "parse_query",
           "query_text"]


#: Deepest nesting of arrays and objects a JSON body may have. The deepest request schema
#: nests two levels; the JSON parser and the schemas recurse, so a body of 100,000 brackets
#: would otherwise end in RecursionError (a 500) instead of a refusal.
JSON_DEPTH_MAX = 32
_PAGE_NUMBER = re.compile(r"[0-9]{1,7}", re.ASCII)


# --- reading the request ------------------------------------------------------------------------

class BodyLimit:
    """WSGI middleware: a request body without Content-Length (Transfer-Encoding: chunked, which a
    server such as gunicorn decodes and marks `wsgi.input_terminated`) is read here up to one byte
    past `MAX_CONTENT_LENGTH` and handed on with the length it turned out to have. Werkzeug then
    refuses a body over the limit with 413, exactly as it refuses a declared Content-Length over
    it; without this it would read the first MAX_CONTENT_LENGTH bytes and parse them as if they
    were the whole body."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if (limit is not None and not environ.get("CONTENT_LENGTH")
                and environ.get("wsgi.input_terminated")):
            stream = environ["wsgi.input"]
            chunks, size = [], 0
            while size <= limit:
                chunk = stream.read(min(64 * 1024, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            body = b"".join(chunks)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            # The body is now an ordinary one of known length. Werkzeug ignores CONTENT_LENGTH while
            # the request says Transfer-Encoding: chunked, and reads a `wsgi.input_terminated`
            # stream only up to the limit (the first 2 MiB, parsed as the whole body): drop both.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        return self.wsgi_app(environ, start_response)


class PathIdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only (Werkzeug's reads `\\d`, digits of any
    script) and at most `PATH_ID_MAX`, so a larger number is no such record (404), not a
    database overflow."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", PATH_ID_MAX)
        super().__init__(map, *args, **kwargs)


def json_depth(data) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if depth > JSON_DEPTH_MAX:
            return depth
        pending.extend((child, depth + 1) for child in children)
    return deepest


def has_body() -> bool:
    """Whether the request carries a body at all (an empty body is not malformed JSON)."""
    return bool(request.content_length) or bool(request.get_data(cache=True))


def load_json(schema, *, partial=False):
    """Parse the request body as a JSON object and load it through `schema`.

    Wrong content type -> 415; malformed JSON, nesting deeper than `JSON_DEPTH_MAX` or not an
    object -> 400; unknown or invalid fields (a text with a control character, a date not
    written YYYY-MM-DD, ...) -> 422 naming each field. Nothing has been written yet when these fire.
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
    except RecursionError:
        data = None
        depth = JSON_DEPTH_MAX + 1
    else:
        depth = json_depth(data)
    if depth > JSON_DEPTH_MAX:
        raise BadRequest(f"The JSON body nests arrays and objects more than {JSON_DEPTH_MAX} levels deep; "
                         "send a flat object of the documented fields.")
    if not isinstance(data, dict):
        raise BadRequest(_l("The body must be a JSON object."))
    try:
        return schema.load(data, partial=partial)
    except MarshmallowValidationError as error:
        raise ValidationError(_l("Some fields are invalid."), fields=_flatten_messages(error.messages)) from None


def _flatten_messages(messages) -> dict:
    if isinstance(messages, dict):
        return {str(k): (v if isinstance(v, list) else [v]) if not isinstance(v, dict) else _flatten_messages(v)
                for k, v in messages.items()}
    return {"_schema": messages}


def parse_query(schema):
    """Load query-string parameters through `schema`; a bad value (not readable, or outside its
    documented bounds) -> 422 naming the parameter."""
    try:
        return schema.load(request.args.to_dict())
    except MarshmallowValidationError as error:
        raise ValidationError(_l("Some query parameters are invalid."),
                              fields=_flatten_messages(error.messages)) from None


def page_argument(name: str = "page") -> int:
    """A web list's page number from the query string: 1 when absent; a whole number in ASCII
    digits from 1 to `PAGE_MAX`, else 422 naming the parameter (a larger number would overflow
    the database's OFFSET)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return 1
    if not _PAGE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= PAGE_MAX:
        message = _("The page number must be a whole number from 1 to %(max)s.", max=PAGE_MAX)
        raise ValidationError(message, fields={name: [message]})
    return int(raw)


def query_text(name: str, max_length: int) -> str:
    """A free-text query parameter of a web page (a search box), stripped and cut to
    `max_length`; 422 naming it when it holds a character no text may hold (`ledger.text`)."""
    value = request.args.get(name, "")
    if text_problem(value) is not None:
        message = _("This text contains a control character (an invisible character such as NUL); "
                    "remove it and send the form again.")
        raise ValidationError(message, fields={name: [message]})
    return value.strip()[:max_length]


def current_operation() -> Operation | None:
    """The `@operation` record of the view answering this request (None for views without one)."""
    return operation_of(current_app.view_functions.get(request.endpoint))


def _declared(kind: str):
    record = current_operation()
    schema = getattr(record, kind, None) if record is not None else None
    if schema is None:
        raise RuntimeError(f"{request.endpoint} declares no {kind} schema on its @operation")
    return record, (schema() if isinstance(schema, type) else schema)


def declared_query_parameters(record: Operation) -> set[str]:
    """The query parameters `record` documents: its query schema's fields, its further
    `parameters` in the query, and the `COMMON_QUERY_PARAMETERS`."""
    names = set(COMMON_QUERY_PARAMETERS)
    if record.query is not None:
        schema = record.query() if isinstance(record.query, type) else record.query
        names.update(field.data_key or name for name, field in schema.load_fields.items())
    names.update(parameter["name"] for parameter in record.parameters if parameter.get("in") == "query")
    return names


def refuse_unknown_query_parameters() -> None:
    """Before an API view runs: a query parameter its `@operation` does not document -> 400 naming
    it (`UnknownQueryParameter`); a `lang` outside the languages offered -> 422 naming it."""
    record = current_operation()
    if record is None:
        return  # the documentation pages
    unknown = sorted(set(request.args) - declared_query_parameters(record))
    if unknown:
        allowed = ", ".join(sorted(declared_query_parameters(record)))
        names = ", ".join(safe_name(name) or "(empty name)" for name in unknown)
        raise UnknownQueryParameter(
            f"Unknown query parameter {names}: this operation reads only {allowed}.",
            fields={safe_name(name) or "(empty name)": [f"not a parameter of this operation (it reads {allowed})"]
                    for name in unknown})
    for name, values in COMMON_QUERY_PARAMETERS.items():
        given = request.args.getlist(name)
        if given and any(value not in values for value in given):
            message = "must be one of: " + ", ".join(values)
            raise ValidationError(f"Some query parameters are invalid: {name} {message}.", fields={name: [message]})


def load_body():
    """The body loaded through the view's declared `body` schema. A body the operation marks as
    optional may be left out: then the schema's defaults are loaded from `{}`."""
    record, schema = _declared("body")
    if not record.body_required and not has_body():
        return schema.load({})
    return load_json(schema)


def load_query():
    """The query string loaded through the view's declared `query` schema."""
    _record, schema = _declared("query")
    return parse_query(schema)


# --- writing through the API ----------------------------------------------------------------------

def idempotency_key_from_header(required: bool) -> str | None:
    """The request's `Idempotency-Key`: None when absent and optional; refused when absent and
    required (`IdempotencyKeyRequired`), or when it is not what the document says a key is: 1 to
    `IDEMPOTENCY_KEY_MAX` printable ASCII characters (`IDEMPOTENCY_KEY_PATTERN`)."""
    if "Idempotency-Key" not in request.headers:
        if required:
            raise IdempotencyKeyRequired()
        return None
    raw = request.headers["Idempotency-Key"]
    key = raw.strip()
    if not key and required:
        raise IdempotencyKeyRequired()
    if key != raw or len(key) > IDEMPOTENCY_KEY_MAX or not _IDEMPOTENCY_KEY_RE.match(key):
        raise BadRequest(f"The Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters, "
                         "such as a UUID; send a new one.", fields={"Idempotency-Key": [
                             f"must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters"]})
    return key


_IDEMPOTENCY_KEY_RE = re.compile(IDEMPOTENCY_KEY_PATTERN)


def api_write(work, *, status: int | None = None):
    """Run a JSON write and commit once: `work(key)` returns the response body (a dict).

    The view's `@operation` says whether an `Idempotency-Key` is required, accepted or
    ignored, and the success status (its lowest 2xx response; `status` overrides it).
    With a key, the first result is stored and a replay returns it (same status, same body);
    without one the work simply runs. Any error rolls the whole request back and is raised
    for the error handlers to render (a `LedgerError`'s `fields` go into the JSON body).
    """
    record = current_operation()
    status = status or (record.success_status if record is not None else 200)
    key_rule = record.idempotency_key if record is not None else None
    try:
        key = idempotency_key_from_header(key_rule == "required") if key_rule else None
        if key is None:
            body, answered = work(None), status
        else:
            fingerprint = request_fingerprint(request.method, request.path, request.get_data(cache=True))
            answered, body = run_idempotent(db.session, current_actor().id, "api:" + key, fingerprint,
                                            lambda: (status, work(key)))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return jsonify(body), answered


# --- writing through an HTML form -----------------------------------------------------------------

#: The web's wording of the refusals a person can act on, in the interface language, by error
#: code (the error classes carry the English message the API returns; these are translated).
REFUSAL_MESSAGES = {
    "insufficient_funds": _l("The fund cannot afford this: its available balance is too small."),
    "period_closed": _l("This month is closed; choose a date in an open month."),
    "hold_expired": _l("The hold has expired; its money was released and it can no longer be paid."),
    "hold_not_pending": _l("The hold is no longer pending."),
    "already_reversed": _l("This entry has already been reversed."),
    "idempotency_conflict": _l("This form was already submitted with other values. "
                               "Open the form again to record a new entry."),
    "ledger_busy": _l("The ledger is busy; nothing was saved. Please try again."),
    "confirmation_required": _l("A receipt this large is recorded only once confirmed: check the amount and "
                                "send the form again."),
    "allocation_off_tree": _l("An allocation goes one level up or down the fund tree only: between the city "
                              "and a county, or between a county and one of its own villages, either way."),
}

#: Which form field a refusal belongs next to, by error code.
REFUSAL_FIELDS = {"insufficient_funds": "amount", "confirmation_required": "amount", "period_closed": "value_on", "allocation_off_tree": "to_fund",
                  "value_date_out_of_range": "value_on",
                  "period_not_ended": "month", "period_out_of_order": "month", "period_not_latest_closed": "reason"}


def form_fingerprint() -> str:
    """The form's fields in a stable order, without the CSRF token (it changes per session)."""
    items = sorted((name, value) for name, values in request.form.lists() for value in values
                   if name != "csrf_token")
    return request_fingerprint("POST", request.path, urlencode(items).encode())


def refusal_message(error: LedgerError) -> str | None:
    """The translated message of a refusal a person can act on, or None for the others."""
    message = REFUSAL_MESSAGES.get(error.code)
    details = error.details
    if error.code == "period_not_ended":
        return _("The month to close (%(month)s) has not ended yet: it can be closed from %(day)s on.",
                 month=details["month"], day=details["closable_on"])
    if error.code == "period_out_of_order":
        return _("Months are closed in order: close %(month)s first.", month=details["open_months"][0])
    if error.code == "period_not_latest_closed":
        return _("Only the latest closed month (%(month)s) can be reopened; reopen it first.",
                 month=details["latest_closed"])
    if error.code == "period_closed" and details.get("first_open_on"):
        return _("This month is closed (closing a month closes every month before it): choose a date on or "
                 "after %(day)s.", day=details["first_open_on"])
    if error.code == "value_date_out_of_range":
        return _("Choose a date between %(earliest)s and %(latest)s.", earliest=details["earliest"],
                 latest=details["latest"])
    if error.code == "insufficient_funds" and error.details.get("available_fen") is not None:
        return _("The fund cannot afford this: it has %(available)s available.",
                 available=format_cny(error.details["available_fen"]))
    return message


def _add_error(field, message) -> None:
    field.errors = list(field.errors) + [message]


def place_refusal(form, error: LedgerError, fields: dict[str, str] | None = None,
                  refusal_field: str | None = None) -> int:
    """Put a refusal next to the field it concerns (or above the form); return the status.

    Money refusals get a message in the interface language, next to the field their code
    names (`REFUSAL_FIELDS`); a service's field errors go next to the form field of that name
    (`fields` maps service names to form names). What has no field of its own goes next to
    `refusal_field` when the form names one, else above the form.
    """
    fallback = getattr(form, refusal_field, None) if refusal_field else None

    def put(target, message):
        if target is not None:
            _add_error(target, message)
        elif fallback is not None:
            _add_error(fallback, message)
        else:
            form.form_errors.append(message)

    message = refusal_message(error)
    if message is not None:
        put(getattr(form, REFUSAL_FIELDS.get(error.code, ""), None), message)
        return error.status
    unplaced = []
    for name, problems in (error.fields or {}).items():
        field = getattr(form, (fields or {}).get(name, name), None)
        if field is not None and hasattr(field, "errors") and name != "idempotency_key":
            field.errors = list(field.errors) + [str(problem) for problem in problems]
        else:
            unplaced.extend(f"{name}: {problem}" for problem in problems)
    if unplaced or not error.fields:
        put(None, error.message if not unplaced else "; ".join(unplaced))
    return error.status if error.status >= 400 else 400


def form_write(form, work, done, fields: dict[str, str] | None = None, *, refusal_field: str | None = None):
    """The forms' one path: when `form` validates, run `work(key)` (it returns a dict) once per the
    form's one-time key (a form without `idempotency_key` simply runs), commit, and answer
    `done(body)`; a `LedgerError` is rolled back and placed on the form (`place_refusal`).

    Returns (the answer, None) on success, else (None, the status to show the form again with:
    200 for a first view, 422 for invalid input, the refusal's status).
    """
    if not form.validate_on_submit():
        return None, 422 if request.method == "POST" else 200
    try:
        one_time = getattr(form, "idempotency_key", None)
        if one_time is None:
            body = work(None)
        else:
            key = "web:" + one_time.data
            _status, body = run_idempotent(db.session, current_user.id, key, form_fingerprint(),
                                           lambda: (201, work(key)))
        db.session.commit()
    except LedgerError as error:
        db.session.rollback()
        return None, place_refusal(form, error, fields, refusal_field)
    except BaseException:
        db.session.rollback()
        raise
    return done(body), None


# --- the request boundary -------------------------------------------------------------------------

_AFTER_COMMIT = "_ledger_after_commit"


def after_commit(callback) -> None:
    """Call `callback()` once this request has committed (not at all if it fails)."""
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def commit_request(response):
    """The request boundary (an after-request hook): commit what the request did, once.

    Money writes committed already (`api_write`, `form_write`), so this commit is empty for
    them; a request that raised was rolled back by the error handlers. Callbacks from
    `after_commit` run only for a request that answered below 400 (g may outlive one request
    when a test holds the app context, so they are taken off it either way).
    """
    callbacks = g.pop(_AFTER_COMMIT, [])
    db.session.commit()
    if response.status_code < 400:
        for callback in callbacks:
            callback()
    return response
