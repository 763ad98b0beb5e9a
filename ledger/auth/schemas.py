"""The API edge of users, organisations and tokens (marshmallow; also the OpenAPI schemas)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..schemas import StrictSchema
from .models import OrganisationKind, Role

LOCALES = ("zh_CN", "en")


class RegionSchema(Schema):
    code = fields.String(required=True, metadata={"description": "GB/T 2260 code, e.g. 370827"})
    name = fields.String(required=True, metadata={"description": "e.g. 鱼台县"})
    level = fields.Function(lambda region: region.level.value, metadata={"enum": ["city", "county", "village"]})


class OrganisationSchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable code, e.g. CSH-370827"})
    name = fields.String(required=True)
    kind = fields.Function(lambda o: OrganisationKind(o.kind).value,
                           metadata={"enum": [k.value for k in OrganisationKind]})
    region = fields.Nested(RegionSchema, required=True)
    credit_code = fields.String(allow_none=True, metadata={"description": "统一社会信用代码"})


class OrganisationListSchema(Schema):
    organisations = fields.List(fields.Nested(OrganisationSchema), required=True)


class MeSchema(Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.Function(lambda u: Role(u.role).value, metadata={"enum": [r.value for r in Role]})
    locale = fields.String(allow_none=True, metadata={"enum": list(LOCALES)})
    organisation = fields.Nested(OrganisationSchema, required=True)


class MeUpdateSchema(StrictSchema):
    """The fields a user may change about themselves."""

    display_name = fields.String(validate=validate.Length(min=1, max=100))
    locale = fields.String(allow_none=True, validate=validate.OneOf(LOCALES))


class TokenSchema(Schema):
    prefix = fields.String(required=True, metadata={"description": "first characters of the token"})
    label = fields.String()
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenListSchema(Schema):
    tokens = fields.List(fields.Nested(TokenSchema), required=True)


class TokenRevokeSchema(StrictSchema):
    """Which of the caller's tokens to revoke; with no body, the calling token itself."""

    prefix = fields.String(required=True, validate=validate.Length(min=4, max=12))


class TokenRevokedSchema(Schema):
    revoked = fields.Integer(required=True, metadata={"description": "how many tokens were revoked"})
