"""Malformed input is refused with one stable error shape, and nothing is written."""
import pytest
import sqlalchemy as sa

from ledger.auth.models import User
from ledger.extensions import db


@pytest.fixture
def caller(app, make_user, token_for):
    username = make_user("charity", username="zhang_san")
    return token_for(username)


def _display_name(app) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.display_name).where(User.username == "zhang_san"))


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_a_valid_update_is_saved(app, client, caller):
    response = client.patch("/api/v1/me", json={"display_name": "张三", "locale": "en"}, headers=caller)
    assert response.status_code == 200
    assert response.get_json()["display_name"] == "张三" and response.get_json()["locale"] == "en"
    assert _display_name(app) == "张三"


def test_malformed_json_is_400(app, client, caller):
    response = client.patch("/api/v1/me", data='{"display_name": "张三",', content_type="application/json",
                            headers=caller)
    assert "not valid JSON" in _error(response, 400, "bad_request")["message"]
    response = client.patch("/api/v1/me", json=["display_name"], headers=caller)
    assert "JSON object" in _error(response, 400, "bad_request")["message"]
    assert _display_name(app) == "zhang_san"


def test_a_wrong_content_type_is_415(app, client, caller):
    response = client.patch("/api/v1/me", data={"display_name": "张三"}, headers=caller)
    assert "application/json" in _error(response, 415, "unsupported_media_type")["message"]
    assert _display_name(app) == "zhang_san"


def test_unknown_and_invalid_fields_are_422_naming_each_field(app, client, caller):
    response = client.patch("/api/v1/me", json={"display_name": "张三", "role": "admin", "locale": "fr"},
                            headers=caller)
    error = _error(response, 422, "validation_error")
    assert set(error["fields"]) == {"role", "locale"}
    assert error["fields"]["role"] == ["Unknown field."]
    assert _display_name(app) == "zhang_san"
    with app.app_context():
        assert db.session.scalar(sa.select(User.role).where(User.username == "zhang_san")).value == "charity"


def test_a_body_over_the_size_limit_is_413(app, client, caller):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = '{"display_name": "' + "张" * (limit // 3 + 10) + '"}'
    response = client.patch("/api/v1/me", data=body.encode(), content_type="application/json", headers=caller)
    assert str(limit) in _error(response, 413, "payload_too_large")["message"]
    assert _display_name(app) == "zhang_san"


def test_unknown_paths_and_methods_answer_in_the_same_shape(client, caller):
    _error(client.get("/api/v1/no-such-thing", headers=caller), 404, "not_found")
    _error(client.delete("/api/v1/me", headers=caller), 405, "method_not_allowed")
    _error(client.get("/api/v1/organisations/NO-SUCH-ORG", headers=caller), 404, "not_found")


def test_every_error_class_names_a_complete_sentence_as_its_message(app):
    """The first docstring line is the message a person reads: never cut off mid-sentence."""
    from ledger.errors import LedgerError

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    cut = sorted(f"{cls.__module__}.{cls.__name__}: {cls().message!r}" for cls in set(subclasses(LedgerError))
                 if not cls().message.rstrip("`").endswith((".", "?", "!")))
    assert not cut, "messages that do not end a sentence:\n" + "\n".join(cut)


def test_the_idempotency_key_message_is_whole_and_names_its_limit(app):
    from ledger.errors import IdempotencyKeyRequired
    from ledger.requests import IDEMPOTENCY_KEY_MAX

    message = IdempotencyKeyRequired().message
    assert message.endswith("so that a retry can never pay twice.")
    assert f"up to {IDEMPOTENCY_KEY_MAX} " in message


def test_a_query_parameter_the_operation_does_not_list_is_400_naming_it(app, client, caller, make_user, token_for):
    """A misspelt filter is refused, not ignored: `?as-of=` would otherwise answer today's balances."""
    finance = token_for(make_user("finance"))
    error = _error(client.get("/api/v1/funds?as-of=2026-01-31&as_of=2026-01-31", headers=finance), 400,
                   "unknown_query_parameter")
    assert set(error["fields"]) == {"as-of"}
    assert "as_of" in error["message"] and "as-of" in error["message"]
    error = _error(client.get("/api/v1/me?verbose=1", headers=caller), 400, "unknown_query_parameter")
    assert set(error["fields"]) == {"verbose"}
    assert client.get("/api/v1/funds?as_of=2026-01-31", headers=finance).status_code == 200


def test_a_query_parameter_is_checked_only_after_the_token(client):
    _error(client.get("/api/v1/me?verbose=1"), 401, "unauthorized")


def test_the_language_parameter_takes_the_offered_languages_only(client, caller):
    assert client.get("/api/v1/me?lang=en", headers=caller).status_code == 200
    assert client.get("/api/v1/me?lang=zh_CN", headers=caller).status_code == 200
    error = _error(client.get("/api/v1/me?lang=fr", headers=caller), 422, "validation_error")
    assert set(error["fields"]) == {"lang"} and "zh_CN" in error["fields"]["lang"][0]


@pytest.mark.parametrize("key", ["", " ", " padded-key", "padded-key "])
def test_an_idempotency_key_sent_empty_or_padded_is_refused_where_it_is_optional(app, client, make_user, token_for,
                                                                                  key):
    """Closing a month takes an optional key: left out, the close runs; sent, it must be a key."""
    from ledger.openapi import operation_of

    assert operation_of(app.view_functions["api.funds.close_period"]).idempotency_key == "optional"
    headers = {**token_for(make_user("finance")), "Idempotency-Key": key}
    error = _error(client.post("/api/v1/periods/2026-01/close", json={}, headers=headers), 400, "bad_request")
    assert set(error["fields"]) == {"Idempotency-Key"}


@pytest.mark.parametrize("hold_id", ["2147483648", str(2**63 - 1), str(2**63), "9" * 30])
def test_an_id_beyond_the_database_integers_is_no_such_record(client, make_user, token_for, hold_id):
    """Past int32 (the column) and past bigint: 404 like any other missing hold, never a database error."""
    headers = {**token_for(make_user("finance")), "Idempotency-Key": f"void-{hold_id[:20]}"}
    _error(client.post(f"/api/v1/holds/{hold_id}/void", json={}, headers=headers), 404, "not_found")


def test_an_undeclared_method_answers_405_with_allow(client, caller):
    response = client.put("/api/v1/me", json={}, headers=caller)
    _error(response, 405, "method_not_allowed")
    assert {"GET", "PATCH"} <= {method.strip() for method in response.headers["Allow"].split(",")}
