"""What a signed-in person sees of themselves: the header names their own organisation (not the city
bureau for everyone), and "last login" on the start page is the sign-in before this one."""
import re
from datetime import timedelta

import sqlalchemy as sa

from ledger.auth.models import User
from ledger.extensions import db
from ledger.timeutil import as_utc, to_local, utcnow


def _header(page: str) -> str:
    return page[page.index('<header class="topbar">'):page.index("</header>")]


def test_the_header_names_the_users_own_organisation(app, client, make_user, login):
    username = make_user("charity", org="CSH-370827")
    assert "济宁市民政局" in _header(client.get("/login").get_data(as_text=True)), "signed out: the bureau"
    login(username)
    header = _header(client.get("/").get_data(as_text=True))
    assert re.search(r'<small class="brand-organisation">机构 CSH-370827</small>', header)
    assert "济宁市民政局" not in header
    assert "济时救" in header, "the product's name stays"


def test_last_login_on_the_start_page_is_the_previous_sign_in(app, client, make_user, login):
    username = make_user("finance")
    login(username)
    assert "上次登录" not in client.get("/").get_data(as_text=True), "a first sign-in has no previous one"
    client.post("/logout")

    earlier = utcnow() - timedelta(days=3, hours=2)
    with app.app_context():  # as if the first sign-in had been three days ago
        user = db.session.scalar(sa.select(User).where(User.username == username))
        user.last_login_at = earlier
        db.session.commit()
    login(username)
    page = client.get("/").get_data(as_text=True)
    shown = re.search(r"<dt>上次登录</dt><dd>([^<]+)</dd>", page).group(1)
    assert shown == to_local(earlier).strftime("%Y-%m-%d %H:%M"), "the sign-in before this one, not this one"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert as_utc(user.last_login_at) > earlier and as_utc(user.previous_login_at) == earlier
