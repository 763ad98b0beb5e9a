"""Every demo user signs in through the login form and walks the pages of its role, in
Chromium at desktop (1280 px) and phone (390 px) width: each page loads without a script,
console or server error, draws its charts (any `[data-chart]` element on it), and at phone
width fits the screen (tables scroll inside their box; the page itself never scrolls
sideways). Screenshots of every page at both widths go to test-artifacts/screenshots/.

The fund tree, a fund page and the trial balance are walked by finance staff (the city, with
the forms' buttons), the auditor (the city, read-only) and the Yutai reviewer (one county);
the administrator and the city reviewer see those same city-wide pages as the auditor does,
so they walk their start page, a fund page and their own pages, which keeps the run short."""
from __future__ import annotations

import pytest

from tests.e2e.browser import DESKTOP, PHONE, charts_rendered, horizontal_overflow, screenshot

FUND_PAGES = [("start", "/"), ("fund-tree", "/funds/"), ("fund", "/funds/370827"),
              ("trial-balance", "/funds/trial-balance")]
CITY_READER_PAGES = [("start", "/"), ("fund", "/funds/370827-001")]
OWN_ORGANISATION = [("start", "/"), ("organisation", "/organisation")]
#: The beneficiary registry of the county desks (person 1 of seed-demo is 韩进 of Yutai).
REGISTRY_PAGES = [("registry", "/aid/persons"), ("person", "/aid/persons/1"), ("person-new", "/aid/persons/new"),
                  ("registry-import", "/aid/persons/import")]

#: Care procurement: the demo vendor's own vendor (1), its contract in Rencheng (1), the care budgets.
VENDOR_PAGES = [("vendor", "/vendors/1"), ("care-contracts", "/care/contracts"), ("care-contract", "/care/contracts/1")]
CARE_FINANCE_PAGES = VENDOR_PAGES + [("care-budgets", "/care/budgets"), ("care-contract-amend", "/care/contracts/1/amend")]

#: Each demo user, the name shown in the header, and the pages of its work.
ROLES = {
    "admin": ("系统管理员", CITY_READER_PAGES + [("users", "/admin/users")]),
    "finance": ("财务 王会计", FUND_PAGES + CARE_FINANCE_PAGES),
    "reviewer": ("市民政 杜审核", CITY_READER_PAGES + [("reports", "/reports/")]),
    "reviewer_yutai": ("鱼台县民政 李审核", FUND_PAGES + REGISTRY_PAGES),
    "charity_yutai": ("鱼台县慈善总会 张专干", OWN_ORGANISATION + REGISTRY_PAGES),
    "vendor": ("颐养居家照护 陈经理", OWN_ORGANISATION + VENDOR_PAGES + [("worker-import", "/vendors/1/workers/import")]),
    "auditor": ("审计 刘审计师", FUND_PAGES),
}


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_signs_in_and_its_pages_work_on_desktop_and_phone(visit, live_server, username):
    display_name, pages = ROLES[username]
    visitor = visit(username)
    landing = visitor.sign_in()
    assert landing.url == live_server("/"), f"{username} landed on {landing.url}, not the start page"
    assert display_name in landing.inner_text("header")

    too_wide, undrawn = [], []
    for viewport in (DESKTOP, PHONE):
        page = visitor.page(viewport)
        for name, path in pages:
            response = page.goto(live_server(path))
            assert response.ok, f"{username}: {path} answered {response.status}"
            undrawn += [f"{path}: {chart}" for chart in charts_rendered(page)]
            if viewport is PHONE:
                overflow = horizontal_overflow(page)
                if overflow:
                    too_wide.append(overflow)
            screenshot(page, username, name, viewport)

    assert not visitor.problems.seen, "\n".join(visitor.problems.seen)
    assert not undrawn, f"charts that drew nothing: {undrawn}"
    assert not too_wide, "pages wider than a 390 px phone:\n" + "\n".join(too_wide)
