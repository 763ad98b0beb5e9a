"""The OpenAPI document describes every endpoint under /api/v1, generated from the code."""
import re

from ledger.api import PUBLIC_ENDPOINTS


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_endpoint_and_method_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    missing, undocumented = [], []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        operations = document["paths"].get(_openapi_path(rule.rule), {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = operations.get(method.lower())
            if operation is None:
                missing.append(f"{method} {rule.rule}")
            elif not operation.get("summary") or not operation.get("responses"):
                undocumented.append(f"{method} {rule.rule}")
    assert not missing, "not in openapi.json: " + ", ".join(missing)
    assert not undocumented, "without a summary or responses: " + ", ".join(undocumented)


def test_the_document_uses_the_marshmallow_schemas_and_the_error_shape(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert set(schemas["Error"]["properties"]) == {"error"}
    assert {"code", "message", "fields"} <= set(schemas["ErrorDetail"]["properties"])
    me = document["paths"]["/api/v1/me"]
    assert me["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Me"}
    assert set(schemas["Me"]["properties"]) >= {"username", "role", "organisation"}
    assert schemas["MeUpdate"]["additionalProperties"] is False, "unknown fields are refused"
    refs = set(re.findall(r'"#/components/schemas/([A-Za-z]+)"', client.get("/api/v1/openapi.json").get_data(as_text=True)))
    assert refs <= set(schemas), f"dangling references: {refs - set(schemas)}"
    assert document["security"] == [{"bearer": []}]


def test_the_documents_are_public_and_the_docs_page_lists_every_path(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for path in document.get_json()["paths"]:
        assert f"<code>{path}</code>" in text, path


def test_every_api_route_carries_an_operation_record(app):
    """A new route under /api/v1 without `@operation` fails here (and would be missing from the document)."""
    from ledger.openapi import operation_of

    missing = sorted(f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                     if rule.rule.startswith("/api/v1") and rule.endpoint not in PUBLIC_ENDPOINTS
                     and operation_of(app.view_functions[rule.endpoint]) is None)
    assert not missing, "API routes without @operation: " + ", ".join(missing)


def test_every_feature_has_its_own_api_blueprint_under_the_api_parent(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    assert {"api.auth.me", "api.funds.fund_tree", "api.reports.report_job", "api.aid.list_persons",
            "api.vendors.list_contracts", "api.vendors.care.list_persons"} <= endpoints
    assert {endpoint.split(".")[1] for endpoint in endpoints - PUBLIC_ENDPOINTS} == {"aid", "auth", "funds", "reports",
                                                                                     "vendors"}


def test_the_standard_refusals_and_the_idempotency_key_are_documented(app, client):
    from ledger.openapi import IDEMPOTENCY_KEY_MAX, operation_of

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        record = operation_of(view)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            where = f"{method} {rule.rule}"
            documented = paths[_openapi_path(rule.rule)][method.lower()]
            responses = documented["responses"]
            assert "401" in responses, where
            if rule.arguments:
                assert "404" in responses, where
            if getattr(view, "allowed_roles", None) is not None and len(view.allowed_roles) < 6:
                assert "403" in responses, where
            if record.body is not None:
                assert {"409", "413", "415", "422"} <= set(responses), where
            header = [p for p in documented.get("parameters", []) if p["name"] == "Idempotency-Key"]
            if record.idempotency_key == "required":
                assert header and header[0]["required"] and header[0]["schema"]["maxLength"] == IDEMPOTENCY_KEY_MAX
                assert "400" in responses, where
            elif record.idempotency_key is None:
                assert not header, where


def test_a_query_schema_on_the_decorator_is_what_the_view_parses(app, client):
    """The same record documents `as_of` and refuses a bad one (docs and parsing cannot drift)."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    names = {p["name"] for p in paths["/api/v1/funds"]["get"]["parameters"]}
    assert "as_of" in names


def test_every_operation_documents_the_language_and_the_refusal_of_unlisted_query_parameters(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, operations in paths.items():
        for method, documented in operations.items():
            where = f"{method.upper()} {path}"
            lang = [p for p in documented["parameters"] if p["name"] == "lang" and p["in"] == "query"]
            assert lang and lang[0]["schema"]["enum"] == ["zh_CN", "en"], where
            assert {"400", "422"} <= set(documented["responses"]), where
            assert "unknown_query_parameter" in documented["responses"]["400"]["description"], where


def test_request_texts_carry_the_pattern_of_the_characters_a_text_may_hold(client):
    """So a client (and schemathesis) knows a memo with a control character is refused, as the server does."""
    import re as regex

    from ledger.text import TEXT_PATTERN, text_problem

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["ReceiptIn"]["properties"]["memo"]["pattern"] == TEXT_PATTERN
    assert schemas["HoldIn"]["properties"]["reference"]["pattern"] == TEXT_PATTERN
    assert "pattern" not in schemas["ReceiptIn"]["properties"]["source"], "an enum needs no pattern"
    assert schemas["ReceiptIn"]["properties"]["amount"]["pattern"] != TEXT_PATTERN, "an amount keeps its own"
    assert all(prop.get("pattern") != TEXT_PATTERN for prop in schemas["JournalEntryOut"]["properties"].values()), \
        "answers are not bound by what a request may hold"
    for text in ["韩进 2026\t备注\n第二行", "\x00", "a\x1fb", "\x7f", "\x85", "\ufffe", "\r\n", "a\rb", "a\r\r\nb",
                 "\r\n\r\n"]:
        assert (regex.match(TEXT_PATTERN, text) is None) == (text_problem(text) is not None), repr(text)


def test_a_report_names_the_fund_codes_it_reads_and_answers_404_for_an_unknown_fund(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/reports/fund-statement.pdf", "/api/v1/reports/journal-register.{fmt}",
                 "/api/v1/reports/integrity-certificate.pdf"):
        documented = paths[path]["get"]
        fund = next(p for p in documented["parameters"] if p["name"] == "fund")
        assert fund["schema"]["pattern"] == r"^[0-9]{6}(?:-[0-9]{3})?$", path
        assert "404" in documented["responses"], path
    assert "404" in paths["/api/v1/trial-balance"]["get"]["responses"]


def test_a_text_the_server_refuses_when_blank_is_documented_as_needing_a_visible_character(client):
    """So a generated reason of "\\r\\n" or a name of "　" is not called valid and then refused as blank."""
    import re as regex

    from ledger.text import NON_BLANK_TEXT_PATTERN, text_problem

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    for schema, field in [("ReversalIn", "reason"), ("PeriodReopenIn", "reason"), ("ReceiptIn", "payer_name"),
                          ("PayeeIn", "name"), ("MeUpdate", "display_name")]:
        assert schemas[schema]["properties"][field]["pattern"] == NON_BLANK_TEXT_PATTERN, (schema, field)
    assert schemas["ReceiptIn"]["properties"]["memo"]["pattern"] != NON_BLANK_TEXT_PATTERN, "a memo may be empty"
    for text in ["重复支付", " x ", "\n\tb\r\n", "\r\n", " ", "\u3000", "\xa0", "", "\x00a", "a\rb", "\u2028"]:
        documented = regex.match(NON_BLANK_TEXT_PATTERN, text) is not None
        assert documented == (bool(text.strip()) and text_problem(text) is None), repr(text)
