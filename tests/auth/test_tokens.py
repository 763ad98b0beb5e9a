"""API tokens: stored hashed, tied to one user, revocable from the API, the web page and the CLI."""
import hashlib
import re

import sqlalchemy as sa

from ledger.auth.models import ApiToken
from ledger.extensions import db


def test_a_token_acts_as_its_user_and_only_its_hash_is_stored(app, client, make_user, token_for):
    username = make_user("charity", org="CSH-370827")
    headers = token_for(username)
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json()["username"] == username
    assert me.get_json()["role"] == "charity"
    assert me.get_json()["organisation"]["code"] == "CSH-370827"

    secret = headers["Authorization"].split(" ", 1)[1]
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (row.token_hash, row.prefix) and secret.startswith(row.prefix)
        assert row.last_used_at is not None, "use is recorded"


def test_requests_without_a_valid_token_are_401_with_the_error_shape(client, make_user, token_for):
    headers = token_for(make_user("finance"))
    for bad in [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                {"Authorization": "Bearer jsj_not-a-real-token"},
                {"Authorization": headers["Authorization"] + "x"}]:
        response = client.get("/api/v1/me", headers=bad)
        assert response.status_code == 401, bad
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.get_json()["error"]["message"]


def test_a_client_revokes_its_own_token_and_it_stops_working(client, make_user, token_for):
    username = make_user("vendor")
    first, second = token_for(username), token_for(username)
    response = client.post("/api/v1/tokens/revoke", headers=first)
    assert response.status_code == 200 and response.get_json() == {"revoked": 1}
    assert client.get("/api/v1/me", headers=first).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 200, "other tokens live on"


def test_a_client_revokes_another_of_its_tokens_by_prefix_but_not_someone_elses(client, make_user, token_for):
    alice, bob = make_user("finance"), make_user("finance")
    alice_main, alice_old, bob_token = token_for(alice), token_for(alice), token_for(bob)
    listed = client.get("/api/v1/tokens", headers=alice_main).get_json()["tokens"]
    assert len(listed) == 2 and all("token" not in row and len(row["prefix"]) == 12 for row in listed)
    old_prefix = alice_old["Authorization"].split(" ", 1)[1][:12]
    bob_prefix = bob_token["Authorization"].split(" ", 1)[1][:12]

    refused = client.post("/api/v1/tokens/revoke", json={"prefix": bob_prefix}, headers=alice_main)
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=bob_token).status_code == 200

    done = client.post("/api/v1/tokens/revoke", json={"prefix": old_prefix}, headers=alice_main)
    assert done.status_code == 200
    assert client.get("/api/v1/me", headers=alice_old).status_code == 401
    assert client.get("/api/v1/me", headers=alice_main).status_code == 200


def test_a_disabled_users_tokens_are_refused(app, client, make_user, token_for):
    from ledger.auth.services import disable_user

    username = make_user("reviewer")
    headers = token_for(username)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        disable_user(db.session, username)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_tokens_page_shows_a_new_token_once_and_revokes_it(app, client, make_user, login):
    username = make_user("auditor")
    login(username)
    created = client.post("/account/tokens", data={"label": "月度导出脚本"})
    assert created.status_code == 200
    page = created.get_data(as_text=True)
    secret = re.search(r'id="new-token">(jsj_[^<]+)<', page).group(1)
    assert "只显示这一次" in page and "月度导出脚本" in page
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again, "the token is never shown again"
    assert secret[:12] in again and "月度导出脚本" in again

    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    revoked = client.post(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 302
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_nobody_revokes_someone_elses_token_from_the_web(app, client, make_user, token_for, login):
    owner = make_user("finance")
    headers = token_for(owner)
    login(make_user("admin"))
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert owner not in client.get("/account/tokens").get_data(as_text=True)
