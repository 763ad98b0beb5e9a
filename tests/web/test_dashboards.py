"""The start pages show the work: their figures and the data of their charts are the ledger's own.

A finance officer posts a receipt and a payment and sees this month's figures, the county's bar
and the list of vouchers move by exactly those amounts; a reversal takes them back. A county
reviewer sees only that county's funds, an auditor the journal check, the report log and the
months, an administrator the accounts and who is locked out; a charity or a vendor sees its own
organisation and nothing of anyone else. A fund page draws its balance over time and its spending
by purpose from the same postings. Charts are drawn from JSON blocks by a static script: no
inline script runs anywhere on these pages.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ledger.extensions import db
from ledger.money import format_cny
from ledger.timeutil import local_today

YUTAI, CHENGXI, RENCHENG = "370827", "370827-001", "370811"
RESIDENT_ID = "11010519491231002X"


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def chart_data(page: str, chart_id: str) -> dict:
    """The JSON block a chart is drawn from (what charts.js reads)."""
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, flags=re.S)
    assert match, f"no data for chart {chart_id}"
    return json.loads(match.group(1))


def series(chart: dict, name: str) -> dict:
    """category -> value of the series called `name`."""
    values = next(one["values"] for one in chart["series"] if one["name"] == name)
    return dict(zip(chart["categories"], values))


def area_bars(page: str, name: str = "Available") -> dict:
    """fund code -> that fund's bar in the balances chart (bars are in the table's row order)."""
    codes = re.findall(r'<tr data-fund="([^"]+)"', table(page, "area-table"))
    chart = chart_data(page, "area-chart")
    assert len(codes) == len(chart["categories"])
    return dict(zip(codes, next(one["values"] for one in chart["series"] if one["name"] == name)))


def element_text(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, flags=re.S)
    assert match, f"no element {element_id}"
    return match.group(1).strip()


def table(page: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, flags=re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


@pytest.fixture
def in_app(demo_app):
    """in_app(fn) -> fn(session, user) as the demo user `finance` (or `as_user`), committed."""
    from ledger.auth.models import User

    def run(fn, as_user="finance"):
        with demo_app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == as_user)) if as_user else None
            result = fn(db.session, user)
            db.session.commit()
            return result

    return run


@pytest.fixture
def english(demo_user_client):
    """english(username) -> a signed-in client reading the English interface."""
    def client_for(username):
        client = demo_user_client(username)
        client.get("/lang/en")
        return client

    return client_for


def test_finance_sees_this_months_money_move_by_what_was_posted(english, in_app):
    from ledger.funds import services

    finance = english("finance")
    month = local_today().isoformat()[:7]
    before = text(finance.get("/"))
    bar_before = area_bars(before)[YUTAI]
    receipts_before = element_text(before, "stat-receipts")
    assert f"Receipts in {month}" in before

    receipt = in_app(lambda session, user: services.record_receipt(
        session, user, CHENGXI, 12_345_67, source="donation", payer_name="爱心企业", value_on=local_today()
    ).voucher_no)
    payment = in_app(lambda session, user: services.disburse(
        session, user, YUTAI, 2_000_00, value_on=local_today(), purpose="medical_aid",
        payee=services.Payee(kind="person", name="张秀英", id_number=RESIDENT_ID)).voucher_no)

    after = text(finance.get("/"))
    assert element_text(after, "stat-receipts") == format_cny(12_345_67) != receipts_before
    assert element_text(after, "stat-payments") == format_cny(2_000_00)
    assert element_text(after, "stat-vouchers") == "2"
    day = local_today().strftime("%m-%d")
    flows = chart_data(after, "flow-chart")
    assert series(flows, "Receipts")[day] == 12_345_67 and series(flows, "Payments")[day] == 2_000_00
    assert format_cny(12_345_67) in table(after, "flow-table")
    # The county's bar rolls up its villages: +receipt in Chengxi village, -payment from the county fund.
    assert area_bars(after)[YUTAI] == bar_before + 12_345_67 - 2_000_00
    # The newest voucher comes first, linked to its page.
    vouchers = table(after, "voucher-table")
    assert vouchers.index(payment) < vouchers.index(receipt)
    assert f'href="/funds/entries/{payment}"' in vouchers

    # A reversal in the same month takes the payment back, as it does in the trial balance.
    in_app(lambda session, user: services.reverse_entry(session, user, payment, reason="paid twice"))
    reversed_page = text(finance.get("/"))
    assert element_text(reversed_page, "stat-payments") == format_cny(0)
    assert area_bars(reversed_page)[YUTAI] == bar_before + 12_345_67


def test_the_balances_by_county_add_up_to_the_city_fund_tree(english, in_app):
    from ledger.funds import services

    page = text(english("finance").get("/"))
    available = area_bars(page)
    roots = in_app(lambda session, user: services.fund_tree(session, user))
    city = roots[0]
    assert len(available) == 1 + len(city.children) == 12, "the city fund itself and 11 counties"
    assert available[city.code] == city.available_fen
    assert {child.code: child.total_available_fen for child in city.children}.items() <= available.items()
    # The bars name the places; the words every county's fund ends with are left to the table.
    labels = chart_data(page, "area-chart")["categories"]
    assert "任城区" in labels and "鱼台县" in labels
    assert sum(available.values()) == city.total_available_fen
    assert element_text(page, "area-total-available") == format_cny(city.total_available_fen)


def test_pending_holds_are_listed_soonest_expiry_first_and_counted(english, in_app):
    from ledger.funds import services

    now = datetime.now(timezone.utc)
    # The demo city holds money already: the funds demo's 15,000.00 in Yutai and the aid demo's approvals.
    count_before, total_before = element_text(text(english("finance").get("/")), "stat-holds").split(" · ")
    in_app(lambda session, user: services.place_hold(session, user, RENCHENG, 7_000_00,
                                                     expires_at=now + timedelta(days=2), purpose="emergency_aid",
                                                     payee=services.Payee(kind="person", name="赵先急", id_number=RESIDENT_ID)))
    in_app(lambda session, user: services.place_hold(session, user, CHENGXI, 3_000_00,
                                                     expires_at=now + timedelta(days=20), purpose="medical_aid",
                                                     payee=services.Payee(kind="person", name="钱后缓", id_number=RESIDENT_ID)))
    page = text(english("finance").get("/"))
    holds = table(page, "hold-table")
    assert holds.index("赵先急") < holds.index("钱后缓"), "the hold that expires first is listed first"
    total_before_fen = int(total_before.replace("¥", "").replace(",", "").replace(".", ""))
    assert element_text(page, "stat-holds") == f"{int(count_before) + 2} · {format_cny(total_before_fen + 10_000_00)}"


def test_a_county_reviewer_sees_only_the_county(english, in_app):
    reviewer = text(english("reviewer_yutai").get("/"))
    chart = chart_data(reviewer, "area-chart")
    codes = re.findall(r'<tr data-fund="([^"]+)"', table(reviewer, "area-table"))
    assert codes[0] == YUTAI and len(codes) == len(chart["categories"]) > 1
    assert all(code == YUTAI or code.startswith(YUTAI + "-") for code in codes), codes
    assert "任城区" not in reviewer and "JN-CITY" not in reviewer
    assert "open, most urgent first" in element_text(reviewer, "aid-queue-note")
    assert "SQ-2026-370827-" in reviewer and "SQ-2026-370811-" not in reviewer

    city_reviewer = text(english("reviewer").get("/"))
    counties = re.findall(r'<tr data-fund="([^"]+)"', table(city_reviewer, "area-table"))
    assert len(counties) == 12 and RENCHENG in counties and YUTAI in counties


@pytest.mark.parametrize("username", ["charity_yutai", "vendor"])
def test_partners_see_their_own_organisation_and_nothing_of_others(english, username, in_app):
    from ledger.auth.models import Organisation, User

    page = text(english(username).get("/"))
    own = in_app(lambda session, user: user.organisation.name, as_user=username)
    others = in_app(lambda session, user: [name for (name,) in session.execute(
        sa.select(Organisation.name).where(Organisation.id != user.organisation_id))], as_user=username)
    usernames = in_app(lambda session, user: list(session.scalars(sa.select(User.username)
                                                                  .where(User.id != user.id))), as_user=username)
    main = page[page.index('<main'):page.index('</main>')]
    assert own in main and "Your organisation" in main
    assert not [name for name in others if name in main], "no other organisation is named"
    assert not [name for name in usernames if re.search(rf"\b{re.escape(name)}\b", main)]
    assert "data-chart" not in main and "¥" not in main, "no fund, no figures of the ledger"


def test_the_auditor_sees_the_journal_check_the_reports_and_the_months(demo_app, english, in_app, tmp_path):
    from ledger.funds import services
    from tests.support import bearer_headers

    demo_app.config["REPORTS_DIR"] = str(tmp_path / "reports")
    page = text(english("auditor").get("/"))
    check = in_app(lambda session, user: services.verify_journal(session, user), as_user="auditor")
    assert element_text(page, "stat-journal") == "intact"
    assert element_text(page, "stat-entries") == str(check.entry_count)
    assert check.digest in page
    assert "No reports generated yet." in page

    register = demo_app.test_client().get("/api/v1/reports/journal-register.csv",
                                          query_string={"fund": CHENGXI, "from": "2026-01-01", "to": "2026-03-31"},
                                          headers=bearer_headers(demo_app, "finance"))
    assert register.status_code == 200
    in_app(lambda session, user: services.record_receipt(session, user, CHENGXI, 1_00, source="donation",
                                                         payer_name="一位市民", value_on=local_today()))
    page = text(english("auditor").get("/"))
    runs = table(page, "run-table")
    assert "Journal register" in runs and CHENGXI in runs and "Done" in runs
    assert element_text(page, "stat-entries") == str(check.entry_count + 1)
    months = re.findall(r'<span class="month">(\d{4}-\d{2})</span>', page)
    assert months[0] == local_today().isoformat()[:7] and len(months) == 12


def test_a_closed_month_shows_as_closed_on_the_auditors_page(app, client, make_user, login):
    from ledger.funds import services

    auditor = make_user("auditor")
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()[:7]
    login(auditor)
    client.get("/lang/en")
    before = text(client.get("/"))
    assert element_text(before, "stat-closed") == "0"
    with app.app_context():
        services.close_period(db.session, None, last_month)
        db.session.commit()
    page = text(client.get("/"))
    assert element_text(page, "stat-closed") == "1"
    strip = re.search(r'<ul class="period-strip".*?</ul>', page, flags=re.S).group(0)
    closed = re.findall(r'<li class="closed"><span class="month">([^<]+)</span>', strip)
    assert closed == [last_month]


def test_the_administrator_sees_accounts_by_role_sign_ins_and_lockouts(demo_app, english, in_app, client, login):
    from ledger.auth.models import Role, User

    counts = in_app(lambda session, user: {role.value: session.scalar(sa.select(sa.func.count(User.id))
                                                                      .where(User.role == role)) for role in Role})
    page = text(english("admin").get("/"))
    assert element_text(page, "stat-users") == str(sum(counts.values()))
    roles = table(page, "role-table")
    for role, count in counts.items():
        assert re.search(rf'<tr data-role="{role}">.*?<td class="num">{count}</td><td class="num">{count}</td>',
                         roles, flags=re.S), role
    assert "No account is locked." in page

    def lock_out(session, _user):
        vendor = session.scalar(sa.select(User).where(User.username == "vendor"))
        vendor.locked_until_at = datetime.now(timezone.utc) + timedelta(minutes=15)

    in_app(lock_out, as_user=None)
    page = text(english("admin").get("/"))
    assert element_text(page, "stat-locked") == "1"
    locked = re.search(r'<ul class="plain-list" id="locked-list">.*?</ul>', page, flags=re.S).group(0)
    assert 'href="/admin/users/vendor"' in locked and "reviewer_yutai" not in locked
    chart = chart_data(page, "role-chart")
    assert sum(series(chart, "Active").values()) == sum(counts.values())


def test_only_administrators_get_the_administrators_figures(english):
    finance = text(english("finance").get("/"))
    assert 'id="role-table"' not in finance and 'id="locked-list"' not in finance
    auditor = text(english("auditor").get("/"))
    assert 'id="area-table"' not in auditor and 'id="role-table"' not in auditor


def test_a_fund_page_charts_its_balance_over_time_and_spending_by_purpose(english, in_app):
    from ledger.funds import services

    finance = english("finance")
    in_app(lambda session, user: services.disburse(
        session, user, YUTAI, 1_500_00, value_on=local_today(), purpose="medical_aid",
        payee=services.Payee(kind="person", name="张秀英", id_number=RESIDENT_ID)))
    page = text(finance.get(f"/funds/{YUTAI}"))
    balance = in_app(lambda session, user: services.fund_balance(session, user, YUTAI))
    points = series(chart_data(page, "balance-chart"), "Balance")
    assert list(points)[-1] == local_today().isoformat()
    assert points[local_today().isoformat()] == balance.posted_fen, "the last point is today's posted balance"
    assert format_cny(balance.posted_fen) in table(page, "balance-history-table")

    spending = series(chart_data(page, "purpose-chart"), "Spending")
    # The demo city paid 10,000.00 of temporary assistance from Yutai and 18,000.00 of medical aid on two
    # applications (韩进's 10,000.00, an especially urgent case's 8,000.00); this test 1,500.00 of medical aid.
    assert spending == {"Temporary assistance": 10_000_00, "Medical aid": 18_000_00 + 1_500_00}
    assert format_cny(29_500_00) in table(page, "spending-table")


def test_a_fund_out_of_sight_has_no_charts_either(english):
    response = english("reviewer_yutai").get(f"/funds/{RENCHENG}")
    assert response.status_code == 404
    assert "balance-chart" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", f"/funds/{YUTAI}"])
def test_charts_run_no_inline_script(english, path):
    """Every script is a file of the app or a JSON data block, so a strict CSP (script-src 'self') holds."""
    response = english("finance").get(path)
    page = text(response)
    if path == "/":
        assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        if 'type="application/json"' in attributes:
            json.loads(body)
        else:
            assert 'src="/static/' in attributes and not body.strip(), attributes
    assert 'src="/static/vendor/echarts/echarts.min.js"' in page and 'src="/static/charts.js"' in page
