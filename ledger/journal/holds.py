"""Two-phase commitments (holds), after TigerBeetle's pending transfers.

The life of a hold (`HOLD_MACHINE`, the only writer of `Hold.state`):

    pending --post (in full or part; the rest is released)--> posted
    pending --void------------------------------------------> voided
    pending --expire (its expiry time passes)---------------> expired

A pending hold counts against its fund's available balance (`Fund.pending_fen`
is the sum of the fund's pending holds). Whether a hold still binds money at a
moment is one predicate, `is_live` (pending and not yet expired), with its SQL
twin `live_condition`. Every transition runs under the fund's row lock (taken
first, then the hold is read), so a hold is resolved exactly once even when a
payment and a void race. Expiry is lazy: any posting on the fund, any hold
operation on it and the hold listing release the holds past their time
(`posting.release_expired_on_locked`, the machine's expire move in bulk);
reads of balances subtract not-yet-released expired holds, so a reader never
sees money held by an expired hold. An expired hold can never be posted
(HoldExpired), even if nobody has released it yet.

`post_holds` pays many holds in one batch of the posting engine (a payment run);
`post_hold` is a batch of one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ..db_base import is_postgres
from ..errors import NotFound, ValidationError, _l
from ..money import fen_to_decimal_string
from ..statemachine import StateMachine
from ..timeutil import as_utc, local_today, utcnow
from .errors import HoldExpired, HoldNotPending, InsufficientFunds
from .models import AccountRole, EntryKind, Fund, Hold, HoldState, JournalEntry, Side
from .dates import check_hold_expiry
from .posting import (EntryDraft, Line, LockedFund, lock_funds, post_entries, release_expired_on_locked,
                      write_fund_figures)

#: Not audited: the voucher that pays a hold is its trace, and a payment run would write an
#: event per hold that says nothing the journal does not.
HOLD_MACHINE = StateMachine(
    name="hold", states=HoldState, error=HoldNotPending, audited=False,
    transitions={(HoldState.pending, "post"): HoldState.posted,
                 (HoldState.pending, "void"): HoldState.voided,
                 (HoldState.pending, "expire"): HoldState.expired})


def is_live(hold: Hold, now: datetime | None = None) -> bool:
    """Whether the hold still binds its money at `now`: pending and before its expiry time."""
    return HoldState(hold.state) == HoldState.pending and as_utc(hold.expires_at) > (now or utcnow())


def live_condition(now: datetime):
    """`is_live` as a SQL condition on `Hold`."""
    return sa.and_(Hold.state == HoldState.pending, Hold.expires_at > now)


def expired_unreleased_condition(now: datetime):
    """Holds still counted as pending although their time has passed (not yet released)."""
    return sa.and_(Hold.state == HoldState.pending, Hold.expires_at <= now)


def _positive_fen(amount_fen, field="amount") -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(fields={field: [_l("must be a positive whole number of fen")]})
    return amount_fen


def place_hold(session, fund_code: str, amount_fen: int, *, expires_at: datetime, created_by_id: int | None = None,
               now: datetime | None = None, **details) -> Hold:
    """Reserve `amount_fen` of the fund (pending) until `expires_at`."""
    _positive_fen(amount_fen)
    now = now or utcnow()
    expires_at = check_hold_expiry(expires_at, now=now)
    session.flush()
    fund = lock_funds(session, [fund_code], now=now)[fund_code]
    if fund.available_fen < amount_fen:
        raise InsufficientFunds(
            _l("fund %(fund)s has %(available)s available; the hold needs %(amount)s", fund=fund_code,
               available=fen_to_decimal_string(fund.available_fen), amount=fen_to_decimal_string(amount_fen)),
            fields={"amount": [_l("more than the fund has available")]}, fund_code=fund_code,
            available_fen=fund.available_fen)
    fund.pending_fen += amount_fen
    write_fund_figures(session, [fund])
    hold = Hold(fund_id=fund.id, amount_fen=amount_fen, posted_fen=0, state=HoldState.pending,
                expires_at=as_utc(expires_at), created_at=now, created_by_id=created_by_id,
                memo=details.pop("memo", "") or "", **details)
    session.add(hold)
    session.flush()
    return hold


def _locked_holds(session, hold_ids: list[int], now: datetime, months=()):
    """Lock the holds' funds first (the fixed order: funds, then holds), then read the holds afresh.
    Returns ({hold id: Hold}, {fund code: LockedFund}, {hold id: fund code})."""
    fund_of = dict(session.execute(sa.select(Hold.id, Fund.code).join(Fund, Fund.id == Hold.fund_id)
                                   .where(Hold.id.in_(hold_ids))).all())
    for hold_id in hold_ids:
        if hold_id not in fund_of:
            raise NotFound(_l("no hold %(hold)s", hold=hold_id))
    locked = lock_funds(session, set(fund_of.values()), months=months, now=now, release_expired=False)
    query = (sa.select(Hold).where(Hold.id.in_(hold_ids)).order_by(Hold.id)
             .execution_options(populate_existing=True))
    if is_postgres(session):
        query = query.with_for_update(key_share=True)
    holds = {hold.id: hold for hold in session.scalars(query)}
    return holds, locked, fund_of


@dataclass(frozen=True)
class HoldPayment:
    """One hold to pay in a run: in full (`amount_fen` None) or in part (the rest is released)."""

    hold_id: int
    amount_fen: int | None = None
    value_on: date | None = None
    memo: str = ""
    idempotency_key: str | None = None
    source_kind: str | None = None
    source_id: int | None = None


def post_holds(session, payments: list[HoldPayment], *, created_by_id: int | None = None,
               now: datetime | None = None):
    """Pay pending holds, all in one batch of the posting engine: all or nothing. Returns the
    `PostedEntry`s in the payments' order. A hold that is not pending, has expired or would be
    overpaid refuses the whole run, naming the hold."""
    now = now or utcnow()
    session.flush()
    hold_ids = [payment.hold_id for payment in payments]
    if len(set(hold_ids)) != len(hold_ids):
        raise ValidationError(fields={"holds": [_l("each hold can be paid once in a run")]})
    value_dates = [payment.value_on or local_today() for payment in payments]
    holds, locked, fund_of = _locked_holds(session, hold_ids, now, {f"{d.year:04d}-{d.month:02d}"
                                                                    for d in value_dates})
    drafts = []
    for payment, value_on in zip(payments, value_dates):
        hold = holds[payment.hold_id]
        if HoldState(hold.state) == HoldState.pending and not is_live(hold, now):
            raise HoldExpired(_l("hold %(hold)s expired at %(time)s UTC", hold=hold.id,
                                 time=f"{as_utc(hold.expires_at):%Y-%m-%d %H:%M}"),
                              hold_id=hold.id)
        HOLD_MACHINE.next_state(hold, "post")
        amount_fen = hold.amount_fen if payment.amount_fen is None else _positive_fen(payment.amount_fen)
        if amount_fen > hold.amount_fen:
            raise ValidationError(fields={"amount": [
                _l("must not exceed the hold's %(amount)s", amount=fen_to_decimal_string(hold.amount_fen))]},
                hold_id=hold.id)
        fund_code = fund_of[hold.id]
        drafts.append(EntryDraft(
            kind=EntryKind.hold_post, value_on=value_on, chain_fund_code=fund_code,
            lines=[Line(fund_code, AccountRole.aid_expense, Side.debit, amount_fen),
                   Line(fund_code, AccountRole.cash, Side.credit, amount_fen)],
            memo=payment.memo or hold.memo, purpose=hold.purpose, counterparty_kind=hold.payee_kind,
            counterparty_name=hold.payee_name, counterparty_id_number=hold.payee_id_number,
            created_by_id=created_by_id, idempotency_key=payment.idempotency_key, hold_id=hold.id,
            source_kind=payment.source_kind, source_id=payment.source_id,
            release_pending={fund_code: hold.amount_fen}))
    posted = post_entries(session, drafts, now=now, locked=locked)
    for draft in drafts:
        hold = holds[draft.hold_id]
        HOLD_MACHINE.move(session, hold, "post")
        hold.posted_fen = draft.lines[0].amount_fen
        hold.resolved_at = now
    session.flush()
    return posted


def post_hold(session, hold_id: int, amount_fen: int | None = None, *, value_on: date | None = None, memo: str = "",
              created_by_id: int | None = None, idempotency_key: str | None = None, now: datetime | None = None,
              source_kind: str | None = None, source_id: int | None = None) -> JournalEntry:
    """Pay a pending hold in full (amount None) or in part; the rest is released. Returns the entry."""
    posted = post_holds(session, [HoldPayment(hold_id, amount_fen, value_on, memo, idempotency_key, source_kind,
                                              source_id)], created_by_id=created_by_id, now=now)[0]
    return session.get(JournalEntry, posted.id)


def void_hold(session, hold_id: int, *, reason: str = "", now: datetime | None = None) -> Hold:
    """Release a pending hold without paying it."""
    now = now or utcnow()
    session.flush()
    holds, locked, _ = _locked_holds(session, [hold_id], now)
    hold = holds[hold_id]
    fund = next(iter(locked.values()))
    if HoldState(hold.state) == HoldState.pending and not is_live(hold, now):
        _release(session, hold, fund, "expire", now)
        raise HoldNotPending(_l("hold %(hold)s has expired; its money is already released", hold=hold.id),
                             hold_id=hold.id,
                             state=HoldState.expired.value)
    HOLD_MACHINE.next_state(hold, "void")
    if reason:
        hold.memo = f"{hold.memo}\n作废原因：{reason}".strip() if hold.memo else f"作废原因：{reason}"
    _release(session, hold, fund, "void", now)
    return hold


def _release(session, hold: Hold, fund: LockedFund, action: str, now: datetime) -> None:
    HOLD_MACHINE.move(session, hold, action)
    hold.resolved_at = now
    fund.pending_fen -= hold.amount_fen
    write_fund_figures(session, [fund])
    session.flush()


def release_expired_holds(session, fund_codes=None, *, now: datetime | None = None) -> int:
    """Release every expired pending hold (of `fund_codes`, or of all funds). Returns how many.

    Takes the funds' locks; a periodic job or the hold listing calls it.
    """
    now = now or utcnow()
    query = (sa.select(Fund.code).join(Hold, Hold.fund_id == Fund.id)
             .where(expired_unreleased_condition(now)).distinct())
    if fund_codes is not None:
        query = query.where(Fund.code.in_(list(fund_codes)))
    codes = list(session.scalars(query))
    if not codes:
        return 0
    locked = lock_funds(session, codes, now=now, release_expired=False)
    return release_expired_on_locked(session, list(locked.values()), now)


def expired_pending_by_fund(session, now: datetime | None = None) -> dict[int, int]:
    """fund id -> fen still counted as pending although its holds have expired (not yet released)."""
    now = now or utcnow()
    rows = session.execute(sa.select(Hold.fund_id, sa.func.sum(Hold.amount_fen))
                           .where(expired_unreleased_condition(now)).group_by(Hold.fund_id))
    return {fund_id: int(total) for fund_id, total in rows}
