"""Helpers shared by fixtures across the test folders: acting as a given user."""
from __future__ import annotations

import sqlalchemy as sa

from ledger.extensions import db


def bearer_headers(app, username: str) -> dict:
    """Headers carrying a fresh bearer token of `username`."""
    from ledger.auth.services import get_user, issue_token

    with app.app_context():
        token = issue_token(db.session, get_user(db.session, username))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def signed_in_client(app, username: str):
    """A test client whose session is that of `username` (the login form is tested on its own)."""
    from ledger.auth.models import User

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.username == username))
    assert user_id is not None, f"no user {username!r}"
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user_id)
        flask_session["_fresh"] = True
    return client
