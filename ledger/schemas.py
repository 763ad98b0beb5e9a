"""Marshmallow pieces shared by every API schema: amounts, dates, strict loading."""
from __future__ import annotations

from marshmallow import INCLUDE, RAISE, Schema, fields

from .money import AmountError, fen_to_decimal_string, parse_amount


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
            raise self.make_error("invalid", message=str(error)) from error

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


class StrictSchema(Schema):
    """Unknown fields are refused, naming them."""

    class Meta:
        unknown = RAISE


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
    # account_locked
    retry_after = fields.Integer(metadata={"description": "account_locked: seconds until a login may be tried again"})
    # last: the name `fields` shadows the marshmallow module in the class body from here on
    fields = fields.Dict(keys=fields.String(),
                         metadata={"additionalProperties": FIELD_ERRORS_SCHEMA["additionalProperties"],
                                   "description": FIELD_ERRORS_SCHEMA["description"]})


class ErrorResponse(Schema):
    error = fields.Nested(ErrorDetail, required=True)
