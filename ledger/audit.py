"""The audit log: who did what sensitive thing, when, to what.

One table (`audit_events`) for every layer that must leave a trace: the state
machines (a hold posted, a month closed, an application approved), user
administration, token issue and revocation, report downloads, views of a full
resident ID. It sits below the features and the journal (it imports only the
declarative base), so the journal's state moves can be logged without the
journal knowing about users or Flask.

Invariant: events are only ever added; nothing in the product updates or deletes one.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from .db_base import Base
from .timeutil import utcnow


class AuditEvent(Base):
    """Sensitive actions (state moves, period reopen, user changes, token issue/revoke, report downloads)."""

    __tablename__ = "audit_events"
    id = sa.Column(sa.Integer, primary_key=True)
    occurred_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
    action = sa.Column(sa.String(60), nullable=False)
    target = sa.Column(sa.String(200), nullable=False, default="")
    detail = sa.Column(sa.JSON, nullable=False, default=dict)

    user = relationship("User")


def record_event(session, user_id: int | None, action: str, target: str = "", **detail) -> AuditEvent:
    """Add one event to the log (flushed with the caller's transaction, never committed here)."""
    event = AuditEvent(user_id=user_id, action=action, target=str(target), detail=detail, occurred_at=utcnow())
    session.add(event)
    return event
