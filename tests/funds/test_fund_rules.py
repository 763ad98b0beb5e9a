"""The fund rules as the API and the web forms tell them: allocations along the tree, period close,
holds' buttons, the preparer on a voucher, the confirmation of a very large receipt.

Runs on the demo data (see `tests/funds/test_api_funds.py`)."""
from __future__ import annotations

import pytest

from ledger.timeutil import local_today
from tests.funds.test_api_funds import Api
from tests.funds.test_web_funds import Browser, field_block, text

CITY, YUTAI, CHENGXI, RENCHENG = "370800", "370827", "370827-001", "370811"
RENCHENG_VILLAGE = "370811-001"
YUTAI_OTHER_VILLAGE = "370827-002"


@pytest.fixture
def api(demo_app, demo_token_for):
    client = demo_app.test_client()
    return lambda username="finance": Api(client, demo_token_for(username))


@pytest.fixture
def browser(demo_app, demo_user_client):
    return lambda username="finance": Browser(demo_app, demo_user_client(username))


# --- allocations follow the tree ------------------------------------------------------------------

@pytest.mark.parametrize("source, target", [(YUTAI, RENCHENG_VILLAGE), (CHENGXI, YUTAI_OTHER_VILLAGE)])
def test_the_api_refuses_an_allocation_across_the_tree_naming_the_field(api, source, target):
    finance = api()
    before = finance.available(source)
    response = finance.post("/allocations", {"from_fund": source, "to_fund": target, "amount": "1.00"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "allocation_off_tree"
    assert "parent or one of its own children" in error["fields"]["to_fund"][0]
    assert target not in error["allowed"]
    assert finance.available(source) == before


@pytest.mark.parametrize("source, target", [(CITY, YUTAI), (YUTAI, CHENGXI), (CHENGXI, YUTAI), (YUTAI, CITY)])
def test_the_api_allocates_one_level_up_or_down(api, source, target):
    response = api().post("/allocations", {"from_fund": source, "to_fund": target, "amount": "1.00"})
    assert response.status_code == 201, response.get_json()


def test_the_allocation_form_shows_the_refusal_on_the_receiving_fund(browser):
    finance = browser()
    page = finance.submit("/funds/allocation", {"from_fund": YUTAI, "to_fund": RENCHENG_VILLAGE, "amount": "1.00",
                                                "value_on": local_today().isoformat()}, follow=False)
    assert page.status_code == 422
    block = field_block(text(page), "to_fund")
    assert "has-error" in block and "one level up or down the fund tree" in block

    finance.get("/lang/zh_CN")
    page = finance.submit("/funds/allocation", {"from_fund": CHENGXI, "to_fund": YUTAI_OTHER_VILLAGE,
                                                "amount": "1.00", "value_on": local_today().isoformat()},
                          follow=False)
    assert "逐级" in field_block(text(page), "to_fund")
