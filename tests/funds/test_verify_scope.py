"""`GET /api/v1/journal/verify` is scoped like every other read (issue 10, point 10): a county's
reviewer verifies the chains of the county's own funds, so a voucher changed in another county's
books is neither shown to it nor makes its answer broken; the city's roles see the break."""
from __future__ import annotations

import sqlalchemy as sa

from ledger.extensions import db
from ledger.journal.models import JournalEntry

YUTAI, RENCHENG = "370827", "370811"


def _tamper(app, voucher: str) -> None:
    """Change a stored voucher's memo with plain SQL, past the app and the append-only trigger."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            triggers = []
        else:
            triggers = connection.execute(sa.text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal_entries'"
                " AND sql LIKE '%UPDATE%'")).all()
            for name, _sql in triggers:
                connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
        connection.execute(sa.text("UPDATE journal_entries SET memo = memo || ' (changed)' WHERE voucher_no = :v"),
                           {"v": voucher})
        for _name, sql in triggers:
            connection.execute(sa.text(sql))
        db.session.commit()
        assert db.session.scalar(sa.select(JournalEntry.memo).where(JournalEntry.voucher_no == voucher)) \
            .endswith("(changed)")


def test_a_break_in_another_countys_chain_is_not_the_county_reviewers_to_see(demo_app, demo_token_for):
    client = demo_app.test_client()
    finance = demo_token_for("finance")
    vouchers = {}
    for code in (YUTAI, RENCHENG):
        response = client.post(f"/api/v1/funds/{code}/receipts",
                               json={"amount": "8.00", "source": "donation", "payer_name": "韩进", "memo": "捐赠"},
                               headers={**finance, "Idempotency-Key": f"verify-{code}"})
        assert response.status_code == 201, response.get_json()
        vouchers[code] = response.get_json()["voucher_no"]
    county_reviewer, city_reviewer = demo_token_for("reviewer_yutai"), demo_token_for("reviewer")
    county_before = client.get("/api/v1/journal/verify", headers=county_reviewer).get_json()
    assert county_before["ok"] is True and RENCHENG not in county_before["heads"]

    _tamper(demo_app, vouchers[RENCHENG])

    city = client.get("/api/v1/journal/verify", headers=city_reviewer).get_json()
    assert city["ok"] is False and city["voucher_no"] == vouchers[RENCHENG] and city["fund_code"] == RENCHENG
    county = client.get("/api/v1/journal/verify", headers=county_reviewer).get_json()
    assert county == county_before, "the county's answer neither changes nor names the other county's voucher"
    assert vouchers[RENCHENG] not in str(county)
