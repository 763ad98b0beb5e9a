"""The web forms' edge: one base class for every form, and the fields that read digits.

`LedgerForm` is the base of every form the web shows (Flask-WTF's `FlaskForm` with a CSRF
token). Its `Meta.bind_field` puts `refuse_control_characters` first among the filters of
every text field (`StringField` and its kinds: text areas, passwords, hidden fields) and
every single-choice field (the date and whole-number fields below check their own text), so a
NUL byte, another control character or a lone surrogate in any field is refused next to that
field (the form answers 422) before a validator, a service or the database sees it, with the
same rule the API applies (`ledger.text`).

A Chinese input method in fullwidth mode types ０-９: `DateField`, `WholeNumberField` and the
amount fields (`ledger.funds.forms`) turn those digits, and only those, into ASCII before
reading them (`ledger.text.ascii_digits_from_fullwidth`); digits of other scripts
("١٠٠") are refused, as the API refuses them.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField as WTFormsDateField
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import StopValidation

from .text import ascii_digits_from_fullwidth, normalised_text, text_problem
from .timeutil import parse_iso_date

_ASCII_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
CONTROL_CHARACTER_MESSAGE = _l("This text contains a control character (an invisible character such as NUL); "
                               "remove it and send the form again.")


class _RefusesControlCharacters:
    """A date or number field reads its text itself (filters see only the parsed value): it
    refuses the same characters as a text field, before `strip()` would quietly drop some
    (U+0085), and says so at the field, where a "required" validator would otherwise replace
    the message with its own (so the refusal stops validation in `pre_validate`)."""

    _control_character = False

    def _holds_control_character(self, valuelist) -> bool:
        self._control_character = any(isinstance(value, str) and text_problem(value) is not None
                                      for value in valuelist)
        if self._control_character:
            self.data = None
        return self._control_character

    def pre_validate(self, form):
        if self._control_character:
            raise StopValidation(CONTROL_CHARACTER_MESSAGE)
        super().pre_validate(form)


def refuse_control_characters(value):
    """A field's text with CR LF read as LF; ValueError (shown at the field) when it holds a
    character no text may hold (`ledger.text.text_problem`)."""
    if not isinstance(value, str):
        return value
    if text_problem(value) is not None:
        raise ValueError(CONTROL_CHARACTER_MESSAGE)
    return normalised_text(value)


class LedgerForm(FlaskForm):
    """The base of every web form (see the module docstring)."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, (StringField, SelectField)) and not issubclass(field_class,
                                                                                   SelectMultipleField):
                filters = tuple(unbound_field.kwargs.get("filters", ()))
                options = dict(options, filters=(refuse_control_characters, *filters))
            return unbound_field.bind(form=form, **options)


class DateField(_RefusesControlCharacters, WTFormsDateField):
    """A date typed YYYY-MM-DD (what a date input sends); fullwidth digits are read as ASCII."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if self._holds_control_character(valuelist):
            return
        text = ascii_digits_from_fullwidth(" ".join(valuelist).strip())
        if not text:
            self.data = None
            return
        try:
            self.data = parse_iso_date(text)
        except ValueError:
            self.data = None
            raise ValueError(self.gettext("Not a valid date value.")) from None


class WholeNumberField(_RefusesControlCharacters, IntegerField):
    """A whole number in the digits 0-9 (fullwidth digits are read as ASCII)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if self._holds_control_character(valuelist):
            return
        text = ascii_digits_from_fullwidth(valuelist[0].strip())
        if not _ASCII_WHOLE_NUMBER.fullmatch(text):
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        self.data = int(text)
