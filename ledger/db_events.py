"""Connection settings per database.

SQLite (the embedded default): foreign keys on, WAL journal, and every
transaction begins with BEGIN IMMEDIATE so that two writers never both read a
balance and then both write (the second waits for the first, up to busy_timeout).
PostgreSQL uses row locks taken by the services (SELECT ... FOR NO KEY UPDATE).
"""
from sqlalchemy import event


def install(app, db):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    configure_sqlite_engine(engine)


def configure_sqlite_engine(engine):
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
