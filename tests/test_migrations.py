"""The schema is made by the migrations alone, the same way on SQLite and PostgreSQL:
they go up to head, down to nothing and up again, and they match the models exactly."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from ledger.extensions import db
from tests.conftest import make_test_app

#: Tables of the foundation and the fund ledger that the head revision must hold.
CORE_TABLES = {"regions", "organisations", "users", "api_tokens", "audit_events", "funds", "accounts",
               "journal_entries", "postings", "holds", "periods", "idempotency_records"}


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def _drift(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_downgrade_and_upgrade_again_on_a_blank_database(blank_database_url):
    app = make_test_app(blank_database_url)
    with app.app_context():
        assert _tables(db.engine) == set()

        upgrade()
        assert CORE_TABLES <= _tables(db.engine)
        assert _tables(db.engine) == set(db.metadata.tables), "every model table, and nothing else"

        downgrade(revision="base")
        assert _tables(db.engine) == set(), "downgrade to base leaves no table behind"

        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        db.engine.dispose()


def test_the_migrations_match_the_models(app):
    """Autogenerate finds nothing to do: no table, column, type, index or constraint
    differs between the models and a database built by the migrations."""
    with app.app_context():
        differences = _drift(db.engine)
    assert differences == [], "models and migrations differ:\n" + "\n".join(map(repr, differences))
