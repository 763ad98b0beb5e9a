"""The registry's API edge: request and response schemas (marshmallow).

Responses carry resident IDs and bank account numbers masked (`3708**********1234`), except
`PersonFullOut`, answered only by the audited reveal operation.
"""
from __future__ import annotations

import base64
import binascii

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ..identity import IdentityNumberError, mask_id_number, validate_resident_id
from ..schemas import PAGE_MAX, QuerySchema, StrictSchema
from .models import Category, Relation
from .services import (ADDRESS_MAX, BANK_NAME_MAX, NAME_MAX, SEARCH_MAX, CategoryInput, PersonInput,
                       check_bank_account, check_phone)

#: The largest registry file the API takes (base64 in JSON adds a third; the body limit still applies).
IMPORT_FILE_MAX_BYTES = 10 * 1024 * 1024


class PersonsQuery(QuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=SEARCH_MAX),
                      metadata={"description": "a name, the last 4-6 characters of a resident ID, or a whole ID"})
    county = fields.String(load_default=None, validate=validate.Length(max=20),
                           metadata={"description": "a county's code, e.g. 370827"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CategoryIn(StrictSchema):
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)
    disability_grade = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=4),
                                      metadata={"description": "1 to 4, for a disability only"})

    @validates_schema
    def check_rules(self, data, **kwargs):
        if data["category"] == Category.disability.value and data.get("disability_grade") is None:
            raise ValidationError("a disability needs its grade, 1 to 4", "disability_grade")
        if data["category"] != Category.disability.value and data.get("disability_grade") is not None:
            raise ValidationError("only a disability has a grade", "disability_grade")
        if data.get("ends_on") is not None and data["ends_on"] < data["starts_on"]:
            raise ValidationError("ends before it starts", "ends_on")


class PersonIn(StrictSchema):
    """A person to register; a resident ID already registered answers that person (`created: false`)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    resident_id = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                metadata={"description": "居民身份证号 (GB 11643 check digit); sex and birth date "
                                                         "are read from it"})
    village_code = fields.String(required=True, validate=validate.Length(min=1, max=20),
                                 metadata={"description": "the village / community, e.g. 370827-001"})
    phone = fields.String(load_default="", validate=validate.Length(max=20))
    address = fields.String(load_default="", validate=validate.Length(max=ADDRESS_MAX))
    household_head_resident_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                                               metadata={"description": "the head's resident ID (registered "
                                                                        "already); absent: the head of a new "
                                                                        "household"})
    relation = fields.String(load_default=Relation.head.value, validate=validate.OneOf([r.value for r in Relation]))
    categories = fields.List(fields.Nested(CategoryIn), load_default=list, validate=validate.Length(max=8))
    bank_name = fields.String(load_default="", validate=validate.Length(max=BANK_NAME_MAX))
    bank_account_number = fields.String(load_default="", validate=validate.Length(max=40))
    bank_account_holder = fields.String(load_default="", validate=validate.Length(max=NAME_MAX))

    @validates("name")
    def check_name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("must not be blank")

    @validates("resident_id")
    def check_resident_id(self, value, **kwargs):
        try:
            validate_resident_id(value)
        except IdentityNumberError as error:
            raise ValidationError(str(error)) from None

    @validates("phone")
    def check_phone(self, value, **kwargs):
        try:
            check_phone(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    @validates("bank_account_number")
    def check_bank_account(self, value, **kwargs):
        try:
            check_bank_account(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def person_input(data: dict) -> PersonInput:
    return PersonInput(
        name=data["name"], resident_id=data["resident_id"], village_code=data["village_code"], phone=data["phone"],
        address=data["address"], household_head_resident_id=data["household_head_resident_id"],
        relation=Relation(data["relation"]),
        categories=tuple(CategoryInput(Category(item["category"]), item["starts_on"], item["ends_on"],
                                       item["disability_grade"]) for item in data["categories"]),
        bank_name=data["bank_name"], bank_account_number=data["bank_account_number"],
        bank_account_holder=data["bank_account_holder"])


class ImportIn(StrictSchema):
    filename = fields.String(load_default="", validate=validate.Length(max=255))
    content_base64 = fields.String(required=True,
                                   validate=validate.Length(min=1, max=IMPORT_FILE_MAX_BYTES * 4 // 3 + 4),
                                   metadata={"description": "the CSV or XLSX file's bytes, base64"})
    apply = fields.Boolean(load_default=False, metadata={"description": "false: preview only; true: import all "
                                                                        "rows or none"})

    @validates("content_base64")
    def check_base64(self, value, **kwargs):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not base64") from None


class CategoryOut(Schema):
    category = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    disability_grade = fields.Integer(allow_none=True)


class PersonOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id_masked = fields.String(metadata={"description": "3708**********1234"})
    sex = fields.String()
    born_on = fields.Date()
    phone = fields.String()
    address = fields.String()
    village_code = fields.String()
    village = fields.String()
    county_code = fields.String()
    county = fields.String()
    household_id = fields.Integer(allow_none=True)
    relation = fields.String()
    categories = fields.List(fields.Nested(CategoryOut))
    bank_name = fields.String()
    bank_account_masked = fields.String()
    bank_account_holder = fields.String()
    created = fields.Boolean(metadata={"description": "on registration: false when the ID was registered already"})


class PersonListOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(PersonOut))


class PersonFullOut(Schema):
    id = fields.Integer()
    name = fields.String()
    resident_id = fields.String(metadata={"description": "the full number; this view is written to the audit log"})
    bank_account_number = fields.String()


class RowErrorOut(Schema):
    row = fields.Integer()
    column = fields.String(allow_none=True)
    key = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True)
    message = fields.String()


class ImportOut(Schema):
    filename = fields.String()
    file_type = fields.String()
    encoding = fields.String(allow_none=True)
    sha256 = fields.String()
    row_count = fields.Integer()
    ok = fields.Boolean(metadata={"description": "no row refused"})
    already_imported = fields.Boolean(metadata={"description": "this file was imported before (nothing written)"})
    applied = fields.Boolean(metadata={"description": "written now"})
    batch_id = fields.Integer(allow_none=True)
    errors = fields.List(fields.Nested(RowErrorOut))


def import_data(parsed, *, already: bool, applied: bool, batch_id) -> dict:
    """The answer of an import operation (`ImportOut`): the file as read, and its row errors unless
    it was imported before. Any feature's import answers with it."""
    errors = [] if already else [error.as_dict() for error in parsed.errors[:1000]]
    return ImportOut().dump({"filename": parsed.filename, "file_type": parsed.file_type,
                             "encoding": parsed.encoding, "sha256": parsed.sha256, "row_count": parsed.row_count,
                             "ok": already or parsed.ok, "already_imported": already, "applied": applied,
                             "batch_id": batch_id, "errors": errors})


def person_data(person, created: bool | None = None) -> dict:
    village = person.region
    county = person.county
    data = {
        "id": person.id, "name": person.name, "resident_id_masked": mask_id_number(person.resident_id),
        "sex": person.sex.value if hasattr(person.sex, "value") else person.sex, "born_on": person.born_on,
        "phone": person.phone, "address": person.address, "village_code": village.code, "village": village.name,
        "county_code": county.code, "county": county.name, "household_id": person.household_id,
        "relation": person.relation.value if hasattr(person.relation, "value") else person.relation,
        "categories": [{"category": item.category.value, "starts_on": item.starts_on, "ends_on": item.ends_on,
                        "disability_grade": item.disability_grade} for item in person.categories],
        "bank_name": person.bank_name, "bank_account_masked": mask_id_number(person.bank_account_number),
        "bank_account_holder": person.bank_account_holder,
    }
    if created is not None:
        data["created"] = created
    return data

