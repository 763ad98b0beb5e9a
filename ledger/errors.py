"""Errors as types, and the one place that turns them into responses.

Every rule the ledger enforces raises a subclass of `LedgerError`. This module
imports nothing (the journal core raises these errors); the one place that turns
them into responses is `ledger.error_handlers`. Each class carries its HTTP
status, a stable machine code and, as the first line of its docstring, the
message a person reads; the API renders

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
