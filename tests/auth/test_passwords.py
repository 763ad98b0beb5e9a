"""Passwords as NIST SP 800-63B asks: long enough, any characters, no composition rules, and refused when
common or breached, or made of the username or the product's or city's name; the message says why, on
the web (in the interface language), in the API and on the command line."""
import pytest
import sqlalchemy as sa

from ledger.auth.models import AuditEvent, User
from ledger.auth.passwords import COMMON_PASSWORDS_FILE, MAX_LENGTH, MIN_LENGTH, common_passwords, password_problem
from ledger.extensions import db
from tests.support import signed_in_client

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("password, username, reason", [
    ("a" * 3 + "bcdefgh", "wang", "too_short"),                      # 10 characters
    ("x" * (MAX_LENGTH - 1) + "yz", "wang", "too_long"),
    ("aaaaaaaaaaaaaa", "wang", "repetitive"),
    ("abcabcabcabcabc", "wang", "repetitive"),
    ("password1234", "wang", "common"),                              # in the list
    ("Sunshine2026!!", "wang", "common"),                            # a listed one with digits and symbols
    ("dragondragon", "wang", "common"),                              # a listed one twice
    ("qwertyuiop123", "wang", "common"),
    ("wang_wu is my name", "wang_wu", "username"),
    ("my name is WANG_WU", "wang_wu", "username"),
    ("Jining in spring 2026", "wang", "context"),
    ("济时救基金的账本真的很重要", "wang", "context"),
])
def test_these_passwords_are_refused_with_the_reason(password, username, reason):
    problem = password_problem(password, username)
    assert problem is not None and problem.code == reason, password


@pytest.mark.parametrize("password", [
    "correct horse battery",               # words with spaces, no digit, no capital: fine
    "我家门前有两棵枣树和一条小河",            # Chinese
    "tt" + "e" * 3 + "st-pass🙂word",      # emoji and a repeat inside are fine
    "z" * (MAX_LENGTH - 2) + "q1",         # long: up to the limit
    "k7mp-x2qa-9rtw-hc4e",                 # a one-time password
])
def test_these_passwords_are_accepted(password):
    assert password_problem(password, "wang_wu") is None


def test_the_length_floor_is_twelve_characters_counted_as_characters():
    assert MIN_LENGTH == 12 and MAX_LENGTH >= 64
    assert password_problem("水" * 11 + "火", "u") is None, "12 Chinese characters are 12 characters, not 36 bytes"
    assert password_problem("水火木金土日月星辰山川", "u").code == "too_short"


def test_the_common_password_list_is_bundled_with_its_licence_and_read_once():
    listed = common_passwords()
    assert len(listed) == 10_000 and {"password", "123456", "qwerty"} <= listed
    licence = COMMON_PASSWORDS_FILE.with_name("common-passwords.LICENSE.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "zxcvbn" in licence
    assert common_passwords() is listed


def _change(client, current, new, confirm=None, lang="zh_CN"):
    return client.post(f"/account/password?lang={lang}", data={
        "current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm})


def test_a_user_changes_their_password_and_is_told_why_a_new_one_is_refused(app, make_user):
    username = make_user("finance", username="zhou_kuaiji")
    client = signed_in_client(app, username)
    assert client.get("/account/password").status_code == 200
    cases = [
        (("wrong password!", "a quiet river at dawn"), "当前密码不正确"),
        ((PASSWORD, "short one"), "至少需要 12 个字符"),
        ((PASSWORD, "iloveyou2026"), "最常见的密码之一"),
        ((PASSWORD, "zhou_kuaiji at work"), "不能是用户名"),
        ((PASSWORD, "济宁的冬天也很暖和啊朋友们"), "本系统或本市的名称"),
        ((PASSWORD, PASSWORD), "不能与当前密码相同"),
        ((PASSWORD, "a quiet river at dawn", "a quiet river at dusk"), "两次输入的新密码不一致"),
    ]
    for arguments, message in cases:
        response = _change(client, *arguments)
        assert response.status_code in (409, 422), arguments
        text = response.get_data(as_text=True)
        assert message in text and 'aria-invalid="true"' in text, arguments
    english = _change(client, PASSWORD, "iloveyou2026", lang="en").get_data(as_text=True)
    assert "one of the most common passwords" in english

    assert _change(client, PASSWORD, "a quiet river at dawn").status_code == 302
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target == username)).all()
    assert events.count("password.change") == 1, "one change, and no event for the refused ones"
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": username, "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={"username": username, "password": "a quiet river at dawn"}).status_code == 302


def test_the_api_changes_a_password_and_names_the_field_and_the_reason(client, make_user, token_for):
    username = make_user("auditor")
    headers = token_for(username)
    refused = client.post("/api/v1/me/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": "password1234"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "weak_password" and error["reason"] == "common" and "new_password" in error["fields"]
    wrong = client.post("/api/v1/me/password", headers=headers,
                        json={"current_password": "not it at all", "new_password": "a quiet river at dawn"})
    assert wrong.get_json()["error"]["code"] == "wrong_password"
    done = client.post("/api/v1/me/password", headers=headers,
                       json={"current_password": PASSWORD, "new_password": "a quiet river at dawn"})
    assert done.status_code == 200 and done.get_json() == {"changed": True}


def test_the_command_line_applies_the_same_check(app, make_org):
    make_org("MZJ-370827", "county_bureau")
    runner = app.test_cli_runner()
    for password, complaint in [("iloveyou2026", "most common"), ("zhao_liu-the-reviewer", "username"),
                                ("short", "at least 12")]:
        result = runner.invoke(args=["users", "create", "zhao_liu", "--role", "reviewer", "--org", "MZJ-370827",
                                     "--password", password])
        assert result.exit_code != 0 and complaint in result.output, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    generated = runner.invoke(args=["users", "create", "zhao_liu", "--role", "reviewer", "--org", "MZJ-370827"])
    assert generated.exit_code == 0, generated.output
    assert password_problem(generated.output.split("password: ", 1)[1].strip(), "zhao_liu") is None
