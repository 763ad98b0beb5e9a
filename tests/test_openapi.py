"""The OpenAPI document describes every endpoint under /api/v1, generated from the code."""
import re

from ledger.api import PUBLIC_ENDPOINTS


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


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
