"""The API's language: `?lang=` (zh_CN or en), else Accept-Language, else English, the same for
every client; a user's saved web preference does not change what a program reads."""
import pytest
import sqlalchemy as sa

from ledger.extensions import db

HOLD_MESSAGE = {"en": "must not exceed the hold's 15000.00", "zh_CN": "不能超过预留金额 15000.00"}


@pytest.fixture
def finance(demo_app, demo_token_for):
    return demo_app.test_client(), demo_token_for("finance")


@pytest.fixture
def hold_id(demo_app):
    from ledger.journal.models import Hold, HoldState

    with demo_app.app_context():
        return db.session.scalar(sa.select(Hold.id).where(Hold.state == HoldState.pending).order_by(Hold.id))


def _overpay(client, headers, hold_id, key, query="", **extra_headers):
    response = client.post(f"/api/v1/holds/{hold_id}/post{query}", json={"amount": "15001.00"},
                           headers={**headers, "Idempotency-Key": key, **extra_headers})
    assert response.status_code == 422, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_without_a_choice_the_api_speaks_english(finance, hold_id):
    client, headers = finance
    error = _overpay(client, headers, hold_id, "lang-1")
    assert error["fields"]["amount"] == [HOLD_MESSAGE["en"]]
    assert error["message"] == "One or more fields are invalid; `fields` says which and why."


def test_accept_language_chooses_chinese(finance, hold_id):
    client, headers = finance
    error = _overpay(client, headers, hold_id, "lang-2", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert error["fields"]["amount"] == [HOLD_MESSAGE["zh_CN"]]
    assert error["code"] == "validation_error", "codes stay the same in every language"
    assert "字段" in error["message"]


def test_lang_parameter_wins_over_accept_language(finance, hold_id):
    client, headers = finance
    error = _overpay(client, headers, hold_id, "lang-3", "?lang=en", **{"Accept-Language": "zh-CN"})
    assert error["fields"]["amount"] == [HOLD_MESSAGE["en"]]
    error = _overpay(client, headers, hold_id, "lang-4", "?lang=zh_CN", **{"Accept-Language": "en"})
    assert error["fields"]["amount"] == [HOLD_MESSAGE["zh_CN"]]


def test_a_language_the_product_does_not_speak_falls_back_to_english(finance, hold_id):
    """A browser's Accept-Language the product does not speak reads English; a `lang` outside the
    documented two is a mistake in the request, refused on `lang` (and nothing is posted)."""
    client, headers = finance
    error = _overpay(client, headers, hold_id, "lang-5", **{"Accept-Language": "fr-FR"})
    assert error["fields"]["amount"] == [HOLD_MESSAGE["en"]]
    error = _overpay(client, headers, hold_id, "lang-6", "?lang=fr")
    assert list(error["fields"]) == ["lang"]


def test_the_users_web_language_does_not_change_the_api(demo_app, finance, hold_id):
    from ledger.auth.models import User

    with demo_app.app_context():
        db.session.execute(sa.update(User).where(User.username == "finance").values(locale="zh_CN"))
        db.session.commit()
    client, headers = finance
    assert _overpay(client, headers, hold_id, "lang-6")["fields"]["amount"] == [HOLD_MESSAGE["en"]]


def test_plain_http_refusals_follow_the_rule_too(finance):
    client, headers = finance
    english = client.get("/api/v1/funds/999999", headers=headers).get_json()["error"]
    chinese = client.get("/api/v1/funds/999999", headers={**headers, "Accept-Language": "zh-CN"}).get_json()["error"]
    assert english["code"] == chinese["code"] == "not_found"
    assert english["message"] == "no fund 999999"
    assert chinese["message"] == "没有基金 999999"
    unauthenticated = client.get("/api/v1/funds", headers={"Accept-Language": "zh-CN"}).get_json()["error"]
    assert "身份验证" in unauthenticated["message"] or "令牌" in unauthenticated["message"]
