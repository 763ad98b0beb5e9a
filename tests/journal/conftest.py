"""Fixtures for the journal tests: a small fund tree and the people who work on it."""
from __future__ import annotations

import pytest

from tests.journal.factories import add_user, build_tree


@pytest.fixture
def tree(app, session):
    """The city, 鱼台县 (two villages) and 任城区 (one village), funds and accounts, no money yet."""
    return build_tree(session)


@pytest.fixture
def finance(tree, session):
    return add_user(session, "wang_kuaiji", "finance")


@pytest.fixture
def admin(tree, session):
    return add_user(session, "admin_li", "admin")
