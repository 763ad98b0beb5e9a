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
