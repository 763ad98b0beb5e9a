"""Explicit state machines: one transition table, one refusal, one audit event per move.

Every record with a life cycle (a hold, an accounting month, and the aid
applications, contracts, invoices, referrals and payment batches to come) gets
a `StateMachine`: its states are an enum, its moves a table
`(state, action) -> next state`, and `move(...)` is the only code that writes
the record's state column. A move that is not in the table raises the
machine's error (a `Conflict` subclass naming the record, its state and the
refused action); a legal move writes the new state and, when the machine is
audited, one `audit_events` row (who, what, from, to, why).

Invariants: a state column changes only through `move`; every move is in the
table; every audited move leaves exactly one event in the same transaction.
This module sits below the features and the journal: it imports only the
errors and the audit log, so the journal's holds and periods can use it.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from .audit import record_event
from .errors import Conflict, _l


class IllegalTransition(Conflict):
    """This change is not allowed in the record's current state.

    Rule: a record moves only along its state machine's transition table.
    """

    code = "illegal_transition"


@dataclass(frozen=True)
class StateMachine:
    """The life cycle of one kind of record.

    `name` prefixes the audit actions (`hold.post`); `column` is the attribute
    holding the state; `error` is raised for a move not in `transitions`;
    `audited` says whether each move is written to the audit log (holds are not:
    the voucher that pays a hold is their trace, and a payment run would write
    thousands of events that say nothing the journal does not).
    """

    name: str
    states: type[enum.Enum]
    transitions: Mapping[tuple[enum.Enum, str], enum.Enum]
    error: type[Conflict] = IllegalTransition
    column: str = "state"
    audited: bool = True

    def __post_init__(self):
        for (state, _action), target in self.transitions.items():
            assert isinstance(state, self.states) and isinstance(target, self.states), (state, target)

    def state_of(self, record) -> enum.Enum:
        return self.states(getattr(record, self.column))

    def actions_from(self, state) -> list[str]:
        """The actions allowed from `state`, in table order (what a page offers as buttons)."""
        state = self.states(state)
        return [action for (source, action) in self.transitions if source == state]

    def can(self, record, action: str) -> bool:
        return (self.state_of(record), action) in self.transitions

    def next_state(self, record, action: str) -> enum.Enum:
        """The state `action` leads to from the record's state, or the machine's error."""
        state = self.state_of(record)
        target = self.transitions.get((state, action))
        if target is None:
            label = getattr(record, "id", None)
            raise self.error(
                _l("%(record)s %(id)s is %(state)s; it cannot be %(action)s", record=_word(self.name), id=label,
                   state=_word(state.value), action=_word(_past(action))),
                record=self.name, record_id=label, state=state.value, action=action)
        return target

    def move(self, session, record, action: str, *, user_id: int | None = None, reason: str | None = None,
             target: str | None = None, **detail) -> enum.Enum:
        """Make the move: check it, write the state and log it. Returns the new state."""
        source = self.state_of(record)
        new_state = self.next_state(record, action)
        setattr(record, self.column, new_state)
        if self.audited:
            if reason:
                detail["reason"] = reason
            record_event(session, user_id, f"{self.name}.{action}",
                         target if target is not None else str(getattr(record, "id", "")),
                         **{"from": source.value, "to": new_state.value, **detail})
        return new_state


#: The words of the refusal's sentence, in the reader's language when shown (unknown words stay as they are).
_WORDS = {"hold": _l("hold"), "period": _l("period"), "pending": _l("pending"), "posted": _l("posted"),
          "voided": _l("voided"), "expired": _l("expired"), "open": _l("open"), "closed": _l("closed"),
          "reopened": _l("reopened"), "care_contract": _l("contract"), "draft": _l("draft"),
          "active": _l("active"), "suspended": _l("suspended"), "ended": _l("ended"), "activated": _l("activated"),
          "resumed": _l("resumed")}


def _word(word: str):
    return _WORDS.get(word, word)


def _past(action: str) -> str:
    """'post' -> 'posted', 'void' -> 'voided', 'close' -> 'closed': for the refusal's sentence."""
    if action.endswith("e"):
        return action + "d"
    return action + "ed"
