"""Two-phase commitments (holds), after TigerBeetle's pending transfers.

State machine (one transition table, one error per illegal move):

    pending --post (in full or part; the rest is released)--> posted
    pending --void------------------------------------------> voided
    pending --expiry time passes----------------------------> expired

A pending hold counts against its fund's available balance (`Fund.pending_fen`
is the sum of the fund's pending holds). Every transition runs under the fund's
row lock (taken first, then the hold is read), so a hold is resolved exactly
once even when a payment and a void race. Expiry is lazy: any posting on the
fund, any hold operation on it and the hold listing release the holds past
their time; reads of balances subtract not-yet-released expired holds, so a
reader never sees money held by an expired hold. An expired hold can never be
posted (HoldExpired), even if nobody has released it yet.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from ..errors import NotFound, ValidationError
from ..money import fen_to_decimal_string
from ..timeutil import as_utc, local_today, utcnow
from .errors import HoldExpired, HoldNotPending, InsufficientFunds
from .models import AccountRole, EntryKind, Fund, Hold, HoldState, Side
from .posting import (EntryDraft, Line, _expire_instance, _release_expired_holds, lock_funds, post_entry,
                      set_fund_figures)

#: (state, action) -> next state; anything missing is refused with HoldNotPending.
TRANSITIONS = {
    (HoldState.pending, "post"): HoldState.posted,
    (HoldState.pending, "void"): HoldState.voided,
    (HoldState.pending, "expire"): HoldState.expired,
}


def _transition(hold: Hold, action: str) -> HoldState:
    state = HoldState(hold.state)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise HoldNotPending(f"hold {hold.id} is {state.value}; it cannot be {action}ed",
                             hold_id=hold.id, state=state.value) from None


def _positive_fen(amount_fen, field="amount") -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(fields={field: ["must be a positive whole number of fen"]})
    return amount_fen


def place_hold(session, fund_code: str, amount_fen: int, *, expires_at: datetime, created_by_id: int | None = None,
               now: datetime | None = None, **details) -> Hold:
    """Reserve `amount_fen` of the fund (pending) until `expires_at`."""
    _positive_fen(amount_fen)
    now = now or utcnow()
    if expires_at.tzinfo is None:
        raise ValidationError(fields={"expires_at": ["must carry a time zone"]})
    if as_utc(expires_at) <= now:
        raise ValidationError(fields={"expires_at": ["must be in the future"]})
    session.flush()
    fund = lock_funds(session, [fund_code], now=now)[fund_code]
    if fund.available_fen < amount_fen:
        raise InsufficientFunds(
            f"fund {fund_code} has {fen_to_decimal_string(fund.available_fen)} available; "
            f"the hold needs {fen_to_decimal_string(amount_fen)}",
            fields={"amount": ["more than the fund has available"]}, fund_code=fund_code,
            available_fen=fund.available_fen)
    fund.pending_fen += amount_fen
    set_fund_figures(session, fund)
    hold = Hold(fund_id=fund.id, amount_fen=amount_fen, posted_fen=0, state=HoldState.pending,
                expires_at=as_utc(expires_at), created_at=now, created_by_id=created_by_id,
                memo=details.pop("memo", "") or "", **details)
    session.add(hold)
    session.flush()
    return hold


def _locked_hold(session, hold_id: int, now: datetime, value_on: date | None = None):
    """Lock the hold's fund first (the fixed order: fund, then hold), then read the hold afresh."""
    fund_code = session.scalar(sa.select(Fund.code).join(Hold, Hold.fund_id == Fund.id).where(Hold.id == hold_id))
    if fund_code is None:
        raise NotFound(f"no hold {hold_id}")
    locked = lock_funds(session, [fund_code], value_on=value_on, now=now, release_expired=False)
    query = sa.select(Hold).where(Hold.id == hold_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    hold = session.scalars(query).one()
    return hold, locked


def post_hold(session, hold_id: int, amount_fen: int | None = None, *, value_on: date | None = None, memo: str = "",
              created_by_id: int | None = None, idempotency_key: str | None = None, now: datetime | None = None):
    """Pay a pending hold in full (amount None) or in part; the rest is released. Returns the entry."""
    now = now or utcnow()
    value_on = value_on or local_today()
    session.flush()
    hold, locked = _locked_hold(session, hold_id, now, value_on)
    if HoldState(hold.state) == HoldState.pending and as_utc(hold.expires_at) <= now:
        raise HoldExpired(f"hold {hold.id} expired at {as_utc(hold.expires_at):%Y-%m-%d %H:%M} UTC",
                          hold_id=hold.id)
    next_state = _transition(hold, "post")
    amount_fen = hold.amount_fen if amount_fen is None else _positive_fen(amount_fen)
    if amount_fen > hold.amount_fen:
        raise ValidationError(fields={"amount": [
            f"must not exceed the hold's {fen_to_decimal_string(hold.amount_fen)}"]})
    fund_code = next(iter(locked))
    entry = post_entry(session, EntryDraft(
        kind=EntryKind.hold_post, value_on=value_on, chain_fund_code=fund_code,
        lines=[Line(fund_code, AccountRole.aid_expense, Side.debit, amount_fen),
               Line(fund_code, AccountRole.cash, Side.credit, amount_fen)],
        memo=memo or hold.memo, purpose=hold.purpose, counterparty_kind=hold.payee_kind,
        counterparty_name=hold.payee_name, counterparty_id_number=hold.payee_id_number,
        created_by_id=created_by_id, idempotency_key=idempotency_key, hold_id=hold.id,
        release_pending={fund_code: hold.amount_fen}), now=now, locked=locked)
    hold.state = next_state
    hold.posted_fen = amount_fen
    hold.resolved_at = now
    session.flush()
    return entry


def void_hold(session, hold_id: int, *, reason: str = "", now: datetime | None = None) -> Hold:
    """Release a pending hold without paying it."""
    now = now or utcnow()
    session.flush()
    hold, locked = _locked_hold(session, hold_id, now)
    if HoldState(hold.state) == HoldState.pending and as_utc(hold.expires_at) <= now:
        _expire_locked(session, hold, locked, now)
        raise HoldNotPending(f"hold {hold.id} has expired; its money is already released", hold_id=hold.id,
                             state=HoldState.expired.value)
    hold.state = _transition(hold, "void")
    hold.resolved_at = now
    if reason:
        hold.memo = f"{hold.memo}\n作废原因: {reason}".strip() if hold.memo else f"作废原因: {reason}"
    fund = next(iter(locked.values()))
    fund.pending_fen -= hold.amount_fen
    set_fund_figures(session, fund)
    session.flush()
    return hold


def _expire_locked(session, hold, locked, now):
    hold.state = _transition(hold, "expire")
    hold.resolved_at = now
    fund = next(iter(locked.values()))
    fund.pending_fen -= hold.amount_fen
    set_fund_figures(session, fund)
    session.flush()


def release_expired_holds(session, fund_codes=None, *, now: datetime | None = None) -> int:
    """Release every expired pending hold (of `fund_codes`, or of all funds). Returns how many.

    Takes the funds' locks; a periodic job or the hold listing calls it.
    """
    now = now or utcnow()
    query = (sa.select(Fund.code).join(Hold, Hold.fund_id == Fund.id)
             .where(Hold.state == HoldState.pending, Hold.expires_at <= now).distinct())
    if fund_codes is not None:
        query = query.where(Fund.code.in_(list(fund_codes)))
    codes = list(session.scalars(query))
    if not codes:
        return 0
    locked = lock_funds(session, codes, now=now, release_expired=False)
    return _release_expired_holds(session, list(locked.values()), now)


def expired_pending_by_fund(session, now: datetime | None = None) -> dict[int, int]:
    """fund id -> fen still counted as pending although its holds have expired (not yet released)."""
    now = now or utcnow()
    rows = session.execute(sa.select(Hold.fund_id, sa.func.sum(Hold.amount_fen))
                           .where(Hold.state == HoldState.pending, Hold.expires_at <= now)
                           .group_by(Hold.fund_id))
    return {fund_id: int(total) for fund_id, total in rows}


__all__ = ["place_hold", "post_hold", "void_hold", "release_expired_holds", "expired_pending_by_fund",
           "TRANSITIONS", "_expire_instance"]
