"""Signing in and out: passwords, the lockout after repeated failures, disabled users, CSRF."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledger.auth.models import AuditEvent, User
from ledger.extensions import db
from ledger.timeutil import as_utc, utcnow

PASSWORD = "correct horse battery"


def _user(app, username) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _unlock_time_passes(app, username):
    """Time travel: move the end of the lock into the past instead of sleeping."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        user.locked_until_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_a_user_logs_in_sees_the_start_page_and_logs_out(app, client, make_user, login):
    username = make_user("finance")
    response = login(username)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    start = client.get("/")
    assert start.status_code == 200
    assert "您好" in start.get_data(as_text=True)
    assert _user(app, username).last_login_at is not None

    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "您已安全退出" in client.get("/login").get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/login?next=")


def test_the_session_cookie_is_httponly_and_samesite(client, make_user, login):
    response = login(make_user("finance"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app, client, make_user, login):
    username = make_user("charity")
    for name, password in [(username, "wrong password!"), ("nobody-here", PASSWORD)]:
        response = login(name, password)
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not signed in
    assert _user(app, username).failed_login_count == 1


def test_after_repeated_failures_the_account_is_locked_for_a_growing_time(app, client, make_user, login):
    username = make_user("finance")
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    base = app.config["LOGIN_LOCKOUT_BASE_SECONDS"]
    for _ in range(threshold - 1):
        assert login(username, "wrong password!").status_code == 401
    assert _user(app, username).locked_until_at is None

    assert login(username, "wrong password!").status_code == 401  # the failure that locks
    first_lock = as_utc(_user(app, username).locked_until_at) - utcnow()
    assert timedelta(seconds=base - 5) < first_lock <= timedelta(seconds=base)

    # During the lock even the right password is refused, and the page says how long to wait.
    locked = login(username, PASSWORD)
    assert locked.status_code == 429
    assert re.search(r"请 \d+ 秒后再试", locked.get_data(as_text=True))
    assert client.get("/").status_code == 302

    # When the lock has run out, one more wrong password locks for twice as long.
    _unlock_time_passes(app, username)
    assert login(username, "wrong password!").status_code == 401
    second_lock = as_utc(_user(app, username).locked_until_at) - utcnow()
    assert timedelta(seconds=2 * base - 5) < second_lock <= timedelta(seconds=2 * base)

    # And once that lock is over, the right password works and clears the count.
    _unlock_time_passes(app, username)
    assert login(username, PASSWORD).status_code == 302
    user = _user(app, username)
    assert user.failed_login_count == 0 and user.locked_until_at is None
    with app.app_context():
        locks = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login.locked")).all()
        assert [event.detail["seconds"] for event in locks] == [base, 2 * base]


def test_a_disabled_user_cannot_log_in_and_is_signed_out(app, client, make_user, login):
    from ledger.auth.services import disable_user

    username = make_user("vendor")
    assert login(username).status_code == 302
    with app.app_context():
        disable_user(db.session, username)
        db.session.commit()
    assert client.get("/").status_code == 302, "an open session ends when the user is disabled"
    assert login(username).status_code == 401


def test_login_only_redirects_within_the_site(client, make_user, login):
    username = make_user("auditor")
    response = client.post("/login?next=https://evil.example/x", data={"username": username, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/organisation", data={"username": username, "password": PASSWORD})
    assert response.headers["Location"] == "/organisation"


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_forms_without_the_csrf_token_are_refused(app, client, make_user):
    username = make_user("finance")
    refused = client.post("/login", data={"username": username, "password": PASSWORD})
    assert refused.status_code == 400
    assert "表单已过期或并非来自本站" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302, "not signed in"

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 200

    # Logging out is a form too: without the token the session stays.
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    start = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', start).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_the_lockout_does_not_tell_whether_a_username_exists(app, client, make_user, login, monkeypatch):
    """An unknown name is answered, counted and locked as a real account is, and the password is
    hashed the same number of times either way (the timing class), locked or not."""
    import ledger.auth.services as auth_services

    hashed = []
    real_check = auth_services.check_password_hash
    monkeypatch.setattr(auth_services, "check_password_hash", lambda *a: hashed.append(1) or real_check(*a))
    threshold = app.config["LOGIN_LOCKOUT_THRESHOLD"]
    disabled = make_user("finance")
    with app.app_context():
        from ledger.auth.services import disable_user

        disable_user(db.session, disabled)
        db.session.commit()

    def story(username):
        hashed.clear()
        answers = []
        for _ in range(threshold + 2):
            response = login(username, "wrong password!")
            text = response.get_data(as_text=True)
            message = re.search(r"请 \d+ 秒后再试|用户名或密码错误", text).group(0)
            answers.append((response.status_code, re.sub(r"\d+", "N", message)))
        return answers, len(hashed)

    known = story(make_user("finance"))
    assert known[0][threshold - 1] == (401, "用户名或密码错误")
    assert known[0][threshold:] == [(429, "请 N 秒后再试")] * 2
    assert story("nobody-by-this-name") == known
    # a disabled account's password is checked too (it is never locked, as before)
    disabled_answers, disabled_hashes = story(disabled)
    assert disabled_hashes == threshold + 2 and {status for status, _ in disabled_answers} == {401}
