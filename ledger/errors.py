"""Errors as types, and the one place that turns them into responses.

Every rule the ledger enforces raises a subclass of `LedgerError`. This module
imports nothing (the journal core raises these errors); the one place that turns
them into responses is `ledger.error_handlers`. Each class carries its HTTP
status, a stable machine code and, as the first line of its docstring, the
message a person reads; the API renders

    {"error": {"code": "...", "message": "...", "fields": {...}}}

and HTML pages render a friendly error page. Services never build responses.

Messages are deferred: a refusal is raised in whatever language, and shown in the reader's. The
default message (the docstring's first line) and every message a service writes with `_l(...)`
(this module's, which imports no Flask, so the journal core may use it) are `Message`s: a `str`
holding the English text, for logs, programs and tests, that remembers its msgid and parameters.
`str(message)` renders it in the current request's language through the translator the app
factory installs (`set_translator`); `localized(value)` does so for the nested dicts and lists of
`fields` and `details` before they are written out. Without a translator (a script, the CLI
outside a request) a message is its English text. `pybabel extract` finds `_l(...)` calls by
keyword and the docstring messages through `ledger.i18n_extract` (registered in babel.cfg).
"""
from __future__ import annotations

from typing import Callable

_translate: Callable[[str], str] | None = None


def set_translator(translate: Callable[[str], str] | None) -> None:
    """Install the function that looks a msgid up in the reader's catalog (the app factory
    passes flask_babel's `gettext`); None makes every message English again."""
    global _translate
    _translate = translate


def _rebuild(msgid: str, params: dict) -> "Message":
    return Message(msgid, **params)


class Message(str):
    """A message a person reads: its English text now, the reader's language when shown.

    `Message("must not exceed the hold's %(amount)s", amount="3000.00")` equals (as a `str`) the
    English text; `str()` of it looks the msgid up at that moment and fills in the parameters,
    each rendered in turn when it is itself a `Message`.
    """

    def __new__(cls, msgid: str, **params):
        english = {name: str.__str__(value) if isinstance(value, Message) else value for name, value in params.items()}
        self = super().__new__(cls, msgid % english if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __str__(self) -> str:
        english = str.__str__(self)
        if _translate is None:
            return english
        try:
            text = _translate(self.msgid)
            if not self.params:
                return text
            return text % {name: str(value) if isinstance(value, Message) else value
                           for name, value in self.params.items()}
        except (RuntimeError, KeyError, ValueError, TypeError):
            # no request to take a language from, or a catalog entry that lost a placeholder
            return english

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return _rebuild, (self.msgid, self.params)


#: Marks a message for extraction (`pybabel extract -k _l`) and defers it: `_l("...", name=value)`.
_l = Message


def localized(value):
    """`value` with every `Message` in it rendered in the reader's language (dicts, lists, tuples)."""
    if isinstance(value, Message) or (hasattr(value, "__html__") and not isinstance(value, str)):
        return str(value)  # ours, or flask_babel's lazy strings
    if isinstance(value, dict):
        return {key: localized(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [localized(item) for item in value]
    return value


class LedgerError(Exception):
    """Base of every refusal the product makes on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, **details):
        self.message = message or self.default_message()
        self.fields = fields or {}
        self.details = details
        super().__init__(self.message)

    @classmethod
    def default_message(cls) -> Message:
        """The docstring's first line, deferred (found by `ledger.i18n_extract`)."""
        return Message(doc_message(cls.__doc__) or cls.code)

    def to_dict(self) -> dict:
        """The API body, in the reader's language (English outside a request)."""
        body = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = localized(self.fields)
        body.update(localized(self.details))
        return {"error": body}


def doc_message(docstring: str | None) -> str:
    """The message of an error class: the first line of its docstring (what the extractor reads too)."""
    return (docstring or "").strip().splitlines()[0].strip() if (docstring or "").strip() else ""


class BadRequest(LedgerError):
    """The request cannot be read (malformed JSON, wrong content type, bad parameter)."""

    status = 400
    code = "bad_request"


class UnknownQueryParameter(BadRequest):
    """A query parameter this operation does not read was sent: leave it out, or correct its name.

    Rule: an API operation reads the query parameters its OpenAPI document lists (and `lang`, the
    language of the messages); any other is refused rather than silently ignored, so a misspelt
    filter (`?as-of=`) never returns an unfiltered answer that looks filtered.
    """

    code = "unknown_query_parameter"


class IdempotencyKeyRequired(BadRequest):
    """Send an `Idempotency-Key` header (a unique string of up to 120 printable characters, e.g. a UUID) with every request that moves money, so that a retry can never pay twice.

    Rule: a money-moving API write runs once per (user, key); the length limit is
    `ledger.requests.IDEMPOTENCY_KEY_MAX` (the column holds 200 characters, web keys carry a prefix).
    """

    code = "idempotency_key_required"


class UnsupportedMediaType(LedgerError):
    """Send the body as JSON with `Content-Type: application/json`."""

    status = 415
    code = "unsupported_media_type"


class ValidationError(LedgerError):
    """One or more fields are invalid; `fields` says which and why."""

    status = 422
    code = "validation_error"


class AllocationOffTree(ValidationError):
    """An allocation moves money only between a fund and its parent or one of its own children: city and county, a county and its own villages, either way.

    Rule: `funds.services.allocate` follows the fund tree one level at a time, so every yuan that
    reaches a village passes through its county's books. `fields` names `to_fund`; `details` carry
    the two fund codes and the codes the source may allocate to (`allowed`).
    """

    code = "allocation_off_tree"


class ConfirmationRequired(ValidationError):
    """A receipt this large is recorded only once confirmed: check the amount, the fund and the payer, then send it again with `confirm_large_amount` set to true.

    Rule: `funds.services.record_receipt` refuses a receipt above `LARGE_RECEIPT_CONFIRM_FEN`
    (default 500,000.00 yuan) unless the caller confirms it, so that a slip of the keyboard (an
    extra zero) never posts unseen. `fields` names `confirm_large_amount`; `details` carry the
    amount, the threshold and the amount in Chinese capital words (`amount_in_words`).
    """

    code = "confirmation_required"


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


class DatabaseUnavailable(LedgerError):
    """The books cannot be reached right now; retry in a few seconds with the same Idempotency-Key (a write runs at most once).

    Rule: while the database is unreachable (refused or dropped connections, the server shutting
    down), every request, read or write, answers 503 with `Retry-After`; the request may or may not
    have been committed when its connection dropped, so a client retries with the same
    `Idempotency-Key` and gets the first result or a fresh run, never two. The app reconnects by
    itself (`pool_pre_ping` and SQLAlchemy's invalidation of the pool on a disconnect).
    """

    status = 503
    code = "database_unavailable"


class RateLimited(LedgerError):
    """Too many requests; wait as long as `Retry-After` says and try again.

    Rule: sign-in and the API are limited per user and per address (`RATELIMIT_*` settings,
    `ledger.ratelimit`); a refused request did nothing.
    """

    status = 429
    code = "rate_limited"
