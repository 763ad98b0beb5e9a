"""Marshmallow pieces shared by every API schema: amounts, dates, strict loading."""
from __future__ import annotations

from marshmallow import Schema, fields, RAISE

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


class StrictSchema(Schema):
    """Unknown fields are refused, naming them."""

    class Meta:
        unknown = RAISE


class ErrorDetail(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorResponse(Schema):
    error = fields.Nested(ErrorDetail, required=True)
