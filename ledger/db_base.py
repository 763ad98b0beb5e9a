"""The declarative base shared by every table: plain SQLAlchemy, no Flask.

`ledger.extensions.db` wraps this base for Flask; the journal core imports it
directly so that it can run over any SQLAlchemy session (CLI, tests, benchmarks).
"""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum_column(enum_cls, name: str, **kwargs):
    """An enum stored as text with a CHECK constraint: the same on SQLite and PostgreSQL."""
    return sa.Column(
        sa.Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda e: [m.value for m in e], validate_strings=True),
        **kwargs,
    )


def dialect_insert(session, table):
    """`INSERT` for the session's database with its ON CONFLICT clauses (PostgreSQL or SQLite):
    the two dialects spell upserts the same way in SQLAlchemy but through their own constructs."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(session, table: sa.Table, rows: list[dict]) -> None:
    """Insert many rows at once: COPY on PostgreSQL (`copy_rows`), a multi-row INSERT on SQLite."""
    if not rows:
        return
    if is_postgres(session):
        copy_rows(session, table, rows)
    else:
        session.execute(sa.insert(table), rows)


def copy_rows(session, table: sa.Table, rows: list[dict]) -> None:
    """COPY `rows` (dicts with the same keys) into `table` on the session's PostgreSQL connection,
    inside its transaction. The database's triggers and constraints check them as for an INSERT;
    its errors come out as SQLAlchemy's, as from `session.execute`."""
    columns = list(rows[0])
    connection = session.connection()
    driver = connection.connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            write_row = copy.write_row  # the driver formats each row (in C with psycopg's binary build)
            for row in rows:
                write_row(tuple(row[column] for column in columns))
    except connection.dialect.loaded_dbapi.Error as error:
        invalidated = connection.dialect.is_disconnect(error, driver, None)
        if invalidated:
            connection.invalidate(error)
        raise sa.exc.DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error,
                                         connection_invalidated=invalidated,
                                         dialect=connection.dialect) from error

