"""The fund picker's search (`GET /funds/picker`): what a person finds by typing part of a fund's
name or code, only among the funds they may see, a bounded number at a time.

Runs on the demo city: the city fund, 11 county projects and 333 village funds."""
from __future__ import annotations

import pytest

from tests.funds.test_web_funds import Browser


@pytest.fixture
def picker(demo_app, demo_user_client):
    def ask(username="finance", **query):
        client = Browser(demo_app, demo_user_client(username)).client
        return client.get("/funds/picker", query_string=query)
    return ask


def test_typing_part_of_a_name_finds_those_funds_city_and_counties_first(picker):
    response = picker(q="鱼台")
    assert response.status_code == 200
    data = response.get_json()
    codes = [item["code"] for item in data["items"]]
    assert codes[0] == "370827"  # the county project before its villages
    assert all("鱼台" in item["name"] or "鱼台" in (item["parent_name"] or "") for item in data["items"])
    first = data["items"][0]
    assert first["label"] == f"{first['name']} (370827)" and first["level"] == "county"


def test_every_word_narrows_and_a_county_name_finds_its_villages_too(picker):
    everywhere = [item["code"] for item in picker(q="城西", limit="50").get_json()["items"]]
    assert "370827-001" in everywhere and len({code[:6] for code in everywhere}) > 1
    assert [item["code"] for item in picker(q="鱼台 城西").get_json()["items"]] == ["370827-001"]
    qufu = [item["code"] for item in picker(q="曲阜", limit="50").get_json()["items"]]
    assert qufu[0] == "370881" and len(qufu) > 1 and all(code.startswith("370881") for code in qufu)


def test_a_code_finds_its_fund_and_an_unknown_text_finds_nothing(picker):
    items = picker(q="370827-012").get_json()["items"]
    assert [item["code"] for item in items] == ["370827-012"]
    assert items[0]["parent_name"] and items[0]["level"] == "village"
    assert picker(q="没有这个基金").get_json() == {"items": [], "more": False}
    # LIKE's wildcards are text like any other: "%" matches no fund name.
    assert picker(q="%").get_json()["items"] == []


def test_the_answer_is_bounded_and_says_when_more_matched(picker):
    everything = picker().get_json()
    assert len(everything["items"]) == 20 and everything["more"] is True  # the default limit
    assert everything["items"][0]["code"] == "370800"  # the city fund first
    most = picker(limit="50").get_json()
    assert len(most["items"]) == 50 and most["more"] is True
    for limit in ("0", "51", "abc", "-1", "10000"):
        response = picker(limit=limit)
        assert response.status_code == 422, limit
        assert list(response.get_json()["error"]["fields"]) == ["limit"]
    assert picker(q="x" * 101).status_code == 422


def test_a_county_reviewer_finds_only_the_county_and_its_villages(picker):
    # "村" is in village names of every county; the Yutai reviewer finds only Yutai's.
    items = picker("reviewer_yutai", q="村", limit="50").get_json()["items"]
    assert items and all(item["code"].startswith("370827") for item in items)
    assert picker("reviewer_yutai", q="370811").get_json()["items"] == []  # Rencheng: out of scope
    assert picker("reviewer_yutai", q="370800").get_json()["items"] == []  # the city fund too
    assert [item["code"] for item in picker("finance", q="370800").get_json()["items"]] == ["370800"]
    city_wide = [item["code"] for item in picker("finance", q="村", limit="50").get_json()["items"]]
    assert any(not code.startswith("370827") for code in city_wide)


def test_partners_get_no_picker(picker):
    response = picker("charity_yutai", q="鱼台")
    assert response.status_code in (403, 404)
