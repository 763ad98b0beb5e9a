"""The OpenAPI document, generated from the `@operation` records on the API views.

Each view under /api/v1 carries one record (`@operation(summary=..., query=..., body=...,
responses=...)`): what it is, the marshmallow schemas it reads and answers, and whether it
takes an `Idempotency-Key`. The same record drives the parsing (`ledger.requests.load_body`,
`load_query`, `api_write`), so the document cannot say one thing while the view does another.
`build_spec(app)` walks the app's /api/v1 rules and adds to each record what every such
endpoint can answer, so no view lists it by hand:

* 401 everywhere (the bearer token);
* 403 where `require_roles` limits the roles (the roles are named);
* 404 on paths with parameters (no such record, or one outside the caller's sight);
* 400 everywhere (a query parameter the operation does not list; a body, a query or an
  `Idempotency-Key` that cannot be read), and the `lang` query parameter every operation takes;
* a text field of a request body or query carries the pattern of the characters a text may hold;
* 409 on every write; 413, 415 and 422 where a JSON body is read;
* the `Idempotency-Key` header, with its length limit, where the operation takes one.

A test fails when a route under /api/v1 has no record (`tests/test_openapi.py`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from marshmallow import fields as marshmallow_fields, validate

from .money import AMOUNT_PATTERN, ZERO_AMOUNT_PATTERN
from .schemas import FIELD_ERRORS_SCHEMA, PATH_ID_MAX, Amount, AmountOut, EdgeSchema
from .text import NON_BLANK_TEXT_PATTERN, TEXT_PATTERN
from .timeutil import PLAUSIBLE_DATE_PATTERN

#: Longest Idempotency-Key accepted (the column holds 200 characters; web keys carry a prefix).
IDEMPOTENCY_KEY_MAX = 120
#: What an Idempotency-Key is: printable ASCII (what an HTTP header carries), no space at either end
#: (HTTP drops it), 1 to IDEMPOTENCY_KEY_MAX characters. `ledger.requests` refuses any other key.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~](?:[ -~]*[!-~])?$"

#: Query parameters every API operation reads besides its own, with the values each takes: the
#: language of the messages (`ledger.select_locale`). Documented on every operation; any other
#: undocumented query parameter is refused (`ledger.requests.refuse_unknown_query_parameters`).
COMMON_QUERY_PARAMETERS = {"lang": ("zh_CN", "en")}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ROLES_ALL = frozenset({"admin", "finance", "reviewer", "charity", "vendor", "auditor"})


@dataclass(frozen=True)
class Operation:
    """What one API view is, reads and answers (see the module docstring)."""

    summary: str
    tags: tuple[str, ...] = ()
    description: str | None = None
    query: object = None  # a marshmallow schema (class or instance) for the query string
    body: object = None  # a marshmallow schema for the JSON body
    body_required: bool = True
    #: status -> a schema, a description, (description, schema), or a full OpenAPI response dict
    responses: dict = field(default_factory=dict)
    #: "required" (money moves: a retry must never pay twice), "optional", or None (not read)
    idempotency_key: str | None = None
    #: path parameter name -> extra OpenAPI text (description, example, enum, pattern)
    path: dict = field(default_factory=dict)
    #: further parameters, as OpenAPI parameter objects (query parameters read without a schema)
    parameters: tuple = ()

    @property
    def success_status(self) -> int:
        successes = sorted(status for status in self.responses if 200 <= int(status) < 300)
        return int(successes[0]) if successes else 200


def operation(summary: str, *, tags=(), description=None, query=None, body=None, body_required=True,
              responses=None, idempotency_key=None, path=None, parameters=()):
    """Decorator: record the view's OpenAPI operation on it (`view.api_operation`).

    Put it below `@require_roles` (which copies the record onto its wrapper and adds the
    roles the document names under 403).
    """
    if idempotency_key not in (None, "required", "optional"):
        raise ValueError("idempotency_key is 'required', 'optional' or None")
    record = Operation(summary=summary, tags=tuple(tags), description=description, query=query, body=body,
                       body_required=body_required, responses=dict(responses or {}),
                       idempotency_key=idempotency_key, path=dict(path or {}), parameters=tuple(parameters))

    def decorator(view):
        view.api_operation = record
        return view

    return decorator


def operation_of(view) -> Operation | None:
    return getattr(view, "api_operation", None)


# --- the document ----------------------------------------------------------------------------------

_ERROR = {"application/json": {"schema": "Error"}}

_STANDARD_ERRORS = {
    400: "The request cannot be read: a query parameter the operation does not list (`unknown_query_parameter`, "
         "named in `fields`), malformed JSON (or nested more than 32 levels deep), or a missing or invalid "
         "Idempotency-Key (`idempotency_key_required`)",
    401: "Missing, unknown or revoked token, or a disabled user",
    404: "No such record, or one outside the caller's sight",
    409: "Refused by the record's state (e.g. `insufficient_funds`, `period_closed`, `hold_not_pending`) "
         "or `idempotency_conflict` (the key was used with another body)",
    413: "The body is larger than the server accepts",
    415: "The body is not sent as application/json",
    422: "Unknown or invalid fields, each named in `fields` (amounts are decimal strings in ASCII digits, not "
         "numbers; dates are YYYY-MM-DD; texts hold no control characters other than tab and line feed)",
}

_CONVERTER_TYPES = {"int": {"type": "integer", "format": "int64", "minimum": 0, "maximum": PATH_ID_MAX},
                    "float": {"type": "number"}}
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")


def openapi_path(rule: str) -> str:
    """/api/v1/holds/<int:hold_id>/post -> /api/v1/holds/{hold_id}/post"""
    return _ARGUMENT.sub(lambda match: "{" + match.group("name") + "}", rule)


def _response(status: int, value) -> dict:
    default = HTTPStatus(status).phrase
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {"description": value, "content": _ERROR} if status >= 400 else {"description": value}
    if isinstance(value, tuple):
        description, schema = value
        return {"description": description, "content": {"application/json": {"schema": schema}}}
    return {"description": default, "content": {"application/json": {"schema": value}}}


def operation_dict(record: Operation, rule, method: str, view) -> dict:
    """The OpenAPI operation object of `record` at `rule` for `method`, standard refusals added."""
    parameters = []
    for match in _ARGUMENT.finditer(rule.rule):
        name = match.group("name")
        schema = dict(_CONVERTER_TYPES.get(match.group("converter") or "", {"type": "string"}))
        extra = dict(record.path.get(name, {}))
        for key in ("enum", "pattern", "minimum", "maximum"):
            if key in extra:
                schema[key] = extra.pop(key)
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema, **extra})
    if record.query is not None:
        parameters.append({"in": "query", "schema": record.query})
    parameters.extend(dict(parameter) for parameter in record.parameters)
    for name, values in COMMON_QUERY_PARAMETERS.items():
        parameters.append({"in": "query", "name": name, "required": False,
                           "schema": {"type": "string", "enum": list(values)},
                           "description": "The language of the messages (default: the user's, else Chinese)"})
    if record.idempotency_key:
        required = record.idempotency_key == "required"
        parameters.append({
            "in": "header", "name": "Idempotency-Key", "required": required,
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX,
                       "pattern": IDEMPOTENCY_KEY_PATTERN},
            "description": ("A unique key per operation (e.g. a UUID), at most "
                            f"{IDEMPOTENCY_KEY_MAX} printable ASCII characters; a retry with the same key and body "
                            "returns the first result" + ("" if required else ". Optional here")),
        })

    responses = {}
    for status, value in sorted(record.responses.items(), key=lambda item: int(item[0])):
        responses[str(status)] = _response(int(status), value)

    def standard(status: int, description: str) -> None:
        responses.setdefault(str(status), {"description": description, "content": _ERROR})

    standard(400, _STANDARD_ERRORS[400])  # every operation refuses a query parameter it does not list
    if "unknown_query_parameter" not in responses["400"].get("description", ""):
        responses["400"] = {**responses["400"], "description": responses["400"]["description"]
                            + "; or a query parameter the operation does not list (`unknown_query_parameter`)"}
    if record.body is None:  # every operation reads `lang`; a body's 422 is the standard one below
        standard(422, "A query parameter is invalid or outside its documented minimum / maximum (`lang` too), "
                      "each named in `fields`")
    standard(401, _STANDARD_ERRORS[401])
    allowed = getattr(view, "allowed_roles", None)
    if allowed is not None and set(allowed) != _ROLES_ALL:
        standard(403, "Your role may not do this (allowed: " + ", ".join(sorted(allowed)) + ")")
    if rule.arguments:
        standard(404, _STANDARD_ERRORS[404])
    if method in WRITE_METHODS:
        standard(409, _STANDARD_ERRORS[409])
    if record.body is not None:
        for status in (413, 415, 422):
            standard(status, _STANDARD_ERRORS[status])

    operation_object = {"summary": record.summary, "tags": list(record.tags), "responses": responses}
    if record.description:
        operation_object["description"] = record.description
    if parameters:
        operation_object["parameters"] = parameters
    if record.body is not None:
        operation_object["requestBody"] = {"required": record.body_required,
                                           "content": {"application/json": {"schema": record.body}}}
    return operation_object


def amount_properties(self, field, **kwargs) -> dict:
    """apispec attribute function: an amount's pattern, so generated clients and fuzzers make valid ones.
    An amount read (`Amount`) is `money.AMOUNT_PATTERN`, and not zero unless the field allows it; one
    answered (`AmountOut`) has two decimals and may be negative."""
    if isinstance(field, AmountOut):
        return {"pattern": AmountOut.PATTERN, "example": "1234.56"}
    if isinstance(field, Amount):
        properties = {"pattern": AMOUNT_PATTERN, "example": "1234.56"}
        if not field.allow_zero:
            properties["not"] = {"pattern": ZERO_AMOUNT_PATTERN}
        return properties
    return {}


def date_properties(self, field, **kwargs) -> dict:
    """apispec attribute function: a date a request carries is in the years the API takes
    (`ledger.timeutil.PLAUSIBLE_DATE_PATTERN`)."""
    if isinstance(field, marshmallow_fields.Date) and isinstance(field.root, EdgeSchema):
        return {"pattern": PLAUSIBLE_DATE_PATTERN}
    return {}


def text_properties(self, field, **kwargs) -> dict:
    """apispec attribute function: a text a request carries has the pattern of the characters a text
    may hold (`ledger.text.TEXT_PATTERN`; `NON_BLANK_TEXT_PATTERN` for a field whose metadata says
    `not_blank`, which the server refuses when blank), unless its own validator gives it a pattern."""
    if not isinstance(field, marshmallow_fields.String) or not isinstance(field.root, EdgeSchema):
        return {}
    if any(isinstance(validator, (validate.Regexp, validate.OneOf)) for validator in field.validators):
        return {}
    return {"pattern": NON_BLANK_TEXT_PATTERN if field.metadata.get("not_blank") else TEXT_PATTERN}


def build_spec(app, *, prefix: str = "api.", public_endpoints=frozenset(), title: str, version: str,
               description: str, error_schema) -> APISpec:
    """The OpenAPI 3 document of every documented endpoint whose name starts with `prefix`."""
    marshmallow_plugin = MarshmallowPlugin()
    spec = APISpec(title=title, version=version, openapi_version="3.0.3", plugins=[marshmallow_plugin],
                   info={"description": description}, servers=[{"url": "/"}])
    marshmallow_plugin.map_to_openapi_type(Amount, "string", None)
    marshmallow_plugin.converter.add_attribute_function(amount_properties)
    marshmallow_plugin.converter.add_attribute_function(text_properties)
    marshmallow_plugin.converter.add_attribute_function(date_properties)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("FieldErrors", FIELD_ERRORS_SCHEMA)
    spec.components.schema("Error", schema=error_schema)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(prefix) or rule.endpoint in public_endpoints:
            continue
        view = app.view_functions[rule.endpoint]
        record = operation_of(view)
        if record is None:
            continue  # tests/test_openapi.py fails for such a route
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = operation_dict(record, rule, method, view)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec
