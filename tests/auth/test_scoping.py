"""Organisation scoping, enforced in the service queries: a record outside a user's sight
answers 404 exactly like one that does not exist."""
import pytest
import sqlalchemy as sa

from ledger.auth import directory
from ledger.auth.models import Organisation, User
from ledger.auth.services import create_user
from ledger.errors import NotFound
from ledger.extensions import db

ALL_COUNTY_CODES = ["370811", "370812", "370881", "370883", "370826", "370827", "370828", "370829", "370830",
                    "370831", "370832"]


def _codes_seen_by(app, username):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        return {o.code for o in directory.visible_organisations(db.session, user)}


def test_each_role_sees_the_organisations_its_place_allows(demo_app):
    with demo_app.app_context():
        every = set(db.session.scalars(sa.select(Organisation.code)))
    assert _codes_seen_by(demo_app, "charity_yutai") == {"CSH-370827"}
    assert _codes_seen_by(demo_app, "vendor") == {"HL-370800-01"}
    assert _codes_seen_by(demo_app, "reviewer_yutai") == {"MZJ-370827", "CSH-370827"}
    for username in ("admin", "finance", "reviewer", "auditor"):
        assert _codes_seen_by(demo_app, username) == every
    assert {f"CSH-{code}" for code in ALL_COUNTY_CODES} <= every


def test_the_service_refuses_another_organisation_as_not_found(demo_app):
    with demo_app.app_context():
        charity = db.session.scalar(sa.select(User).where(User.username == "charity_yutai"))
        assert directory.get_organisation(db.session, charity, "CSH-370827").name == "鱼台县慈善总会"
        with pytest.raises(NotFound):
            directory.get_organisation(db.session, charity, "CSH-370811")
        with pytest.raises(NotFound):
            directory.get_organisation(db.session, charity, "NO-SUCH-ORG")


@pytest.mark.parametrize("username, code", [
    ("charity_yutai", "CSH-370811"),   # another county's charity
    ("charity_yutai", "MZJ-370827"),   # its own county's bureau
    ("vendor", "HL-370800-02"),        # a competing vendor
    ("reviewer_yutai", "CSH-370811"),  # a charity outside the reviewer's county
])
def test_another_organisations_record_is_404_on_the_api_and_the_web(demo_app, demo_token_for, demo_user_client,
                                                                    username, code):
    api = demo_app.test_client().get(f"/api/v1/organisations/{code}", headers=demo_token_for(username))
    missing = demo_app.test_client().get("/api/v1/organisations/NO-SUCH-ORG", headers=demo_token_for(username))
    assert api.status_code == missing.status_code == 404
    assert api.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "not_found"
    # Indistinguishable from an organisation that does not exist.
    assert (api.get_json()["error"]["message"].replace(code, "?")
            == missing.get_json()["error"]["message"].replace("NO-SUCH-ORG", "?"))

    web = demo_user_client(username).get(f"/organisations/{code}")
    assert web.status_code == 404


def test_a_charity_user_sees_its_own_organisation_and_colleagues_only(demo_app, demo_user_client, demo_token_for):
    with demo_app.app_context():
        create_user(db.session, "charity_yutai_2", "charity", "CSH-370827", "correct horse battery", "鱼台 王干事")
        create_user(db.session, "charity_rencheng", "charity", "CSH-370811", "correct horse battery", "任城 赵干事")
        db.session.commit()
    listed = demo_app.test_client().get("/api/v1/organisations", headers=demo_token_for("charity_yutai"))
    assert [o["code"] for o in listed.get_json()["organisations"]] == ["CSH-370827"]

    page = demo_user_client("charity_yutai").get("/organisation").get_data(as_text=True)
    assert "鱼台县慈善总会" in page
    assert "鱼台 王干事" in page and "charity_yutai_2" in page
    assert "任城 赵干事" not in page and "charity_rencheng" not in page


def test_bureau_staff_see_another_organisation_but_not_its_people(demo_app, demo_user_client):
    page = demo_user_client("reviewer").get("/organisations/CSH-370827")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "鱼台县慈善总会" in text and "charity_yutai" not in text
    admin_view = demo_user_client("admin").get("/organisations/CSH-370827").get_data(as_text=True)
    assert "charity_yutai" in admin_view
