"""`flask users ...` and `flask seed-demo`, run through the CLI as an operator would."""
import os
import stat

import sqlalchemy as sa

from ledger.auth.models import ApiToken, Organisation, Region, RegionLevel, User
from ledger.demo import COUNTIES
from ledger.extensions import db


def _count(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


def test_users_create_token_list_and_disable(app, make_org):
    make_org("CSH-370827", "charity")
    runner = app.test_cli_runner()

    created = runner.invoke(args=["users", "create", "li_si", "--role", "charity", "--org", "CSH-370827",
                                  "--password", "a long enough password"])
    assert created.exit_code == 0, created.output
    assert "created user li_si (charity, CSH-370827)" in created.output
    assert "password" not in created.output, "a given password is not echoed"

    generated = runner.invoke(args=["users", "create", "wang_wu", "--role", "charity", "--org", "CSH-370827"])
    assert generated.exit_code == 0
    password = generated.output.split("password: ", 1)[1].strip()
    assert len(password) >= 12
    client = app.test_client()
    assert client.post("/login", data={"username": "wang_wu", "password": password}).status_code == 302

    issued = runner.invoke(args=["users", "token", "li_si"])
    assert issued.exit_code == 0
    token = issued.output.strip()
    assert token.startswith("jsj_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["username"] == "li_si"

    listing = runner.invoke(args=["users", "list"]).output
    li_si_line = next(line for line in listing.splitlines() if line.startswith("li_si"))
    assert "charity" in li_si_line and "CSH-370827" in li_si_line and "active" in li_si_line
    assert token[:12] in li_si_line and token not in listing

    disabled = runner.invoke(args=["users", "disable", "li_si"])
    assert disabled.exit_code == 0 and "disabled li_si" in disabled.output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/login", data={"username": "li_si", "password": "a long enough password"}).status_code == 401
    assert "disabled" in next(line for line in runner.invoke(args=["users", "list"]).output.splitlines()
                              if line.startswith("li_si"))
    refused = runner.invoke(args=["users", "token", "li_si"])
    assert refused.exit_code != 0 and "disabled" in refused.output


def test_users_create_refuses_bad_input_and_writes_nothing(app, make_org):
    make_org("MZJ-370827", "county_bureau")
    runner = app.test_cli_runner()
    cases = [
        (["--role", "boss", "--org", "MZJ-370827", "--password", "a long enough password"], "role"),
        (["--role", "reviewer", "--org", "NO-SUCH", "--password", "a long enough password"], "NO-SUCH"),
        (["--role", "reviewer", "--org", "MZJ-370827", "--password", "short"], "at least 12"),
    ]
    for options, complaint in cases:
        result = runner.invoke(args=["users", "create", "zhao_liu", *options])
        assert result.exit_code != 0 and complaint in result.output, result.output
    assert _count(app, sa.select(sa.func.count(User.id))) == 0

    runner.invoke(args=["users", "create", "zhao_liu", "--role", "reviewer", "--org", "MZJ-370827",
                        "--password", "a long enough password"])
    again = runner.invoke(args=["users", "create", "zhao_liu", "--role", "reviewer", "--org", "MZJ-370827",
                                "--password", "another long password"])
    assert again.exit_code != 0 and "already exists" in again.output
    for command in (["users", "token", "nobody"], ["users", "disable", "nobody"]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0 and "nobody" in result.output


def test_seed_demo_builds_the_city_once_and_prints_the_logins_once(app, tmp_path):
    app.instance_path = str(tmp_path)  # keep the real instance/demo-logins.txt untouched
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counties = _count(app, sa.select(sa.func.count(Region.id)).where(Region.level == RegionLevel.county))
    villages = _count(app, sa.select(sa.func.count(Region.id)).where(Region.level == RegionLevel.village))
    assert (counties, villages) == (11, 333)
    with app.app_context():
        county_names = set(db.session.scalars(sa.select(Region.name).where(Region.level == RegionLevel.county)))
        charities = set(db.session.scalars(sa.select(Organisation.code).where(Organisation.kind == "charity")))
        roles = {user.role.value for user in db.session.scalars(sa.select(User))}
    assert county_names == {name for _, name, _, _ in COUNTIES}
    assert "鱼台县" in county_names and "梁山县" in county_names
    assert charities == {f"CSH-{code}" for code, *_ in COUNTIES}
    assert roles == {"admin", "finance", "reviewer", "charity", "vendor", "auditor"}

    logins = tmp_path / "demo-logins.txt"
    assert stat.S_IMODE(os.stat(logins).st_mode) == 0o600
    kept = logins.read_text()
    for username in ("admin", "finance", "reviewer", "charity_yutai", "vendor", "auditor"):
        assert f"\n{username} " in kept and f"  {username} " in first.output
    admin_password = next(line.split()[2] for line in kept.splitlines() if line.startswith("admin "))
    assert app.test_client().post("/login", data={"username": "admin", "password": admin_password}).status_code == 302

    tables = [Region, Organisation, User]
    before = [_count(app, sa.select(sa.func.count()).select_from(t)) for t in tables]
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "regions created: 0, organisations created: 0" in second.output
    assert admin_password not in second.output and "demo logins" not in second.output
    assert [_count(app, sa.select(sa.func.count()).select_from(t)) for t in tables] == before
    assert logins.read_text() == kept, "the logins file still holds the working passwords"

    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "skipped" in skipped.output
    assert _count(app, sa.select(sa.func.count(ApiToken.id))) == 0
