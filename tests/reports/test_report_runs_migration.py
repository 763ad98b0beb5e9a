"""Migration 0003 creates the report log and removes it cleanly on downgrade."""
from __future__ import annotations

import sqlalchemy as sa

from ledger.extensions import db


def test_report_runs_migration_downgrades_and_upgrades(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        assert "report_runs" in sa.inspect(db.engine).get_table_names()
        downgrade(revision="0002")
        assert "report_runs" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        inspector = sa.inspect(db.engine)
        assert "report_runs" in inspector.get_table_names()
        assert {"job_id", "report_id", "sha256", "requested_by_id", "progress"} <= {
            c["name"] for c in inspector.get_columns("report_runs")}
