"""Idempotency keys: a money-moving request runs once per (user, key).

`run_idempotent` claims the key by inserting an `IdempotencyRecord` in the
request's own transaction, runs the operation and stores its response in the
same record, so the result and the record commit (or roll back) together:

* first request: the operation runs; its (status, body) is stored and returned;
* the same key and the same request fingerprint again: the stored result is
  returned and nothing runs (same voucher number);
* the same key with another fingerprint: `IdempotencyConflict` (409);
* two requests with the same key at the same moment: the unique constraint on
  (user, key) makes the second INSERT wait for the first transaction; when that
  commits, the second finds the record and returns the first result, so exactly
  one entry is made. (On SQLite, BEGIN IMMEDIATE serializes the two anyway.)

A refused request (an error raised by the operation) rolls back with its
transaction and leaves no record, so a corrected retry with the same key works.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from .db_base import Base, dialect_insert
from .errors import Conflict, IdempotencyConflict, _l
from .journal.retry import run_in_savepoint
from .timeutil import utcnow


class IdempotencyRecord(Base):
    """The first result of a money-moving request, keyed by (user, Idempotency-Key)."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),)
    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), nullable=False)
    key = sa.Column(sa.String(200), nullable=False)
    request_hash = sa.Column(sa.String(64), nullable=False, comment="SHA-256 of method, path and body")
    response_status = sa.Column(sa.Integer)
    response_body = sa.Column(sa.JSON)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


records = IdempotencyRecord.__table__


def request_fingerprint(method: str, path: str, body_bytes: bytes | str | None) -> str:
    """SHA-256 over the method, the path and the raw body: what "the same request" means."""
    if isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    digest = hashlib.sha256()
    digest.update(method.upper().encode("ascii"))
    digest.update(b"\n")
    digest.update(path.encode("utf-8"))
    digest.update(b"\n")
    digest.update(body_bytes or b"")
    return digest.hexdigest()


def _insert_claim(session, user_id: int, key: str, request_hash: str):
    statement = (dialect_insert(session, records).values(user_id=user_id, key=key, request_hash=request_hash, created_at=utcnow())
                 .on_conflict_do_nothing(index_elements=["user_id", "key"]).returning(records.c.id))
    return session.execute(statement).scalar_one_or_none()


def _replay(row, request_hash: str):
    if row.request_hash != request_hash:
        raise IdempotencyConflict()
    if row.response_status is None:
        raise Conflict(_l("a request with this Idempotency-Key is still being processed"))
    return row.response_status, row.response_body


def run_idempotent(session, user_id: int, key: str, request_hash: str, operation):
    """Run `operation()` -> (status, body dict) at most once per (user_id, key); see the module doc.

    The caller commits (the stored result commits with the operation's changes).
    """
    session.flush()
    record_id = _insert_claim(session, user_id, key, request_hash)
    if record_id is None:
        row = session.execute(sa.select(records.c.request_hash, records.c.response_status,
                                        records.c.response_body)
                              .where(records.c.user_id == user_id, records.c.key == key)).one()
        return _replay(row, request_hash)
    status, body = run_in_savepoint(session, operation)
    session.execute(records.update().where(records.c.id == record_id)
                    .values(response_status=status, response_body=body))
    return status, body
