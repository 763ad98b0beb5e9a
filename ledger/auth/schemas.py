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

    display_name = fields.String(validate=validate.Length(min=1, max=100), metadata={"not_blank": True})
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


# --- user administration (administrators only) -----------------------------------------------------

class UserSchema(Schema):
    """A user as administrators see them."""

    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.Function(lambda u: Role(u.role).value, metadata={"enum": [r.value for r in Role]})
    organisation = fields.Function(lambda u: u.organisation.code, metadata={"description": "organisation code"})
    active = fields.Boolean(required=True, metadata={"description": "false: disabled, cannot sign in"})
    locked_until_at = fields.Method("_locked_until", allow_none=True,
                                    metadata={"description": "set while locked after failed sign-ins"})
    failed_login_count = fields.Integer(required=True)
    must_change_password = fields.Boolean(required=True,
                                          metadata={"description": "a one-time password is to be changed at sign-in"})
    last_login_at = fields.DateTime(allow_none=True)
    previous_login_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)

    def _locked_until(self, user):
        return fields.DateTime().serialize("at", {"at": user.locked_until_at}) if user.is_locked else None


class UserListSchema(Schema):
    users = fields.List(fields.Nested(UserSchema), required=True)


class AuditEventSchema(Schema):
    occurred_at = fields.DateTime(required=True)
    action = fields.String(required=True, metadata={"description": "e.g. user.create, user.disable, login"})
    by = fields.Function(lambda e: e.user.username if e.user is not None else None, allow_none=True,
                         metadata={"description": "who did it (null: the system, e.g. the command line)"})
    detail = fields.Dict(required=True)


class UserDetailSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    events = fields.List(fields.Nested(AuditEventSchema), required=True,
                         metadata={"description": "what was done to or by the account, newest first"})


class UserCreateSchema(StrictSchema):
    """A new user; the answer carries a one-time password, to be changed at the first sign-in."""

    username = fields.String(required=True, validate=validate.Length(min=2, max=80),
                             metadata={"description": "lower-case letters, digits, '.', '_' or '-'"})
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=40),
                                 metadata={"description": "organisation code, e.g. MZJ-370827"})


class IssuedPasswordSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    one_time_password = fields.String(required=True, metadata={
        "description": "shown this once; the user must change it at the next sign-in"})


class OrganisationCreateSchema(StrictSchema):
    """A new organisation; its code is made from its kind and region (e.g. CSH-370827)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"not_blank": True})
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrganisationKind]))
    region = fields.String(required=True, metadata={"description": "code of the city (370800) or a county"})
    credit_code = fields.String(load_default=None, allow_none=True,
                                metadata={"description": "the unified social credit code (统一社会信用代码), checked by its check character"})


class PasswordChangeSchema(StrictSchema):
    """Change one's own password: the current one and the new one (at least 12 characters, not a
    common password, not containing the username)."""

    current_password = fields.String(required=True, validate=validate.Length(max=200))
    new_password = fields.String(required=True, validate=validate.Length(max=200))


class PasswordChangedSchema(Schema):
    changed = fields.Boolean(required=True)
