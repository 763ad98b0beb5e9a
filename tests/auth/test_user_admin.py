"""User administration: an administrator creates, disables, enables, unlocks users and resets their
passwords on the web and through the API; a one-time password leads to the change-password page and
nowhere else; every action is in the audit log with who and when, and the user page shows it."""
import re

import pytest
import sqlalchemy as sa

from ledger.auth import services
from ledger.auth.models import AuditEvent, Organisation, User
from ledger.errors import Forbidden, NotFound
from ledger.extensions import db
from tests.support import signed_in_client

PASSWORD = "correct horse battery"


def _user(app, username) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _events(app, target) -> list[tuple[str, str | None]]:
    """(action, who) of the audit events naming `target`, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target == target)
                                  .order_by(AuditEvent.id)).all()
        return [(row.action, row.user.username if row.user else None) for row in rows]


def _one_time_password(page: str) -> str:
    return re.search(r'id="one-time-password">([^<]+)<', page).group(1)


@pytest.fixture
def admin(app, make_user):
    """The administrator's username and a web client signed in as them."""
    username = make_user("admin")
    return username, signed_in_client(app, username)


def test_an_admin_creates_a_user_who_must_choose_a_password_at_the_first_sign_in(app, admin, make_org):
    admin_name, admin_client = admin
    make_org("MZJ-370827", "county_bureau")
    form = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert "MZJ-370827" in form and 'name="role"' in form

    created = admin_client.post("/admin/users/new", data={
        "username": "li_shenhe", "display_name": "鱼台县民政 李审核", "role": "reviewer", "organisation": "MZJ-370827"})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store", "the one-time password is not kept by the browser"
    one_time = _one_time_password(created.get_data(as_text=True))
    user = _user(app, "li_shenhe")
    assert (user.role.value, user.organisation.code, user.display_name) == ("reviewer", "MZJ-370827", "鱼台县民政 李审核")
    assert user.must_change_password and one_time not in user.password_hash
    assert _events(app, "li_shenhe") == [("user.create", admin_name)]

    # Signing in with the one-time password leads to the change-password page, and nothing else opens.
    person = app.test_client()
    signed_in = person.post("/login", data={"username": "li_shenhe", "password": one_time})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/account/password"
    for path in ["/", "/account/tokens", "/organisation", "/funds/"]:
        blocked = person.get(path)
        assert (blocked.status_code, blocked.headers.get("Location")) == (302, "/account/password"), path
    page = person.get("/account/password").get_data(as_text=True)
    assert "由管理员设置" in page, "the page says why the user is here"

    changed = person.post("/account/password", data={
        "current_password": one_time, "new_password": "鱼台的春天总比别处来得早一些", "confirm_password": "鱼台的春天总比别处来得早一些"})
    assert changed.status_code == 302 and changed.headers["Location"] == "/"
    assert person.get("/").status_code == 200 and person.get("/account/tokens").status_code == 200
    assert not _user(app, "li_shenhe").must_change_password
    assert _events(app, "li_shenhe")[-1] == ("password.change", "li_shenhe")

    person.post("/logout")
    assert person.post("/login", data={"username": "li_shenhe", "password": one_time}).status_code == 401
    assert person.post("/login", data={"username": "li_shenhe", "password": "鱼台的春天总比别处来得早一些"}).status_code == 302


def test_the_new_user_form_says_what_is_wrong_and_creates_nothing(app, admin, make_user):
    _, admin_client = admin
    taken = make_user("finance", username="wang_kuaiji")
    cases = [
        ({"username": taken, "role": "finance", "organisation": "MZJ-370800"}, 409, "用户名已被使用"),
        ({"username": "Bad Name", "role": "finance", "organisation": "MZJ-370800"}, 422, "小写字母"),
        ({"username": "zhang_cishan", "role": "charity", "organisation": "MZJ-370800"}, 422, "角色与所属机构不符"),
    ]
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(User.id)))
    for data, status, message in cases:
        response = admin_client.post("/admin/users/new", data=data)
        assert response.status_code == status, data
        text = response.get_data(as_text=True)
        assert message in text and 'aria-invalid="true"' in text, data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_a_disabled_user_can_neither_sign_in_nor_use_a_token_until_enabled(app, admin, make_user, token_for, login,
                                                                           client):
    admin_name, admin_client = admin
    username = make_user("finance")
    headers = token_for(username)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    assert admin_client.post(f"/admin/users/{username}/disable").status_code == 302
    assert "已停用" in admin_client.get(f"/admin/users/{username}").get_data(as_text=True)
    assert login(username).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 401, "its tokens were revoked"

    assert admin_client.post(f"/admin/users/{username}/enable").status_code == 302
    assert login(username).status_code == 302
    assert [action for action, _ in _events(app, username) if action.startswith("user.")] == \
        ["user.create", "user.disable", "user.enable"]
    assert ("user.disable", admin_name) in _events(app, username)


def test_an_admin_cannot_disable_their_own_account(app, admin):
    admin_name, admin_client = admin
    response = admin_client.post(f"/admin/users/{admin_name}/disable", follow_redirects=True)
    assert "不能停用自己的账户" in response.get_data(as_text=True)
    assert _user(app, admin_name).active


def test_an_admin_resets_a_password_and_the_old_one_stops_working(app, admin, make_user, login, client):
    _, admin_client = admin
    username = make_user("auditor")
    reset = admin_client.post(f"/admin/users/{username}/reset-password")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    one_time = _one_time_password(reset.get_data(as_text=True))
    assert login(username, PASSWORD).status_code == 401
    response = login(username, one_time)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/reports/").headers["Location"] == "/account/password"


def test_an_admin_unlocks_a_locked_account(app, admin, make_user, login):
    admin_name, admin_client = admin
    username = make_user("reviewer")
    for _ in range(app.config["LOGIN_LOCKOUT_THRESHOLD"]):
        login(username, "wrong password!")
    assert login(username, PASSWORD).status_code == 429, "locked"
    page = admin_client.get(f"/admin/users/{username}").get_data(as_text=True)
    assert "锁定至" in page and f"/admin/users/{username}/unlock" in page

    assert admin_client.post(f"/admin/users/{username}/unlock").status_code == 302
    assert login(username, PASSWORD).status_code == 302
    assert ("user.unlock", admin_name) in _events(app, username)


def test_the_user_page_shows_what_was_done_with_who_and_when(app, admin, make_user):
    admin_name, admin_client = admin
    username = make_user("finance")
    admin_client.post(f"/admin/users/{username}/disable")
    admin_client.post(f"/admin/users/{username}/enable")
    page = admin_client.get(f"/admin/users/{username}").get_data(as_text=True)
    history = page[page.index("此账户的操作记录"):]
    assert history.index("重新启用") < history.index("已停用") < history.index("创建账户"), "newest first"
    assert history.count(f"<code>{admin_name}</code>") == 2, "who did it"
    assert "系统（命令行）" in history, "the account was made by the system (the fixture acts as the command line)"
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", history), "when"


def test_an_admin_creates_organisations_with_codes_like_the_demo_ones(app, admin, make_org):
    _, admin_client = admin
    make_org("CSH-370827", "charity")  # also creates the county 370827
    with app.app_context():
        from ledger.auth.models import Region
        assert db.session.scalar(sa.select(Region.code).where(Region.code == "370800")) is not None
    response = admin_client.post("/admin/organisations/new",
                                 data={"name": "鱼台县红十字会", "kind": "charity", "region": "370827"})
    assert response.status_code == 302 and response.headers["Location"] == "/organisations/CSH-370827-02"
    response = admin_client.post("/admin/organisations/new",
                                 data={"name": "济宁安康照护中心", "kind": "vendor", "region": "370800",
                                       "credit_code": "91370800MA3C5K7U5M"})
    assert response.headers["Location"] == "/organisations/HL-370800-01"
    refused = admin_client.post("/admin/organisations/new",
                                data={"name": "错的民政局", "kind": "county_bureau", "region": "370800"})
    assert refused.status_code == 422 and "县民政局在县" in refused.get_data(as_text=True)
    with app.app_context():
        names = dict(db.session.execute(sa.select(Organisation.code, Organisation.name)).all())
    assert names["CSH-370827-02"] == "鱼台县红十字会" and "错的民政局" not in names.values()
    assert _events(app, "CSH-370827-02")[0][0] == "organisation.create"


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_admin_forms_need_the_csrf_token(app, admin, make_user):
    _, admin_client = admin
    username = make_user("finance")
    assert admin_client.post(f"/admin/users/{username}/disable").status_code == 400
    assert _user(app, username).active
    page = admin_client.get(f"/admin/users/{username}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert admin_client.post(f"/admin/users/{username}/disable", data={"csrf_token": token}).status_code == 302
    assert not _user(app, username).active


def test_only_admins_may_administer_users_whoever_calls_the_service(app, make_user):
    finance, admin_name, target = make_user("finance"), make_user("admin"), make_user("reviewer")
    with app.app_context():
        not_admin = services.get_user(db.session, finance)
        for action in [lambda: services.set_user_active(db.session, not_admin, target, False),
                       lambda: services.reset_password(db.session, not_admin, target),
                       lambda: services.unlock_user(db.session, not_admin, target),
                       lambda: services.add_user(db.session, not_admin, username="x_y", role="finance",
                                                 organisation_code="MZJ-370800"),
                       lambda: services.user_events(db.session, not_admin, target)]:
            with pytest.raises(Forbidden):
                action()
        with pytest.raises(NotFound):
            services.unlock_user(db.session, services.get_user(db.session, admin_name), "nobody_here")
        db.session.rollback()
    assert _user(app, target).active and not _user(app, target).must_change_password
    client = signed_in_client(app, finance)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{target}/disable").status_code == 403
    assert _user(app, target).active


# --- the API ----------------------------------------------------------------------------------------

def test_the_api_creates_resets_disables_enables_and_unlocks(app, client, make_user, token_for):
    admin_name = make_user("admin")
    headers = token_for(admin_name)
    created = client.post("/api/v1/users", headers=headers, json={
        "username": "chen_jingli", "display_name": "陈经理", "role": "finance", "organisation": "MZJ-370800"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    body = created.get_json()
    assert body["user"]["must_change_password"] is True and body["user"]["organisation"] == "MZJ-370800"
    assert client.post("/api/v1/users", headers=headers, json={
        "username": "chen_jingli", "role": "finance", "organisation": "MZJ-370800"}).get_json()["error"]["code"] \
        == "username_taken"

    person = app.test_client()
    assert person.post("/login", data={"username": "chen_jingli", "password": body["one_time_password"]}) \
        .headers["Location"] == "/account/password"

    reset = client.post("/api/v1/users/chen_jingli/password-reset", headers=headers)
    assert reset.status_code == 200 and reset.get_json()["one_time_password"] != body["one_time_password"]

    disabled = client.post("/api/v1/users/chen_jingli/disable", headers=headers)
    assert disabled.status_code == 200 and disabled.get_json()["active"] is False
    assert person.get("/").status_code == 302 and person.get("/").headers["Location"].startswith("/login")
    assert client.post("/api/v1/users/chen_jingli/enable", headers=headers).get_json()["active"] is True
    unlocked = client.post("/api/v1/users/chen_jingli/unlock", headers=headers)
    assert unlocked.status_code == 200 and unlocked.get_json()["locked_until_at"] is None
    assert client.post(f"/api/v1/users/{admin_name}/disable", headers=headers).get_json()["error"]["code"] \
        == "own_account"
    assert client.post("/api/v1/users/nobody_here/disable", headers=headers).status_code == 404

    detail = client.get("/api/v1/users/chen_jingli", headers=headers).get_json()
    actions = [(event["action"], event["by"]) for event in detail["events"]]
    assert actions[:5] == [("user.unlock", admin_name), ("user.enable", admin_name), ("user.disable", admin_name),
                           ("user.password_reset", admin_name), ("login", "chen_jingli")]
    assert ("user.create", admin_name) in actions and all(event["occurred_at"] for event in detail["events"])
    listed = client.get("/api/v1/users", headers=headers).get_json()["users"]
    assert {"chen_jingli", admin_name} <= {row["username"] for row in listed}


def test_the_api_refuses_non_admins_and_creates_organisations_for_admins(app, client, make_user, token_for):
    finance = token_for(make_user("finance"))
    target = make_user("reviewer")
    for method, path, json in [("GET", "/api/v1/users", None), ("POST", f"/api/v1/users/{target}/disable", None),
                               ("POST", "/api/v1/organisations", {"name": "x", "kind": "charity", "region": "370800"})]:
        assert client.open(path, method=method, headers=finance, json=json).status_code == 403, path
    admin = token_for(make_user("admin"))
    created = client.post("/api/v1/organisations", headers=admin,
                          json={"name": "济宁市慈善总会", "kind": "charity", "region": "370800"})
    assert created.status_code == 201 and created.get_json()["code"] == "CSH-370800"
    refused = client.post("/api/v1/organisations", headers=admin,
                          json={"name": "济宁市慈善总会", "kind": "charity", "region": "370800",
                                "credit_code": "91370800MA3C5K7U5X"})
    assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {"name", "credit_code"}
