"""Marshmallow pieces shared by every API schema: amounts, dates, strict loading, and the one
check of hostile input at the JSON and query-string edge (`EdgeSchema`).

Every request schema (bodies: `StrictSchema`; query strings: `QuerySchema`) derives from
`EdgeSchema`, whose pre-load hook refuses, before any field is read:

* a text holding a character `ledger.text.text_problem` refuses (NUL, other control
  characters, a lone surrogate), anywhere in a field's value, naming the field;
* a date that is not ISO `YYYY-MM-DD` in ASCII digits or not in the years 1900 to 2099, a timestamp that is not ISO
  `YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM]` (Python alone would read "20261201",
  "2026-W48-2" and digits of any script), and an integer in anything but ASCII digits.

Numbers carry their bounds as `validate.Range` (documented in the OpenAPI schema as minimum /
maximum); `PAGE_MAX` bounds every page number, so an offset never leaves BigInteger.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError as MarshmallowValidationError, fields, pre_load

from .money import AmountError, fen_to_decimal_string, parse_amount
from .text import normalised_text, safe_name, text_problem
from .timeutil import LOCAL_TZ, as_utc, date_year_problem, parse_iso_date

#: Highest page number any list accepts (API and web): far beyond any real list, and
#: PAGE_MAX * the largest page size stays a small integer for the database's OFFSET.
PAGE_MAX = 100_000
#: Largest id a path may name (`<int:...>`, `ledger.requests.PathIdConverter`): ids are BigInteger.
PATH_ID_MAX = 2**63 - 1

_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                           r"(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII)
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]{1,4000}", re.ASCII)


def _checked_value(value, path: str = ""):
    """`value` with CR LF read as LF in every text in it; MarshmallowValidationError naming the
    first text a field may not hold."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise MarshmallowValidationError(path + problem)
        return normalised_text(value)
    if isinstance(value, Mapping):
        checked = {}
        for key, item in value.items():
            if isinstance(key, str) and text_problem(key) is not None:
                raise MarshmallowValidationError(f"the key {safe_name(key)!r} {text_problem(key)}")
            checked[key] = _checked_value(item, path)
        return checked
    if isinstance(value, list):
        return [_checked_value(item, path) for item in value]
    return value


def _format_problem(field, value) -> str | None:
    """Why `value` (a text) is not in the one format `field` reads, or None."""
    if isinstance(field, fields.Date):  # before DateTime: Date is one
        try:
            return date_year_problem(parse_iso_date(value))
        except ValueError:
            return "Not a valid date: write it as YYYY-MM-DD, e.g. 2026-12-01."
    elif isinstance(field, fields.DateTime):
        if not _ISO_DATETIME.fullmatch(value):
            return "Not a valid timestamp: write it as YYYY-MM-DDTHH:MM:SS, e.g. 2026-12-01T09:30:00+08:00."
    elif isinstance(field, fields.Integer):
        if not _ASCII_INTEGER.fullmatch(value):
            return "Not a whole number: write it in the digits 0-9."
    return None


class EdgeSchema(Schema):
    """A request schema: hostile input is refused before any field reads it (see the module
    docstring), each problem under the name of its field."""

    @pre_load
    def refuse_hostile_input(self, data, **kwargs):
        if not isinstance(data, Mapping):
            return data
        by_key = {field.data_key or name: field for name, field in self.load_fields.items()}
        keep_unknown = self.unknown != EXCLUDE
        errors: dict[str, list[str]] = {}
        checked = {}
        for key, value in data.items():
            field = by_key.get(key)
            if isinstance(key, str) and text_problem(key) is not None:
                if field is None and not keep_unknown:
                    continue
                errors[safe_name(key)] = [f"This field name {text_problem(key)}."]
                continue
            if field is None and not keep_unknown:
                continue  # not ours (e.g. ?lang=): dropped by the schema, never read
            try:
                if not isinstance(field, fields.Nested):  # a nested schema checks its own fields, by name
                    value = _checked_value(value)
            except MarshmallowValidationError as error:
                errors[key] = [f"This text {message}." for message in error.messages]
                continue
            if field is not None and isinstance(value, str):
                problem = _format_problem(field, value)
                if problem is not None:
                    errors[key] = [problem]
                    continue
            checked[key] = value
        if errors:
            raise MarshmallowValidationError(errors)
        return checked


class Amount(fields.Field):
    """Yuan as a decimal string at the edge ("1234.56"), integer fen inside.

    Loading refuses JSON numbers (floats above all), negatives, zero, more than
    two decimals and amounts over 10^12 yuan.
    """

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("description", 'Amount in yuan as a decimal string, e.g. "1234.56"')
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else fen_to_decimal_string(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_amount(value, allow_zero=self.allow_zero)
        except AmountError as error:
            raise self.make_error("invalid", message=error.args[0]) from error

    default_error_messages = {"invalid": "{message}"}

    def make_error(self, key, **kwargs):
        if key == "invalid" and "message" in kwargs:
            from marshmallow import ValidationError as MarshmallowValidationError

            return MarshmallowValidationError(kwargs["message"])
        return super().make_error(key, **kwargs)


class AmountOut(Amount):
    """An amount the API answers with: a posting, a balance, a total. It may be negative (a fund's effect,
    "-0.05") and beyond the input limit (roll-ups), so it is documented by its own pattern."""

    #: Yuan with exactly two decimals, a minus sign for negatives (`money.fen_to_decimal_string`).
    PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


class PageOut(Schema):
    """The frame of one page of a list an API answers (`ledger.paging.Page`); a list's schema adds its `items`."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class LocalDateTime(fields.DateTime):
    """An ISO 8601 timestamp; one without an offset is read as Asia/Shanghai local time."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TZ)
        return as_utc(moment)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else as_utc(value).isoformat()


class StrictSchema(EdgeSchema):
    """A request body: unknown fields are refused, naming them."""

    class Meta:
        unknown = RAISE


class QuerySchema(EdgeSchema):
    """A query string: parameters of others (?lang=) are left alone."""

    class Meta:
        unknown = EXCLUDE
#: What `fields` of an error holds: each field's messages, or for a nested object (a disbursement's
#: `payee`) the same mapping one level down (`{"payee": {"id_number": ["..."]}}`).
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Messages by field name; a nested object's fields are named one level down",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                       {"$ref": "#/components/schemas/FieldErrors"}]},
}


class ErrorDetail(Schema):
    """The `error` of every refusal: a stable `code`, a `message` a person reads, the fields concerned,
    and for some refusals the facts behind them (the names below; others may be added, so clients
    must ignore what they do not know)."""

    class Meta:
        unknown = INCLUDE
        ordered = True

    code = fields.String(required=True)
    message = fields.String(required=True)
    # insufficient_funds
    fund_code = fields.String(metadata={"description": "insufficient_funds: the fund short of money"})
    available_fen = fields.Integer(metadata={"description": "insufficient_funds: what the fund has available, in fen"})
    # period_closed, period_not_ended, period_out_of_order, period_not_latest_closed
    month = fields.String(metadata={"description": "the month (YYYY-MM) the refusal concerns"})
    closable_on = fields.String(metadata={"description": "period_not_ended: the first day the month may be closed"})
    open_months = fields.List(fields.String(), metadata={"description": "period_out_of_order: the earlier months "
                                                                       "still open"})
    latest_closed = fields.String(allow_none=True,
                                  metadata={"description": "period_not_latest_closed: the month that may be reopened"})
    # hold_expired, hold_not_pending, already_reversed, illegal_transition
    hold_id = fields.Integer(metadata={"description": "the hold concerned"})
    state = fields.String(metadata={"description": "the record's state that refuses the move"})
    reversed_by = fields.String(metadata={"description": "already_reversed: the voucher of the reversal"})
    record = fields.String(metadata={"description": "illegal_transition: what kind of record"})
    record_id = fields.Raw(metadata={"description": "illegal_transition: the record's number or label"})
    action = fields.String(metadata={"description": "illegal_transition: the move refused"})
    # allocation_off_tree
    from_fund = fields.String(metadata={"description": "allocation_off_tree: the source fund"})
    to_fund = fields.String(metadata={"description": "allocation_off_tree: the target refused"})
    allowed = fields.List(fields.String(), metadata={"description": "allocation_off_tree: the funds the source may "
                                                                   "allocate to"})
    # confirmation_required
    amount = fields.String(metadata={"description": "confirmation_required: the receipt's amount (yuan, \"1234.56\")"})
    amount_in_words = fields.String(metadata={"description": "confirmation_required: the amount in Chinese capital "
                                                             "words (大写), e.g. 伍拾万元整"})
    confirm_above = fields.String(metadata={"description": "confirmation_required: the threshold (yuan) above which "
                                                           "a receipt needs `confirm_large_amount: true`"})
    # account_locked
    retry_after = fields.Integer(metadata={"description": "account_locked: seconds until a login may be tried again"})
    # last: the name `fields` shadows the marshmallow module in the class body from here on
    fields = fields.Dict(keys=fields.String(),
                         metadata={"additionalProperties": FIELD_ERRORS_SCHEMA["additionalProperties"],
                                   "description": FIELD_ERRORS_SCHEMA["description"]})


class ErrorResponse(Schema):
    error = fields.Nested(ErrorDetail, required=True)
