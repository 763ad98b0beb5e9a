"""After signing in, each demo user lands on a start page in Chinese made for its role."""
import pytest

#: username -> what its start page must say (role, organisation, scope) and which tiles it offers.
EXPECTED = {
    "admin": ("系统管理员", "济宁市民政局", "全市", ["/admin/users", "/organisation", "/account/tokens"]),
    "finance": ("财务人员", "济宁市民政局", "全市", ["/organisation", "/account/tokens"]),
    "reviewer": ("民政审核人员", "济宁市民政局", "全市", ["/organisation", "/account/tokens"]),
    "reviewer_yutai": ("民政审核人员", "鱼台县民政局", "鱼台县及其所辖村", ["/organisation"]),
    "charity_yutai": ("慈善组织", "鱼台县慈善总会", "只能查看鱼台县慈善总会", ["/organisation"]),
    "vendor": ("第三方照护机构", "济宁市颐养居家照护服务中心", "只能查看济宁市颐养居家照护服务中心", ["/organisation"]),
    "auditor": ("审计人员", "济宁市审计局", "只读", ["/organisation"]),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_demo_user_gets_a_start_page_for_its_role(demo_user_client, username):
    role, organisation, scope, tiles = EXPECTED[username]
    response = demo_user_client(username).get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert role in page and organisation in page and scope in page
    for href in tiles:
        assert f'class="work-link" href="{href}"' in page
    admin_tile = 'class="work-link" href="/admin/users"'
    assert (admin_tile in page) == (username == "admin"), "only administrators are offered the user list"


def test_the_admin_page_lists_users_with_role_organisation_and_state(demo_app, demo_user_client):
    from ledger.auth.services import disable_user
    from ledger.extensions import db

    with demo_app.app_context():
        disable_user(db.session, "vendor")
        db.session.commit()
    page = demo_user_client("admin").get("/admin/users").get_data(as_text=True)
    for text in ["charity_yutai", "鱼台县慈善总会", "慈善组织", "reviewer_yutai", "鱼台县民政局", "已停用",
                 "HL-370800-01", "第三方照护机构", "CSH-370832", "梁山县", "333"]:
        assert text in page, text


def test_the_language_switch_persists_in_the_session_and_on_the_user(demo_app, demo_user_client):
    client = demo_user_client("finance")
    response = client.get("/lang/en?next=/organisation")
    assert response.status_code == 302 and response.headers["Location"] == "/organisation"
    assert "My organisation" in client.get("/organisation").get_data(as_text=True)
    assert "Welcome" in client.get("/").get_data(as_text=True)

    # A new session of the same user keeps the choice (saved on the user).
    fresh = demo_user_client("finance")
    assert "Welcome" in fresh.get("/").get_data(as_text=True)

    client.get("/lang/zh_CN")
    assert "您好" in client.get("/").get_data(as_text=True)
    assert client.get("/lang/fr").status_code == 302
    assert "您好" in client.get("/").get_data(as_text=True), "an unknown language changes nothing"


def test_a_language_chosen_before_login_survives_the_login(app, client, make_user, login):
    username = make_user("finance")
    client.get("/lang/en")
    login(username)
    assert "Welcome" in client.get("/").get_data(as_text=True)


def test_pages_answer_with_friendly_error_pages(demo_user_client):
    client = demo_user_client("charity_yutai")
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403 and "您没有执行此操作的权限" in forbidden.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "未找到该页面或记录" in missing.get_data(as_text=True)
