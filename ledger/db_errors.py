"""Which database errors mean "the database cannot be reached" (503, retry) rather than a bug (500).

`is_database_unavailable(error)` is true for:

* an error SQLAlchemy recognised as a disconnect (`connection_invalidated`: the server closed
  the connection, e.g. `pg_terminate_backend` or a restart); SQLAlchemy has then invalidated the
  pool, and `pool_pre_ping` checks every connection it hands out, so the next request reconnects;
* a failure to connect at all (an `OperationalError` raised with no statement: refused, no such
  host, the database not accepting connections, an SQLite file that cannot be opened);
* PostgreSQL's connection and shutdown states (SQLSTATE class 08, 57P01-57P03, 53300 too many
  connections), and a pool with no connection free within its timeout.

A statement timeout, a lock timeout or a constraint violation is none of these: those stay
what they are (`ledger.journal.retry` handles deadlocks and serialization failures).
"""
from __future__ import annotations

from sqlalchemy import exc

UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_database_unavailable(error: BaseException | None) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _unavailable(error):
            return True
        error = getattr(error, "original_exception", None) or error.__cause__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError) and error.statement is None:
        return True  # raised while connecting
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state:
        return state.startswith("08") or state in UNAVAILABLE_SQLSTATES
    return False
